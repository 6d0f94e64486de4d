"""Dagster resources over Kafka: offsets, commits and records for the sensors, the ETL and the
checks; hot partitions and dead letters as the operations tooling sees them."""

from __future__ import annotations

import dagster as dg

from analytics_pipeline.deadletters.counts import LetterCount, letter_counts
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
from analytics_pipeline.lakehouse.offset_ranges import TopicPartitionKey
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


class DeadLetterResource(dg.ConfigurableResource):
    """Dead letters per project: held by events.dlq.{project}, and of those, never redriven."""

    kafka: KafkaResource
    metadata_url: str

    def counts(self) -> dict[str, LetterCount]:
        bootstrap = self.kafka.bootstrap_servers
        projects = raw_projects(list(raw_topic_end_offsets(bootstrap, self.kafka.timeout_s)))
        return letter_counts(bootstrap, self.metadata_url, projects, self.kafka.timeout_s)
