"""All configuration in one place: environment variables prefixed ``ANALYTICS_``.

Nothing reads the environment at import time; call :func:`get_settings` (cached) or build a
``Settings(...)`` explicitly, as the tests do.
"""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Topic layout per profile: a laptop wants few partitions and no replication; production wants
# the design's 100 partitions, three replicas and acknowledgement from two of them.
_PROFILE_TOPIC_DEFAULTS: dict[str, dict[str, int]] = {
    "local": {"partitions": 3, "replication_factor": 1, "min_insync_replicas": 1},
    "production": {"partitions": 100, "replication_factor": 3, "min_insync_replicas": 2},
}
# A 3-broker cluster (ANALYTICS_KAFKA_BROKERS=3): survives one broker, refuses writes without two.
_CLUSTER_REPLICATION = {"replication_factor": 3, "min_insync_replicas": 2}


class Settings(BaseSettings):
    """Every knob of the pipeline; the field name upper-cased after ``ANALYTICS_`` is its variable."""

    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", extra="ignore")

    profile: Literal["local", "production"] = "local"
    home: Path = Field(Path(".local"), description="State of locally managed services: data, logs, pids.")
    jars_dir: Path | None = Field(None, description="JVM jars fetched by Maven; default: {home}/jars.")

    # --- Kafka ---
    kafka_brokers: int = Field(
        1, description="Nodes of the local KRaft cluster: 1, or 3 (a 3-voter quorum, 3 replicas)."
    )
    kafka_bootstrap_servers: str = Field(
        "", description="Default: 127.0.0.1:9092 (3 brokers: 127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096)."
    )
    kafka_controller_port: str = Field(
        "", description="KRaft controller port of each local node, comma-separated: 9093 (3: 9093,9095,9097)."
    )
    kafka_topic_partitions: int | None = Field(
        None, ge=1, description="Default: 3 (local), 100 (production)."
    )
    kafka_replication_factor: int | None = Field(
        None, ge=1, description="Default: 1 (local), 3 (production, or 3 local brokers)."
    )
    kafka_min_insync_replicas: int | None = Field(
        None, ge=1, description="Default: 1 (local), 2 (production, or 3 local brokers)."
    )
    kafka_produce_timeout_s: float = Field(5.0, gt=0, description="Longest wait for acks=all before a 503.")
    kafka_delivery_timeout_s: float | None = Field(
        None,
        gt=0,
        description="How long the ingestion producer keeps an event answered 503 (its eventId stays "
        "claimed meanwhile); default: the produce timeout with one broker, 30 s with three.",
    )
    kafka_broker_heap: str = Field("768m", description="-Xmx of the local broker JVM.")
    java_home: Path | None = Field(
        None, description="JDK for the local broker (Java 17+); default: java on PATH."
    )

    # --- Redis ---
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_maxmemory: str = Field("2gb", description="maxmemory of the local Redis (allkeys-lru beyond it).")
    redis_timeout_s: float = Field(1.0, gt=0, description="Socket timeout of every Redis call.")

    # --- circuit breaker around Redis (design: 50 % failures in 1 min, 1 s timeout, 30 s half-open) ---
    breaker_failure_ratio: float = Field(0.5, gt=0, le=1)
    breaker_window_s: float = Field(60.0, gt=0)
    breaker_min_calls: int = Field(5, ge=1, description="Calls in the window before the ratio is judged.")
    breaker_reset_timeout_s: float = Field(30.0, gt=0)

    # --- metadata store (projects, API key hashes, schemas) ---
    metadata_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite at {home}/metadata.db."
    )

    # --- ingestion service ---
    ingest_host: str = "127.0.0.1"
    ingest_port: int = 8000
    ingest_workers: int = Field(
        default_factory=lambda: min(os.cpu_count() or 1, 4),
        ge=1,
        description="uvicorn worker processes of the ingestion API; default: one per CPU, at most 4 "
        "(each holds about 110 MB; a laptop's `make up` should not start sixteen).",
    )
    dedup_ttl_s: int = Field(86_400, ge=1, description="How long an accepted eventId blocks its duplicates.")
    max_future_skew_s: int = Field(
        3_600, ge=0, description="Latest accepted timestamp, ahead of receive time."
    )
    max_event_age_s: int = Field(
        30 * 86_400, ge=0, description="Oldest accepted timestamp, behind receive time."
    )
    max_event_bytes: int = Field(32 * 1024, ge=1)
    max_batch_bytes: int = Field(500 * 1024, ge=1)
    max_batch_events: int = Field(2_500, ge=1)
    rate_limit_project: str = Field("10000/second", description="`limits` notation, per project.")
    rate_limit_event_type: str | None = Field(None, description="Optional limit per project and eventType.")
    rate_limit_user: str | None = Field(None, description="Optional limit per project and userId.")
    schema_cache_ttl_s: int = Field(86_400, description="Redis TTL of a cached schema (design: 24 h).")
    schema_miss_ttl_s: int = Field(3_600, description="Redis TTL of a cached 'no schema' (design: 1 h).")
    schema_local_ttl_s: float = Field(
        5.0, description="In-process cache; a new schema version applies within it."
    )
    api_key_cache_ttl_s: float = Field(30.0, description="In-process cache of key hash -> project.")

    # --- streaming worker ---
    stream_group: str = Field("stream-processing", description="Consumer group of the streaming workers.")
    stream_host: str = Field("127.0.0.1", description="Where a worker serves /metrics (its health check).")
    stream_metrics_port: int = 8002
    stream_max_batch: int = Field(1_000, ge=1, description="Most records one batch (one Redis script) takes.")
    stream_poll_timeout_ms: int = Field(500, ge=1)
    stream_topic_refresh_s: float = Field(10.0, gt=0, description="New projects are consumed within this.")
    stream_processed_ttl_s: int = Field(
        86_400,
        ge=1,
        description="processed:{project}:{eventId} prevents a recount this long at least, and while "
        "any window the event counted into is held.",
    )
    stream_max_attempts: int = Field(3, ge=1, description="Tries of one failing event before the DLQ.")
    stream_retry_budget_s: float = Field(
        30.0, gt=0, description="Retry a batch this long (Redis/Kafka down) before re-polling it."
    )
    stream_stall_timeout_s: float = Field(
        120.0, gt=0, description="A worker whose loop makes no progress this long exits to be restarted."
    )
    dlq_redrive_chunk: int = Field(
        500, ge=1, description="Dead letters a redrive sends, waits for and records at a time."
    )
    metric_ttl_windows: float = Field(
        2.0, gt=0, description="A window's aggregates live this many window widths after its start."
    )

    # --- query service ---
    query_host: str = "127.0.0.1"
    query_port: int = 8001
    query_max_windows: int = Field(1_440, ge=1, description="Most windows one metrics query may span.")
    query_engine: Literal["duckdb", "spark"] = Field(
        "duckdb", description="SQL engine: DuckDB in the service, or Spark SQL on ANALYTICS_SPARK_MASTER."
    )
    query_time_limit_s: float = Field(10.0, gt=0, description="Longest one SQL query may run.")
    query_max_rows: int = Field(10_000, ge=1, description="Most rows one SQL answer may hold.")
    query_cache_ttl_s: int = Field(
        3_600, ge=1, description="How long a SQL answer stays in Redis (query:{hash})."
    )
    query_lake_slots: int = Field(2, ge=1, description="Lakehouse queries one query service runs at once.")
    query_queue_wait_s: float = Field(
        2.0, ge=0, description="How long a lakehouse query waits for a turn before a 503."
    )

    # --- metadata index (consumer group metadata-index) ---
    index_group: str = Field("metadata-index", description="Kafka group of the metadata indexer.")
    index_host: str = Field("127.0.0.1", description="Where the indexer serves /metrics (its health check).")
    index_metrics_port: int = Field(8003, description="That port.")
    index_max_batch: int = Field(
        1_000, ge=1, description="Most events written to the index in one transaction."
    )
    event_index_retention_s: int = Field(
        7 * 86_400, ge=3_600, description="How long an event stays in the index (the lake keeps it)."
    )

    # --- metrics exporter (`analytics exporter`) and the alarms of `analytics status` ---
    exporter_host: str = Field("127.0.0.1", description="Where the exporter serves /metrics.")
    exporter_port: int = Field(8004, description="That port (Prometheus scrapes it).")
    exporter_interval_s: float = Field(5.0, gt=0, description="How often the exporter reads Kafka.")
    leader_election_alarm_s: float = Field(
        900.0, gt=0, description="`analytics status` alarms on leader elections seen within this."
    )

    # --- Dagster ---
    dagster_url: str = Field("http://127.0.0.1:3000", description="The webserver the worker reports to.")
    stream_report_interval_s: float = Field(
        60.0, gt=0, description="How often the worker reports realtime_metrics to Dagster."
    )

    # --- lakehouse (Spark + Delta) ---
    spark_master: str = Field("local[*]", description="Spark master URL; a cluster is only this setting.")
    spark_driver_memory: str = Field("1g", description="spark.driver.memory of a run's own Spark.")
    spark_connect_url: str = Field(
        "sc://127.0.0.1:15002",
        description="The long-lived Spark Connect server lake runs use (`make up` starts it on "
        "loopback, on spark_master); empty: each run starts a Spark of its own.",
    )
    spark_server_memory: str = Field("2g", description="spark.driver.memory of the Spark Connect server.")
    lake_dir: str | None = Field(
        None, description="Root of the Delta tables: a path or an s3a:// URL; default: {home}/lake."
    )
    lake_start_date: date = Field(date(2026, 1, 1), description="First daily_metrics partition (UTC day).")
    etl_group: str = Field("batch-etl", description="Kafka group whose offsets the batch ETL commits.")
    etl_sensor_interval_s: int = Field(5, ge=5, description="How often kafka_offsets_sensor looks at Kafka.")
    etl_batch_size: int = Field(50_000, ge=1, description="Pending records that start an ETL run at once.")
    etl_max_wait_s: float = Field(
        0.0, ge=0, description="How long pending records wait for more before an ETL run is asked for."
    )
    lake_dedup_window_s: int = Field(
        3_600,
        ge=0,
        description="validated_events drops an event held already when received this close to it.",
    )
    lake_judge_in_jvm: bool = Field(
        False,
        description="The ETL decides records the JVM proves valid there, Python the rest (slower here).",
    )
    etl_max_records_per_run: int = Field(
        500_000, ge=1, description="Most records one ETL run reads; a backlog becomes several runs."
    )
    quality_recheck_s: int = Field(
        900, ge=5, description="How often days the quality gate held back are computed again."
    )

    # --- hot partitions (hot_partition_sensor; the design: lag above 2x the average for 5 min) ---
    hot_partition_factor: float = Field(
        2.0, gt=1, description="Hot: lag (or last-minute produce rate) above this times its topic's average."
    )
    hot_partition_sustain_s: float = Field(
        300.0, ge=0, description="How long a partition's lag must stay hot before the alert."
    )
    hot_partition_min_records: int = Field(
        1_000, ge=1, description="Smallest lag, or last-minute produce count, that can be hot."
    )
    hot_partition_interval_s: int = Field(30, ge=5, description="How often hot_partition_sensor ticks.")

    # --- object storage (S3) and archival (consumer group archival) ---
    s3_endpoint_url: str = Field(
        "http://127.0.0.1:9000",
        description="S3 API endpoint: the local S3 server, or e.g. https://s3.eu-west-1.amazonaws.com.",
    )
    s3_region: str = Field("us-east-1", description="Region the S3 requests are signed for.")
    s3_access_key_id: str | None = Field(
        None, description="Default: the local server's own key on loopback, else AWS_ACCESS_KEY_ID."
    )
    s3_secret_access_key: SecretStr | None = Field(
        None, description="Default: the local server's own secret on loopback, else AWS_SECRET_ACCESS_KEY."
    )
    s3_server_heap: str = Field("256m", description="-Xmx of the local S3 server JVM.")
    archive_bucket: str = Field("analytics-archive", description="Bucket of the raw-event archive.")
    archive_group: str = Field("archival", description="Kafka group whose offsets archival commits.")
    archive_sensor_interval_s: int = Field(30, ge=5, description="How often archival_sensor looks at Kafka.")
    archive_batch_size: int = Field(50_000, ge=1, description="Pending records that start an archive run.")
    archive_max_wait_s: float = Field(60.0, ge=0, description="Longest a record waits for its archive run.")
    archive_max_records_per_run: int = Field(
        100_000, ge=1, description="Most records one archive run reads (one object per partition range)."
    )
    archive_max_lag_s: int = Field(
        86_400, ge=60, description="archive_keeps_up fails when an unarchived record is older than this."
    )

    # --- SDK / load generator ---
    api_url: str | None = Field(
        None, description="Where `analytics generate` and the demo send; default: the local ingestion API."
    )
    api_key: SecretStr | None = Field(None, description="API key used by `analytics generate`.")

    @field_validator("kafka_brokers")
    @classmethod
    def _one_or_three_brokers(cls, value: int) -> int:
        if value not in (1, 3):  # two voters cannot lose one; three can
            raise ValueError("kafka_brokers (ANALYTICS_KAFKA_BROKERS) must be 1 or 3")
        return value

    @model_validator(mode="after")
    def _apply_profile_defaults(self) -> Settings:
        defaults = _PROFILE_TOPIC_DEFAULTS[self.profile]
        if self.kafka_brokers == 3:  # a local cluster that can lose a broker: the production layout
            defaults = {**defaults, **_CLUSTER_REPLICATION}
        if self.kafka_topic_partitions is None:
            self.kafka_topic_partitions = defaults["partitions"]
        if self.kafka_replication_factor is None:
            self.kafka_replication_factor = defaults["replication_factor"]
        if self.kafka_min_insync_replicas is None:
            self.kafka_min_insync_replicas = defaults["min_insync_replicas"]
        return self

    @model_validator(mode="after")
    def _place_local_kafka_nodes(self) -> Settings:
        """One broker address and one controller port per local node, in the same order."""
        nodes = range(self.kafka_brokers)
        if not self.kafka_bootstrap_servers:
            self.kafka_bootstrap_servers = ",".join(f"127.0.0.1:{9092 + 2 * i}" for i in nodes)
        if not self.kafka_controller_port:
            self.kafka_controller_port = ",".join(str(9093 + 2 * i) for i in nodes)
        ports = self.kafka_controller_port.split(",")
        if len(ports) != self.kafka_brokers or not all(p.strip().isdigit() for p in ports):
            raise ValueError(
                f"ANALYTICS_KAFKA_CONTROLLER_PORT={self.kafka_controller_port!r}: give "
                f"{self.kafka_brokers} port(s), comma-separated, one per node (ANALYTICS_KAFKA_BROKERS)"
            )
        servers = self.kafka_bootstrap_servers.split(",")
        if self.kafka_brokers > 1 and len(servers) != self.kafka_brokers:
            raise ValueError(
                f"ANALYTICS_KAFKA_BOOTSTRAP_SERVERS lists {len(servers)} address(es); with "
                f"ANALYTICS_KAFKA_BROKERS={self.kafka_brokers} it must list every broker"
            )
        return self

    def as_environment(self) -> dict[str, str]:
        """These settings as ANALYTICS_* variables, for child processes that must share them."""
        env = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, Path):
                value = value.resolve()
            env[f"ANALYTICS_{name.upper()}"] = str(value)
        return env

    @property
    def ingest_api_url(self) -> str:
        return self.api_url or f"http://{self.ingest_host}:{self.ingest_port}"

    @property
    def query_api_url(self) -> str:
        return f"http://{self.query_host}:{self.query_port}"

    @property
    def lake_root(self) -> str:
        return self.lake_dir or str((self.home / "lake").resolve())

    @property
    def jar_root(self) -> Path:
        return (self.jars_dir or self.home / "jars").resolve()

    @property
    def metadata_database_url(self) -> str:
        return self.metadata_url or f"sqlite:///{self.home.resolve() / 'metadata.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
