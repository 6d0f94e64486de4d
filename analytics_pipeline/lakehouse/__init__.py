"""The lakehouse's Spark side: sessions with Delta and the Kafka batch source (no dagster import)."""
