"""Dagster resources over the clients of ``analytics_pipeline`` (which never imports dagster)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import redis
from dagster_aws.s3 import S3Resource
from pyspark.sql import SparkSession

from analytics_pipeline.archive.object_store import ArchiveStore
from analytics_pipeline.deadletters.counts import LetterCount, letter_counts
from analytics_pipeline.events.quality_rules import DEFAULT_CURRENCIES, QualityRules
from analytics_pipeline.kafka_io.admin import (
    TopicRecord,
    commit_group_offsets,
    committed_offsets,
    committed_with_metadata,
    partition_tails,
    raw_partition_end_offsets,
    raw_topic_end_offsets,
    read_spans,
)
from analytics_pipeline.lakehouse.batch_plan import BatchPolicy
from analytics_pipeline.lakehouse.offset_ranges import TopicPartitionKey
from analytics_pipeline.lakehouse.paths import LakeTables
from analytics_pipeline.lakehouse.s3a import is_s3a, lake_bucket
from analytics_pipeline.lakehouse.spark import build_spark_session
from analytics_pipeline.metadata.store import MetadataStore, StoredSchema
from analytics_pipeline.objectstore.client import ensure_bucket, s3_client
from analytics_pipeline.objectstore.endpoint import S3Endpoint, s3_endpoint
from analytics_pipeline.operations.cluster_health import raw_projects
from analytics_pipeline.operations.group_lag import TopicEnds, committed_by_group, raw_topic_ends
from analytics_pipeline.operations.hot_partitions import (
    SAMPLE_RECORDS,
    Finding,
    HotPartitionRule,
    TopKeys,
    findings,
    top_keys,
)
from analytics_pipeline.operations.replay import REPLAY_MARK, replay_stamp
from analytics_pipeline.operations.status import pipeline_groups
from analytics_pipeline.settings import Settings


class KafkaResource(dg.ConfigurableResource):
    """The Kafka cluster the ingestion service writes to, and the batch ETL's consumer group."""

    bootstrap_servers: str
    etl_group: str = "batch-etl"
    archive_group: str = "archival"
    timeout_s: float = 10.0  # per call: a sensor tick against an unreachable cluster ends this fast

    def raw_topic_offsets(self) -> dict[str, int]:
        """Per raw topic ``events.{project_id}``, the sum of its partitions' latest offsets."""
        return raw_topic_end_offsets(self.bootstrap_servers, self.timeout_s)

    def raw_end_offsets(self) -> dict[TopicPartitionKey, int]:
        return raw_partition_end_offsets(self.bootstrap_servers, self.timeout_s)

    def etl_committed(self) -> dict[TopicPartitionKey, int]:
        """The ``batch-etl`` group's committed offsets, as Kafka tooling shows them."""
        return self.committed(self.etl_group)

    def etl_commits(self) -> tuple[dict[TopicPartitionKey, int], dict[TopicPartitionKey, str]]:
        """The ``batch-etl`` group's committed offsets, and the replay marks some of them carry."""
        found = committed_with_metadata(self.bootstrap_servers, self.etl_group, self.timeout_s)
        offsets = {(tp.topic, tp.partition): offset for tp, (offset, _note) in found.items()}
        marks = {
            (tp.topic, tp.partition): stamp
            for tp, (_offset, note) in found.items()
            if (stamp := replay_stamp(note)) is not None
        }
        return offsets, marks

    def committed(self, group: str) -> dict[TopicPartitionKey, int]:
        offsets = committed_offsets(self.bootstrap_servers, group, self.timeout_s)
        return {(tp.topic, tp.partition): o for tp, o in offsets.items()}

    def records(self, spans: dict[TopicPartitionKey, tuple[int, int]]) -> list[TopicRecord]:
        """The records at offsets ``[start, end)`` of each partition."""
        return read_spans(self.bootstrap_servers, spans, self.timeout_s)

    def commit_etl(
        self, offsets: dict[TopicPartitionKey, int], replays: dict[TopicPartitionKey, str] | None = None
    ) -> None:
        """Commit, keeping each partition's replay mark (the planner and the commits follow it)."""
        marks = {tp: f"{REPLAY_MARK}{stamp}" for tp, stamp in (replays or {}).items()}
        commit_group_offsets(self.bootstrap_servers, self.etl_group, offsets, self.timeout_s, marks)

    def commit(self, group: str, offsets: dict[TopicPartitionKey, int]) -> None:
        commit_group_offsets(self.bootstrap_servers, group, offsets, self.timeout_s)


