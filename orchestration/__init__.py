"""The Dagster code location: one ``Definitions``, built in ``definitions.py``."""
