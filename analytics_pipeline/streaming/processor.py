"""One polled batch, start to finish, in the order that keeps every effect exactly once.

1. Decode each record against the shared raw-record contract; poison goes to the dead letters.
2. Apply the batch to the aggregates: one Lua script marks each event with the position of its
   record and counts the events nobody marked before, atomically.
3. Publish the events the script counted now, or had counted from this very record before (a
   redelivery), to ``events.processed.{project}``; the touched windows' snapshots to
   ``metrics.{metric}``; the dead letters. Wait for the acks.

The caller commits the offsets only after all of it. A crash anywhere replays the batch: step 2
counts nothing twice, and step 3 publishes again what a crash may have cut off (so a processed
event is never lost, and may appear twice with the same key). An eventId written twice to the raw
topic is counted and published once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from redis.exceptions import RedisError, ResponseError

from analytics_pipeline.events.raw_record import RawEvent, parse_raw_record
from analytics_pipeline.realtime.aggregator import RealtimeAggregator, WindowSnapshot
from analytics_pipeline.realtime.windows import Granularity
from analytics_pipeline.streaming.metrics import StreamMetrics
from analytics_pipeline.streaming.outputs import DeadLetter, OutputFailed, SourceRecord, StreamOutputs

T = TypeVar("T")
_NOT_JSON = ("value is not UTF-8 JSON", "value is not a JSON object")


class TransientFailure(Exception):
    """Redis or Kafka is unavailable: retry the batch later, do not commit, dead-letter nothing."""

    def __init__(self, cause: str, detail: str) -> None:
        super().__init__(f"{cause}: {detail}")
        self.cause = cause


@dataclass
class BatchReport:
    records: int = 0
    applied: int = 0
    duplicates: int = 0
    replays: int = 0  # redelivered records whose events were already counted
    dead_letters: list[DeadLetter] = field(default_factory=list)
    closed: Counter[Granularity] = field(default_factory=Counter)


@dataclass(frozen=True)
class _Item:
    source: SourceRecord
    event: RawEvent


def decode(records: Sequence[SourceRecord]) -> tuple[list[_Item], list[DeadLetter]]:
    items, letters = [], []
    for record in records:
        event, problems = parse_raw_record(record.topic, record.key, record.value)
        if event is None:
            stage = "decode" if problems[0] in _NOT_JSON else "contract"
            letters.append(DeadLetter(record, stage, "; ".join(problems)))
        else:
            items.append(_Item(record, event))
    return items, letters


class BatchProcessor:
    def __init__(
        self,
        aggregator: RealtimeAggregator,
        outputs: StreamOutputs,
        metrics: StreamMetrics,
        *,
        worker_id: str,
        max_attempts: int,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self._aggregator = aggregator
        self._outputs = outputs
        self._metrics = metrics
        self._worker_id = worker_id
        self._max_attempts = max_attempts
        self._pause = pause

    def process(self, records: Sequence[SourceRecord]) -> BatchReport:
        """Everything the batch must do before its offsets may be committed; TransientFailure otherwise."""
        try:
            return self._process(records)
        except OutputFailed as exc:
            self._outputs.discard()
            raise TransientFailure("kafka", str(exc)) from exc

    def _process(self, records: Sequence[SourceRecord]) -> BatchReport:
        items, letters = decode(records)
        report = BatchReport(records=len(records))
        snapshots: list[WindowSnapshot] = []
        counted: list[_Item] = []
        self._apply(items, report, snapshots, counted)
        report.dead_letters = letters + report.dead_letters
        self._outputs.processed(((item.source, item.event) for item in counted), self._worker_id)
        self._outputs.snapshots(snapshots)
        for letter in report.dead_letters:
            self._outputs.dead_letter(letter, self._worker_id)
        self._outputs.flush()
        self._count(report)
        return report

    def _apply(
        self, items: list[_Item], report: BatchReport, snapshots: list[WindowSnapshot], counted: list[_Item]
    ) -> None:
        """Apply the items; a failure caused by data (a key of the wrong type) is isolated by
        halving the batch until the one failing event is found, tried again, then dead-lettered."""
        if not items:
            return
        attempts = self._max_attempts if len(items) == 1 else 1
        for attempt in range(1, attempts + 1):
            try:
                effect = self._redis(
                    lambda: self._aggregator.apply(
                        [item.event for item in items], [item.source.position for item in items]
                    )
                )
            except _DataError as exc:
                if attempt < attempts:
                    self._pause(0.05 * attempt)
                    continue
                if len(items) == 1:
                    report.dead_letters.append(DeadLetter(items[0].source, "aggregate", str(exc), attempts))
                    return
                middle = len(items) // 2
                self._apply(items[:middle], report, snapshots, counted)
                self._apply(items[middle:], report, snapshots, counted)
                return
            report.applied += effect.applied
            report.duplicates += len(effect.duplicates)
            report.replays += len(effect.replays)
            counted.extend(item for index, item in enumerate(items) if index not in effect.duplicates)
            report.closed.update(effect.closed)
            snapshots.extend(effect.snapshots)
            return

    def _redis(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except ResponseError as exc:
            if str(exc).startswith("WRONGTYPE"):
                raise _DataError(str(exc)) from exc
            raise TransientFailure("redis", str(exc)) from exc
        except (RedisError, OSError) as exc:
            raise TransientFailure("redis", str(exc)) from exc

    def _count(self, report: BatchReport) -> None:
        self._metrics.events.labels(outcome="applied").inc(report.applied)
        self._metrics.events.labels(outcome="duplicate").inc(report.duplicates)
        self._metrics.events.labels(outcome="replayed").inc(report.replays)
        self._metrics.events.labels(outcome="dead_lettered").inc(len(report.dead_letters))
        for letter in report.dead_letters:
            self._metrics.dead_letters.labels(stage=letter.stage).inc()
        for granularity, skipped in report.closed.items():
            self._metrics.closed_windows.labels(granularity=str(granularity)).inc(skipped)


class _DataError(Exception):
    """Redis refused the batch because of what is stored under one of its keys."""
