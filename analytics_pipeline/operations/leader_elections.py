"""Leader elections, told by the leader epochs in Kafka's metadata.

Every change of a partition's leader raises its leader epoch, and so does losing the last
leader: a lone broker that restarts moves each of its partitions through two (leaderless while
it is away, led again when back); in a cluster a dead leader's partitions move once to another
replica, and once more when the preferred leader takes them back. Kafka keeps no time of the
change, so whoever looks (the exporter every few seconds, ``analytics status`` when it runs)
compares the epochs with the last ones seen, kept in a small JSON file under the stack home,
and notes when they moved. A one-shot command can then alarm on elections it was not running
for, and the exporter's counter survives its own restarts.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

Key = tuple[str, int]  # (topic, partition)


@dataclass(frozen=True)
class PartitionLeader:
    topic: str
    topic_id: str
    partition: int
    leader: int  # -1: none
    epoch: int  # -1: the broker could not describe the partition


@dataclass(frozen=True)
class PartitionEpoch:
    """What the log knows of one partition."""

    topic: str
    partition: int
    topic_id: str
    epoch: int
    elections: int = 0  # epoch increases seen since the partition was first seen
    changed_at: float | None = None  # when the last increase was seen (Unix seconds)


@dataclass(frozen=True)
class TopicElections:
    """A topic's partitions whose leader changed within the alarm window."""

    topic: str
    partitions: tuple[int, ...]
    latest: float  # when the newest of those changes was seen


def leaders_in(described_topics: Iterable[Mapping[str, Any]]) -> list[PartitionLeader]:
    """Every partition of kafka-python's ``KafkaAdminClient.describe_topics()`` answer."""
    return [
        PartitionLeader(
            topic["name"],
            str(topic.get("topic_id", "")),
            p["partition_index"],
            p["leader_id"],
            p.get("leader_epoch", -1),
        )
        for topic in described_topics
        for p in topic["partitions"]
    ]


def observe(
    known: Mapping[Key, PartitionEpoch], leaders: Iterable[PartitionLeader], now: float
) -> dict[Key, PartitionEpoch]:
    """The log after looking at ``leaders``: increases counted, new topics (and topics deleted and
    created again, seen by their id) taken as they are, topics no longer there forgotten."""
    updated: dict[Key, PartitionEpoch] = {}
    for leader in leaders:
        key = (leader.topic, leader.partition)
        before = known.get(key)
        if leader.epoch < 0:  # not described this time: keep what we knew
            if before is not None:
                updated[key] = before
        elif before is None or before.topic_id != leader.topic_id or leader.epoch < before.epoch:
            updated[key] = PartitionEpoch(leader.topic, leader.partition, leader.topic_id, leader.epoch)
        elif leader.epoch > before.epoch:
            elections = before.elections + leader.epoch - before.epoch
            updated[key] = replace(before, epoch=leader.epoch, elections=elections, changed_at=now)
        else:
            updated[key] = before
    return updated


def elections_by_topic(epochs: Mapping[Key, PartitionEpoch]) -> dict[str, int]:
    """Epoch increases seen per topic, ever (a counter: it only grows while the topic lives)."""
    totals: dict[str, int] = {}
    for e in epochs.values():
        totals[e.topic] = totals.get(e.topic, 0) + e.elections
    return dict(sorted(totals.items()))


def recent_elections(
    epochs: Mapping[Key, PartitionEpoch], now: float, window_s: float
) -> list[TopicElections]:
    changed: dict[str, list[PartitionEpoch]] = {}
    for e in epochs.values():
        if e.changed_at is not None and e.changed_at >= now - window_s:
            changed.setdefault(e.topic, []).append(e)
    return [
        TopicElections(
            topic,
            tuple(sorted(e.partition for e in found)),
            max(e.changed_at for e in found if e.changed_at is not None),
        )
        for topic, found in sorted(changed.items())
    ]


def partition_ranges(partitions: Iterable[int]) -> str:
    """``0-9,12``: a broker's restart elects every partition it led, maybe hundreds."""
    spans: list[list[int]] = []
    for p in sorted(partitions):
        if spans and p == spans[-1][1] + 1:
            spans[-1][1] = p
        else:
            spans.append([p, p])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


class ElectionLog:
    """The epochs last seen, in a JSON file shared by every process that looks (under a lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def under(cls, home: Path) -> ElectionLog:
        return cls(home.resolve() / "state" / "leader-epochs.json")

    def record(
        self, leaders: Iterable[PartitionLeader], now: float | None = None
    ) -> dict[Key, PartitionEpoch]:
        """Compare ``leaders`` with the file, write the result back, and return it."""
        with self._locked():
            epochs = observe(self.read(), leaders, time.time() if now is None else now)
            self._write(epochs)
        return epochs

    def read(self) -> dict[Key, PartitionEpoch]:
        try:
            rows = json.loads(self.path.read_text())["partitions"]
            return {(row["topic"], row["partition"]): PartitionEpoch(**row) for row in rows}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Only derived state: start again from what Kafka says now.
            log.warning("ignoring unreadable %s (%s)", self.path, exc)
            return {}

    def _write(self, epochs: Mapping[Key, PartitionEpoch]) -> None:
        rows = [asdict(epochs[key]) for key in sorted(epochs)]
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"partitions": rows}))
        os.replace(temporary, self.path)  # readers never see half a file

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.with_suffix(".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
