"""The raw-event archive: Kafka records as compressed Parquet objects in S3 (group ``archival``).

No Spark: the archive is the safety copy and must keep working when Spark or the lake is broken.
"""
