"""Read a whole topic back, from the first offset to the end offsets seen at the start."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition


@dataclass(frozen=True)
class StoredEvent:
    partition: int
    offset: int
    key: str
    value: dict[str, Any]


def read_topic(bootstrap_servers: str, topic: str, timeout_s: float = 30.0) -> list[StoredEvent]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        events: list[StoredEvent] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end within {timeout_s} s")
            for records in consumer.poll(timeout_ms=500).values():
                events.extend(
                    StoredEvent(r.partition, r.offset, r.key.decode(), json.loads(r.value)) for r in records
                )
        return events
    finally:
        consumer.close()