class HotPartitionResource(dg.ConfigurableResource):
    """What hot_partition_sensor watches (the consumer groups the pipeline owns) and how it judges
    (ANALYTICS_HOT_PARTITION_* settings)."""

    kafka: KafkaResource
    groups: list[str]
    factor: float
    sustain_s: float
    min_records: int
    sample_records: int = SAMPLE_RECORDS  # latest records of a hot partition read to name its keys

    def rule(self) -> HotPartitionRule:
        return HotPartitionRule(self.factor, self.sustain_s, self.min_records)

    def look(self) -> list[Finding]:
        """Every partition out of line now."""
        ends, committed = self.read_offsets()
        return findings(ends, committed, self.rule())

    def top_keys(self, partitions: list[TopicPartitionKey]) -> dict[TopicPartitionKey, TopKeys]:
        return top_keys(self.latest_records(partitions))

    def read_offsets(self) -> tuple[TopicEnds, dict[str, dict[TopicPartitionKey, int]]]:
        """The raw partitions' ends (now and a minute ago) and each group's commits."""
        bootstrap, timeout_s = self.kafka.bootstrap_servers, self.kafka.timeout_s
        return raw_topic_ends(bootstrap, timeout_s), committed_by_group(bootstrap, self.groups, timeout_s)

    def latest_records(self, partitions: list[TopicPartitionKey]) -> list[TopicRecord]:
        return partition_tails(
            self.kafka.bootstrap_servers, partitions, self.sample_records, self.kafka.timeout_s
        )


class BatchPolicyResource(dg.ConfigurableResource):
    """When kafka_offsets_sensor asks for an ETL run (ANALYTICS_ETL_* settings)."""

    batch_size: int
    max_wait_s: float
    max_records_per_run: int

    def policy(self) -> BatchPolicy:
        return BatchPolicy(self.batch_size, timedelta(seconds=self.max_wait_s), self.max_records_per_run)


class ArchivePolicyResource(BatchPolicyResource):
    """When archival_sensor asks for an archive run, and how far behind archive_keeps_up allows."""

    max_lag_s: int


class ObjectStorageResource(S3Resource):
    """dagster-aws's S3 resource, with the client the archive needs (path-style addressing and
    checksums S3-compatible servers accept), and the archive's bucket."""

    archive_bucket: str

    def endpoint(self) -> S3Endpoint:
        return S3Endpoint(
            self.endpoint_url or "",
            self.region_name or "us-east-1",
            self.aws_access_key_id,
            self.aws_secret_access_key,
        )

    def get_client(self) -> Any:
        return s3_client(self.endpoint())

    def archive_store(self) -> ArchiveStore:
        return ArchiveStore(self.get_client(), self.archive_bucket)


class LakehouseResource(dg.ConfigurableResource):
    """Spark with Delta (jars fetched by Maven) and the lake's table locations; on S3 (an
    ``s3a://`` lake root) through the object storage resource's endpoint and credentials."""

    lake_root: str
    spark_master: str = "local[*]"
    spark_driver_memory: str = "1g"
    jar_root: str
    s3: ObjectStorageResource

    @property
    def tables(self) -> LakeTables:
        return LakeTables(self.lake_root)

    def spark(self) -> SparkSession:
        """The process's session; a run launched in its own process starts one (a few seconds).
        A lake on S3 gets its bucket created on first use, as the archive's is."""
        endpoint = None
        if is_s3a(self.lake_root):
            endpoint = self.s3.endpoint()
            ensure_bucket(self.s3.get_client(), lake_bucket(self.lake_root))
        return build_spark_session(
            self.spark_master, self.spark_driver_memory, Path(self.jar_root), s3=endpoint
        )


class RealtimeResource(dg.ConfigurableResource):
    """The streaming worker's side: its Redis aggregates and its consumer group."""

    redis_url: str
    stream_group: str = "stream-processing"
    metric_ttl_windows: float = 2.0

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_timeout=5)


