"""Leader elections from leader epochs: counted once, dated when first seen, kept in a file that
the exporter and `analytics status` share."""

from __future__ import annotations

from pathlib import Path

from analytics_pipeline.operations.leader_elections import (
    ElectionLog,
    PartitionEpoch,
    PartitionLeader,
    elections_by_topic,
    leaders_in,
    observe,
    partition_ranges,
    recent_elections,
)

T = "events.shop"


def leaders(epochs: dict[int, int], topic: str = T, topic_id: str = "id-1") -> list[PartitionLeader]:
    return [PartitionLeader(topic, topic_id, p, 1, epoch) for p, epoch in epochs.items()]


def test_leaders_are_read_from_describe_topics() -> None:
    described = [
        {
            "name": T,
            "topic_id": "abc",
            "partitions": [
                {"partition_index": 0, "leader_id": 1, "leader_epoch": 4},
                {"partition_index": 1, "leader_id": -1},  # no epoch: not described this time
            ],
        }
    ]
    assert leaders_in(described) == [PartitionLeader(T, "abc", 0, 1, 4), PartitionLeader(T, "abc", 1, -1, -1)]


def test_the_first_look_is_a_baseline_and_an_epoch_increase_counts_its_size() -> None:
    first = observe({}, leaders({0: 3, 1: 0}), now=100.0)
    assert elections_by_topic(first) == {T: 0}, "epochs met for the first time say nothing yet"
    second = observe(first, leaders({0: 5, 1: 0}), now=160.0)
    assert second[(T, 0)] == PartitionEpoch(T, 0, "id-1", 5, elections=2, changed_at=160.0)
    assert second[(T, 1)] == first[(T, 1)]
    third = observe(second, leaders({0: 5, 1: 1}), now=200.0)
    assert elections_by_topic(third) == {T: 3}
    assert third[(T, 0)].changed_at == 160.0, "an unchanged epoch keeps the time of its last change"


def test_a_topic_created_again_starts_afresh_and_a_deleted_one_is_forgotten() -> None:
    before = observe(observe({}, leaders({0: 7}), 0.0), leaders({0: 9}), 10.0)
    recreated = observe(before, leaders({0: 1}, topic_id="id-2"), 20.0)
    assert recreated[(T, 0)] == PartitionEpoch(T, 0, "id-2", 1)
    assert observe(recreated, leaders({0: 0}, topic="events.other"), 30.0).keys() == {("events.other", 0)}


def test_a_partition_not_described_this_time_keeps_what_was_known() -> None:
    known = observe({}, leaders({0: 2}), 0.0)
    assert observe(known, leaders({0: -1}), 10.0) == known
    assert observe({}, leaders({0: -1}), 10.0) == {}


def test_recent_elections_are_grouped_by_topic_within_the_window() -> None:
    epochs = {
        (T, 0): PartitionEpoch(T, 0, "a", 2, 2, changed_at=1_000.0),
        (T, 1): PartitionEpoch(T, 1, "a", 2, 2, changed_at=1_500.0),
        (T, 2): PartitionEpoch(T, 2, "a", 0),
        ("old", 0): PartitionEpoch("old", 0, "b", 1, 1, changed_at=100.0),
    }
    recent = recent_elections(epochs, now=1_600.0, window_s=900.0)
    assert [(e.topic, e.partitions, e.latest) for e in recent] == [(T, (0, 1), 1_500.0)]


def test_partitions_are_written_as_ranges() -> None:
    assert partition_ranges([3, 0, 1, 2, 7, 9, 10]) == "0-3,7,9-10"
    assert partition_ranges([5]) == "5"


def test_two_lookers_sharing_the_log_count_an_election_once(tmp_path: Path) -> None:
    exporter, status = ElectionLog.under(tmp_path), ElectionLog.under(tmp_path)
    exporter.record(leaders({0: 0, 1: 0}), now=0.0)
    after_status = status.record(leaders({0: 2, 1: 0}), now=5.0)
    after_exporter = exporter.record(leaders({0: 2, 1: 0}), now=10.0)
    assert elections_by_topic(after_status) == elections_by_topic(after_exporter) == {T: 2}
    assert after_exporter[(T, 0)].changed_at == 5.0, "dated by whoever saw it first"
    assert ElectionLog.under(tmp_path).read() == after_exporter


def test_an_unreadable_log_starts_again_from_what_kafka_says(tmp_path: Path) -> None:
    log = ElectionLog.under(tmp_path)
    log.path.parent.mkdir(parents=True)
    log.path.write_text("{not json")
    assert log.record(leaders({0: 4}), now=1.0) == {(T, 0): PartitionEpoch(T, 0, "id-1", 4)}
    assert log.read() == {(T, 0): PartitionEpoch(T, 0, "id-1", 4)}
