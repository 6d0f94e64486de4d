"""Topic names and the per-project topic specs the design fixes."""

from __future__ import annotations

import pytest

from analytics_pipeline.kafka_io.topics import (
    TopicSpec,
    dead_letter_topic,
    processed_topic,
    project_topics,
    raw_topic,
)
from analytics_pipeline.settings import Settings

DAY_MS = 86_400_000


pytestmark = pytest.mark.usefixtures("clean_analytics_env")


def by_name(specs: list[TopicSpec]) -> dict[str, TopicSpec]:
    return {spec.name: spec for spec in specs}


class TestTopicNames:
    def test_names_per_project(self) -> None:
        assert raw_topic("shop") == "events.shop"
        assert processed_topic("shop") == "events.processed.shop"
        assert dead_letter_topic("shop") == "events.dlq.shop"


class TestProjectTopics:
    def test_three_topics_per_project(self) -> None:
        specs = project_topics("shop", Settings())
        assert [spec.name for spec in specs] == ["events.shop", "events.processed.shop", "events.dlq.shop"]

    def test_retention_is_seven_days_raw_and_thirty_days_otherwise(self) -> None:
        specs = by_name(project_topics("shop", Settings()))
        assert specs["events.shop"].configs["retention.ms"] == str(7 * DAY_MS)
        assert specs["events.processed.shop"].configs["retention.ms"] == str(30 * DAY_MS)
        assert specs["events.dlq.shop"].configs["retention.ms"] == str(30 * DAY_MS)

    def test_every_topic_is_snappy_compressed_and_deletes_old_segments(self) -> None:
        for spec in project_topics("shop", Settings()):
            assert spec.configs["compression.type"] == "snappy"
            assert spec.configs["cleanup.policy"] == "delete"

    def test_local_profile_layout(self) -> None:
        specs = project_topics("shop", Settings(profile="local"))
        assert [(spec.partitions, spec.replication_factor) for spec in specs] == [(3, 1), (3, 1), (3, 1)]
        assert {spec.configs["min.insync.replicas"] for spec in specs} == {"1"}

    def test_production_profile_layout_caps_the_dead_letter_topic_at_three_partitions(self) -> None:
        specs = project_topics("shop", Settings(profile="production"))
        assert [(spec.partitions, spec.replication_factor) for spec in specs] == [(100, 3), (100, 3), (3, 3)]
        assert {spec.configs["min.insync.replicas"] for spec in specs} == {"2"}

    def test_dead_letter_topic_never_has_more_partitions_than_the_others(self) -> None:
        specs = by_name(project_topics("shop", Settings(kafka_topic_partitions=2)))
        assert specs["events.dlq.shop"].partitions == 2

    def test_min_insync_replicas_follows_settings(self) -> None:
        settings = Settings(profile="production", kafka_replication_factor=5, kafka_min_insync_replicas=4)
        specs = project_topics("shop", settings)
        assert {spec.configs["min.insync.replicas"] for spec in specs} == {"4"}
        assert {spec.replication_factor for spec in specs} == {5}

    def test_topics_do_not_share_one_configs_dict(self) -> None:
        raw, processed, _dlq = project_topics("shop", Settings())
        assert raw.configs is not processed.configs
