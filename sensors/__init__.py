"""Dagster sensors over the streams."""
