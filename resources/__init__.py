"""Dagster resources (``ConfigurableResource``s over the product's clients). They import only
``analytics_pipeline``; ``orchestration/resources.py`` binds them to the settings."""
