"""A skewed load and a consumer that cannot keep up with it on one partition.

The load is produced as the ingestion service writes it (key = eventId, murmur2 partitioner),
with eventIds chosen so that ``hot_share`` of it lands on the hot partition, most of that from one
user's checkouts. The consumer is a group whose offsets move each second by at most ``capacity``
records per partition, as a worker bound per partition would: the cold partitions keep up, the
hot one falls behind at (hot rate - capacity) records/s.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from analytics_pipeline.kafka_io.admin import commit_group_offsets, topic_offsets
from analytics_pipeline.loadgen.skew import event_ids_on_partition
from analytics_pipeline.settings import Settings
from analytics_pipeline.timeutil import utc_now
from bench.stream.workload import bulk_producer, encode

HOT_USER, HOT_TYPE = "u-hot", "checkout"
TICK_S = 0.1  # the producer's step


@dataclass
class SkewedRound:
    """One project topic under a skewed load, and the lagging group that reads it."""

    project_id: str
    topic: str
    group: str
    hot_partition: int
    partitions: int
    started: float | None = None  # epoch seconds of the first record
    committed: dict[int, int] = field(default_factory=dict)

    def elapsed(self, now: float) -> float:
        return now - (self.started or now)


@dataclass(frozen=True)
class LoadShape:
    rate: float  # records/s into the topic
    hot_share: float  # of them on the hot partition
    capacity: float  # records/s the group commits per partition at most


class SkewedLoad:
    """A producer thread and a committing thread over the rounds that have started."""

    def __init__(self, settings: Settings, shape: LoadShape) -> None:
        self._settings, self._shape = settings, shape
        self._rounds: list[SkewedRound] = []
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._threads = [
            threading.Thread(target=self._produce, name="skewed-load", daemon=True),
            threading.Thread(target=self._consume, name="capped-consumer", daemon=True),
        ]
        self.errors: list[BaseException] = []

    def __enter__(self) -> SkewedLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def start(self, round_: SkewedRound) -> None:
        """The group reads the topic from its start, then the load begins."""
        commit_group_offsets(
            self._settings.kafka_bootstrap_servers,
            round_.group,
            {(round_.topic, p): 0 for p in range(round_.partitions)},
        )
        round_.committed = dict.fromkeys(range(round_.partitions), 0)
        round_.started = time.time()
        with self._lock:
            self._rounds.append(round_)

    def finish(self, round_: SkewedRound) -> None:
        with self._lock:
            self._rounds.remove(round_)

    def _active(self) -> list[SkewedRound]:
        with self._lock:
            return list(self._rounds)

    def _produce(self) -> None:
        producer = bulk_producer(self._settings)
        owed: dict[str, float] = {}
        last = time.monotonic()
        try:
            while not self._stop.wait(TICK_S):
                step_s, last = time.monotonic() - last, time.monotonic()
                for round_ in self._active():
                    owed[round_.topic] = owed.get(round_.topic, 0.0) + self._shape.rate * step_s
                    count = int(owed[round_.topic])
                    owed[round_.topic] -= count
                    for key, value in self._records(round_, count):
                        producer.send(round_.topic, key=key, value=value)
            producer.flush(30)
        except BaseException as exc:  # noqa: BLE001 - reported by the bench, which then fails
            self.errors.append(exc)
        finally:
            producer.close(10)

    def _records(self, round_: SkewedRound, count: int) -> list[tuple[bytes, bytes]]:
        hot = round(count * self._shape.hot_share)
        cold = [p for p in range(round_.partitions) if p != round_.hot_partition]
        payloads = [
            {"eventId": event_id, "eventType": HOT_TYPE if n % 5 else "page_view", "userId": HOT_USER}
            for n, event_id in enumerate(event_ids_on_partition(round_.hot_partition, round_.partitions, hot))
        ]
        for index, partition in enumerate(cold):  # the rest spread evenly over the cold partitions
            share = (count - hot) // len(cold) + (index < (count - hot) % len(cold))
            payloads += [
                {"eventId": event_id, "eventType": "page_view", "userId": f"u-{n % 50}"}
                for n, event_id in enumerate(event_ids_on_partition(partition, round_.partitions, share))
            ]
        now = utc_now()
        return encode(self._settings, round_.project_id, payloads, now)

    def _consume(self) -> None:
        bootstrap = self._settings.kafka_bootstrap_servers
        try:
            while not self._stop.wait(1.0):
                for round_ in self._active():
                    ends = {o.partition: o.latest for o in topic_offsets(bootstrap, round_.topic)}
                    step = int(self._shape.capacity)
                    moved = {p: min(end, round_.committed.get(p, 0) + step) for p, end in ends.items()}
                    commit_group_offsets(
                        bootstrap, round_.group, {(round_.topic, p): o for p, o in moved.items()}
                    )
                    round_.committed = moved
        except BaseException as exc:  # noqa: BLE001 - reported by the bench, which then fails
            self.errors.append(exc)