class MetadataResource(dg.ConfigurableResource):
    """The metadata store: every version of the property schemas the lakehouse judges by."""

    url: str

    def all_schemas(self, project_ids: list[str]) -> list[StoredSchema]:
        store = MetadataStore(self.url)
        try:
            return store.all_schemas(project_ids)
        finally:
            store.close()


class DeadLetterResource(dg.ConfigurableResource):
    """Dead letters per project: held by events.dlq.{project}, and of those, never redriven."""

    kafka: KafkaResource
    metadata_url: str

    def counts(self) -> dict[str, LetterCount]:
        bootstrap = self.kafka.bootstrap_servers
        projects = raw_projects(list(raw_topic_end_offsets(bootstrap, self.kafka.timeout_s)))
        return letter_counts(bootstrap, self.metadata_url, projects, self.kafka.timeout_s)


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """The one place where the environment (ANALYTICS_* settings) becomes resources."""
    storage = object_storage(settings)
    kafka = KafkaResource(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        etl_group=settings.etl_group,
        archive_group=settings.archive_group,
    )
    return {
        "kafka": kafka,
        "hot_partitions": HotPartitionResource(
            kafka=kafka,
            groups=pipeline_groups(settings),
            factor=settings.hot_partition_factor,
            sustain_s=settings.hot_partition_sustain_s,
            min_records=settings.hot_partition_min_records,
        ),
        "archive_policy": ArchivePolicyResource(
            batch_size=settings.archive_batch_size,
            max_wait_s=settings.archive_max_wait_s,
            max_records_per_run=settings.archive_max_records_per_run,
            max_lag_s=settings.archive_max_lag_s,
        ),
        "batch_policy": BatchPolicyResource(
            batch_size=settings.etl_batch_size,
            max_wait_s=settings.etl_max_wait_s,
            max_records_per_run=settings.etl_max_records_per_run,
        ),
        "lakehouse": LakehouseResource(
            lake_root=settings.lake_root,
            spark_master=settings.spark_master,
            spark_driver_memory=settings.spark_driver_memory,
            jar_root=str(settings.jar_root),
            s3=storage,
        ),
        "metadata": MetadataResource(url=settings.metadata_database_url),
        "dead_letters": DeadLetterResource(kafka=kafka, metadata_url=settings.metadata_database_url),
        "realtime": RealtimeResource(
            redis_url=settings.redis_url,
            stream_group=settings.stream_group,
            metric_ttl_windows=settings.metric_ttl_windows,
        ),
        "quality": QualityResource(
            max_event_age_s=settings.max_event_age_s, max_future_skew_s=settings.max_future_skew_s
        ),
        "s3": storage,
    }


def object_storage(settings: Settings) -> ObjectStorageResource:
    """A secret given in the environment reaches the resource as an EnvVar, so the Dagster UI
    shows the variable's name and not its value."""
    endpoint = s3_endpoint(settings)
    return ObjectStorageResource(
        endpoint_url=endpoint.url,
        region_name=endpoint.region,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=_from_environment(
            endpoint.secret_key, "ANALYTICS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"
        ),
        aws_session_token=_from_environment(endpoint.session_token, "AWS_SESSION_TOKEN"),
        archive_bucket=settings.archive_bucket,
    )


def _from_environment(value: str | None, *variables: str) -> Any:
    """The variable that holds ``value`` as an EnvVar, else the value itself."""
    for variable in variables:
        if value is not None and os.environ.get(variable) == value:
            return dg.EnvVar(variable)
    return value


class QualityResource(dg.ConfigurableResource):
    """The bounds of the quality rules: the ingestion service's own time window, and the
    currencies revenue may be counted in."""

    max_event_age_s: int
    max_future_skew_s: int
    currencies: list[str] = sorted(DEFAULT_CURRENCIES)

    def max_event_age(self) -> timedelta:
        return timedelta(seconds=self.max_event_age_s)

    def max_future(self) -> timedelta:
        return timedelta(seconds=self.max_future_skew_s)

    def currency_set(self) -> frozenset[str]:
        return frozenset(self.currencies)

    def rules(self) -> QualityRules:
        """What the ETL judges each event by (the same bounds the suites check)."""
        return QualityRules.of(
            max_event_age_s=self.max_event_age_s,
            max_future_skew_s=self.max_future_skew_s,
            currencies=self.currencies,
        )
