"""Dagster assets: the streams (external, observed) and, in later issues, the lakehouse."""
