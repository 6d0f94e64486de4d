"""How far a consumer group has got: committed offsets against the end of a topic."""

from __future__ import annotations

from kafka.errors import KafkaError

from analytics_pipeline.kafka_io.admin import committed_offsets, topic_offsets
from analytics_pipeline.stack.process import wait_until


def group_lag(bootstrap_servers: str, group: str, topic: str) -> int:
    committed = {
        tp.partition: offset
        for tp, offset in committed_offsets(bootstrap_servers, group).items()
        if tp.topic == topic
    }
    return sum(p.latest - committed.get(p.partition, 0) for p in topic_offsets(bootstrap_servers, topic))


def _caught_up(bootstrap_servers: str, group: str, topic: str) -> bool:
    try:
        return group_lag(bootstrap_servers, group, topic) == 0
    except KafkaError:  # e.g. the group coordinator still loading after a broker restart
        return False


def wait_caught_up(bootstrap_servers: str, group: str, topic: str, timeout_s: float = 60.0) -> None:
    """Until the group has committed everything the topic holds now; AssertionError otherwise."""
    caught_up = wait_until(lambda: _caught_up(bootstrap_servers, group, topic), timeout_s, 0.2)
    lag = group_lag(bootstrap_servers, group, topic)
    assert caught_up, f"group {group} still {lag} records behind on {topic} after {timeout_s} s"
