"""What the ingestion API is told per record: acknowledged, never taken by the producer, given up
after being taken (it may be in a leader's log), or still held when the HTTP wait ends."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from analytics_pipeline.kafka_io.producer import (
    AckedProducer,
    DeliveryFailed,
    NotSent,
    OutgoingRecord,
    StillDelivering,
)


class RecordFuture:
    """The part of kafka-python's FutureRecordMetadata the producer wrapper uses."""

    def __init__(self) -> None:
        self.callbacks: list[Callable[[Any], None]] = []
        self.errbacks: list[Callable[[BaseException], None]] = []

    def add_callback(self, fn: Callable[[Any], None]) -> None:
        self.callbacks.append(fn)

    def add_errback(self, fn: Callable[[BaseException], None]) -> None:
        self.errbacks.append(fn)


class Metadata:
    """The part of kafka-python's ClusterMetadata the wrapper reads: which topics it knows."""

    def __init__(self, known: set[str]) -> None:
        self.known = known

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return {0} if topic in self.known else None


class ScriptedProducer:
    """Answers each send as its key says: ``ack``, ``fail``, ``raise`` or ``hold``, and notes
    the thread each send ran on."""

    def __init__(self, known_topics: set[str] | None = None) -> None:
        self.held: list[RecordFuture] = []
        self._metadata = Metadata(known_topics if known_topics is not None else {"events.p"})
        self.send_threads: list[str] = []

    def send(self, topic: str, *, key: bytes, value: bytes) -> RecordFuture:
        self.send_threads.append(threading.current_thread().name)
        future = RecordFuture()
        if key == b"raise":
            raise RuntimeError("no metadata for the topic")
        if key == b"ack":
            future.add_callback = lambda fn: fn("metadata")  # type: ignore[method-assign]
        elif key == b"fail":
            future.add_errback = lambda fn: fn(TimeoutError("expired"))  # type: ignore[method-assign]
        else:
            self.held.append(future)
        return future

    def close(self, timeout: float = 0) -> None:
        pass


def record(key: str) -> OutgoingRecord:
    return OutgoingRecord("events.p", key.encode(), b"{}")


def test_each_record_says_how_it_ended() -> None:
    producer = ScriptedProducer()
    acked = AckedProducer(lambda: producer, timeout_s=0.2, broker_reachable=lambda: False)  # type: ignore[arg-type, return-value]

    async def run() -> list[BaseException | None]:
        outcomes = await acked.send_all([record("ack"), record("fail"), record("hold")])
        held = outcomes[2]
        assert isinstance(held, StillDelivering)
        assert not held.settled.done()
        for errback in producer.held[0].errbacks:  # the producer gives up on it after the wait
            errback(TimeoutError("delivery timeout"))
        await asyncio.sleep(0)
        assert isinstance(held.settled.exception(), TimeoutError)
        return outcomes

    ok, failed, _held = asyncio.run(run())
    assert ok is None
    assert isinstance(failed, DeliveryFailed)
    assert isinstance(failed.cause, TimeoutError)


def test_a_record_the_producer_never_took_cannot_land() -> None:
    acked = AckedProducer(ScriptedProducer, timeout_s=0.2, broker_reachable=lambda: False)  # type: ignore[arg-type, return-value]
    (outcome,) = asyncio.run(acked.send_all([record("raise")]))
    assert isinstance(outcome, NotSent)
    assert "no metadata" in str(outcome)


@pytest.mark.parametrize("keys", [[], ["ack", "ack"]])
def test_nothing_failed_nothing_to_report(keys: list[str]) -> None:
    acked = AckedProducer(ScriptedProducer, timeout_s=0.2, broker_reachable=lambda: False)  # type: ignore[arg-type, return-value]
    assert asyncio.run(acked.send_all([record(k) for k in keys])) == [None] * len(keys)


@pytest.mark.parametrize(("known", "on_loop"), [({"events.p"}, True), (set(), False)])
def test_send_runs_on_the_event_loop_only_when_it_cannot_block(known: set[str], on_loop: bool) -> None:
    """A topic whose metadata the producer lacks makes ``send`` wait for it: that send goes to a
    worker thread, never onto the event loop."""
    producer = ScriptedProducer(known_topics=known)
    acked = AckedProducer(lambda: producer, timeout_s=0.2, broker_reachable=lambda: False)  # type: ignore[arg-type, return-value]
    (outcome,) = asyncio.run(acked.send_all([record("ack")]))
    assert outcome is None
    assert (producer.send_threads == [threading.main_thread().name]) is on_loop
