"""How far a consumer group has got: committed offsets against the end of a topic."""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from analytics_pipeline.kafka_io.admin import KAFKA_API_VERSION, committed_offsets, topic_offsets
from analytics_pipeline.kafka_io.topics import project_of_raw_topic
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


def start_group_at_end(bootstrap_servers: str, group: str) -> None:
    """Commit a new group at the end of every raw topic there is now. A worker in a group of its
    own otherwise reads the whole test session's history of every project first, and its test
    waits on other tests' load; events written after this are read as they would be."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers, api_version=KAFKA_API_VERSION, group_id=group
    )
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in consumer.topics()
            if project_of_raw_topic(topic) is not None
            for partition in consumer.partitions_for_topic(topic) or ()
        ]
        if partitions:
            ends = consumer.end_offsets(partitions)
            consumer.commit({tp: OffsetAndMetadata(end, "", -1) for tp, end in ends.items()})
    finally:
        consumer.close()
