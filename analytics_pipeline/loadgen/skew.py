"""eventIds that land on a chosen partition: a skewed load that takes the real key path.

The ingestion service keys raw records by eventId and its producer partitions by murmur2 (as the
Java client does), so events spread evenly unless their ids were chosen; these are, to make one
partition hot on purpose (the hot-partition test and bench).
"""

from __future__ import annotations

import itertools
import uuid

from kafka.partitioner.default import murmur2


def partition_of(key: bytes, partitions: int) -> int:
    """The partition kafka-python's (and Java's) default partitioner gives ``key``."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def event_ids_on_partition(partition: int, partitions: int, count: int, prefix: str = "") -> list[str]:
    """``count`` fresh eventIds whose records land on ``partition`` of a topic with ``partitions``."""
    if not 0 <= partition < partitions:
        raise ValueError(f"partition {partition} is not one of the topic's {partitions} partitions")
    stem = prefix or f"evt_{uuid.uuid4().hex[:12]}"
    candidates = (f"{stem}_{n}" for n in itertools.count())
    landing = (c for c in candidates if partition_of(c.encode(), partitions) == partition)
    return list(itertools.islice(landing, count))
