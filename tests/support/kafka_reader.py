"""Read a whole topic back, from the first offset to the end offsets seen at the start."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition


@dataclass(frozen=True)
class StoredRecord:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]


@dataclass(frozen=True)
class StoredEvent:
    partition: int
    offset: int
    key: str
    value: dict[str, Any]


def read_records(bootstrap_servers: str, topic: str, timeout_s: float = 30.0) -> list[StoredRecord]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        records: list[StoredRecord] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end within {timeout_s} s")
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(
                    StoredRecord(
                        r.partition,
                        r.offset,
                        r.key,
                        r.value,
                        {name: value.decode(errors="replace") for name, value in r.headers or []},
                    )
                    for r in batch
                )
        return records
    finally:
        consumer.close()


def read_topic(bootstrap_servers: str, topic: str, timeout_s: float = 30.0) -> list[StoredEvent]:
    """The topic's records as JSON events (every record must hold one)."""
    return [
        StoredEvent(r.partition, r.offset, (r.key or b"").decode(), json.loads(r.value or b""))
        for r in read_records(bootstrap_servers, topic, timeout_s)
    ]
