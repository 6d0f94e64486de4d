"""The metadata-index consumer group: per-event metadata into the metadata database."""
