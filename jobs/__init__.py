"""Dagster jobs and their schedules."""
