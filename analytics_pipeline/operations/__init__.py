"""Operating the pipeline: what runs, how far each consumer group is behind, and alarms."""
