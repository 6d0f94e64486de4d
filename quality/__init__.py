"""Data quality: pure validators (no dagster import) and thin asset checks over them."""
