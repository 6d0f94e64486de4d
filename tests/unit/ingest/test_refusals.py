"""Why acks=all cannot be met on a partition: the sentence the 503 carries."""

from __future__ import annotations

from analytics_pipeline.ingest.refusals import refusal_cause
from analytics_pipeline.kafka_io.replicas import PartitionReplicas

PARTITION = PartitionReplicas("events.p", 0, leader=1, replicas=(1, 2, 3), in_sync=(1, 2, 3))


def test_two_of_three_answering_is_enough() -> None:
    assert refusal_cause(PARTITION, frozenset({1, 2}), min_in_sync=2) is None


def test_frozen_metadata_with_two_nodes_gone_is_too_few_in_sync_replicas() -> None:
    cause = refusal_cause(PARTITION, frozenset({1}), min_in_sync=2)
    assert cause == (
        "too few in-sync replicas for events.p/0: 1 of 3 in sync and answering, "
        "min.insync.replicas=2 (broker 2, 3 does not answer)"
    )


def test_a_shrunk_isr_counts_too() -> None:
    shrunk = PartitionReplicas("events.p", 0, leader=1, replicas=(1, 2, 3), in_sync=(1,))
    assert "1 of 3 in sync" in (refusal_cause(shrunk, frozenset({1, 2, 3}), min_in_sync=2) or "")


def test_a_dead_leader_not_yet_replaced() -> None:
    assert refusal_cause(PARTITION, frozenset({2, 3}), min_in_sync=2) == (
        "no leader answers for events.p/0, a new one is being elected (broker 1 does not answer)"
    )
