"""What the lakehouse tables' rows hold (Spark schemas and column lists); where they live is
``lakehouse.paths``."""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    DateType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

BRONZE_COLUMNS = (
    "topic",
    "partition",
    "offset",
    "key",
    "value",
    "kafkaTimestamp",
    "projectId",
    "eventDate",
    "receivedAt",
    "batchId",
    "ingestedAt",
)

# What barred a record from validated_events, in the order it is judged: the raw-record contract
# every consumer shares, the property schema it was accepted under, the row-level quality rules.
CONTRACT, SCHEMA, EXPECTATION = "contract", "schema", "expectation"
JUDGED_BY = (CONTRACT, SCHEMA, EXPECTATION)

# What the shared contract makes of one record (``parse.judgment_of``).
JUDGMENT_SCHEMA = StructType(
    [
        StructField("valid", BooleanType(), False),
        StructField("problems", ArrayType(StringType(), False), False),
        StructField("stage", StringType(), True),  # what barred an invalid record (JUDGED_BY)
        StructField("projectId", StringType(), True),  # from the topic when the record is invalid
        StructField("eventDate", DateType(), True),  # UTC date of the event time, when it parses
        StructField("receivedAt", TimestampType(), True),
        StructField("eventId", StringType(), True),
        StructField("eventType", StringType(), True),
        StructField("userId", StringType(), True),
        StructField("timestamp", TimestampType(), True),
        StructField("properties", StringType(), True),  # JSON object text
        StructField("context", StringType(), True),  # JSON object text
        StructField("schemaVersion", IntegerType(), True),  # the property schema judged by, if any
    ]
)

# One row per Kafka record read: where it came from and its bytes, then the judgment's fields.
SOURCE_SCHEMA = StructType(
    [
        StructField("topic", StringType(), False),
        StructField("partition", IntegerType(), False),
        StructField("offset", LongType(), False),
        StructField("key", BinaryType(), True),
        StructField("value", BinaryType(), True),
        StructField("kafkaTimestamp", TimestampType(), True),
        StructField("batchId", StringType(), False),
        StructField("ingestedAt", TimestampType(), False),
    ]
)
PARSED_SCHEMA = StructType(SOURCE_SCHEMA.fields + JUDGMENT_SCHEMA.fields)

VALIDATED_COLUMNS = (
    "projectId",
    "eventDate",
    "eventId",
    "eventType",
    "userId",
    "timestamp",
    "receivedAt",
    "properties",
    "context",
    "schemaVersion",
    "topic",
    "partition",
    "offset",
    "batchId",
)
VALIDATED_PARTITIONS = ("projectId", "eventDate")

QUARANTINE_COLUMNS = (
    "topic",
    "partition",
    "offset",
    "projectId",
    "eventDate",
    "eventId",  # this and the next two: null when the record broke the contract
    "eventType",
    "timestamp",
    "key",
    "value",
    "reason",
    "problems",
    "stage",
    "batchId",
    "ingestedAt",
)

DAILY_METRICS_PARTITIONS = ("metricDate",)
