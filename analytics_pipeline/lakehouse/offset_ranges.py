"""Offset ranges of the raw topics: what a batch ETL run reads, named so a run is never repeated.

A range is ``[start, end)`` of one partition. The sensor plans them from the ``batch-etl``
group's committed offsets and the topics' end offsets; the run reads exactly them; the run key is
derived from them, so Dagster never launches the same ranges twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

TopicPartitionKey = tuple[str, int]


@dataclass(frozen=True, order=True)
class OffsetRange:
    topic: str
    partition: int
    start: int
    end: int  # exclusive

    @property
    def count(self) -> int:
        return self.end - self.start


def pending_ranges(
    committed: Mapping[TopicPartitionKey, int], ends: Mapping[TopicPartitionKey, int]
) -> list[OffsetRange]:
    """Per partition with records past its committed offset (0 when never committed), that range."""
    ranges = [
        OffsetRange(topic, partition, committed.get((topic, partition), 0), end)
        for (topic, partition), end in ends.items()
        if end > committed.get((topic, partition), 0)
    ]
    return sorted(ranges)


def run_key(ranges: Iterable[OffsetRange], replays: Iterable[str] = ()) -> str:
    """Deterministic and short: the same ranges always give the same key, others never do; the
    same ranges read again after a replay (named by its marks) give a new one."""
    canonical = ",".join(f"{r.topic}/{r.partition}:{r.start}-{r.end}" for r in sorted(ranges))
    canonical += "".join(f"@{stamp}" for stamp in sorted(set(replays)))
    return "kafka-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def ranges_to_config(ranges: Iterable[OffsetRange]) -> list[dict[str, object]]:
    return [asdict(r) for r in sorted(ranges)]


def ranges_from_config(config: Iterable[Mapping[str, object]]) -> list[OffsetRange]:
    return sorted(
        OffsetRange(str(c["topic"]), int(c["partition"]), int(c["start"]), int(c["end"]))  # type: ignore[arg-type]
        for c in config
    )


def op_config(run_config: Mapping[str, Any], op: str) -> Mapping[str, Any]:
    """The config of ``op`` in a Dagster run config (``{"ops": {op: {"config": ...}}}``)."""
    return run_config.get("ops", {}).get(op, {}).get("config", {})


def op_ranges(run_config: Mapping[str, Any], op: str) -> list[OffsetRange]:
    """The offset ranges a run of ``op`` was configured to read."""
    return ranges_from_config(op_config(run_config, op).get("ranges", []))


def kafka_source_options(ranges: Iterable[OffsetRange]) -> dict[str, str]:
    """Spark Kafka source options reading exactly ``ranges``: ``assign`` and both offset bounds.

    ``assign`` rather than ``subscribe``: the source then needs offsets only for the partitions
    read, not for every partition of every topic named.
    """
    assign: dict[str, list[int]] = {}
    starting: dict[str, dict[str, int]] = {}
    ending: dict[str, dict[str, int]] = {}
    for r in sorted(ranges):
        assign.setdefault(r.topic, []).append(r.partition)
        starting.setdefault(r.topic, {})[str(r.partition)] = r.start
        ending.setdefault(r.topic, {})[str(r.partition)] = r.end
    return {
        "assign": json.dumps(assign),
        "startingOffsets": json.dumps(starting),
        "endingOffsets": json.dumps(ending),
    }
