"""The pacer spaces events evenly and does not burst after a stall."""

from __future__ import annotations

import pytest

from analytics_pipeline.loadgen.pacing import Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def test_events_are_spaced_one_interval_apart() -> None:
    time = FakeTime()
    pacer = Pacer(10, clock=time.clock, sleep=time.sleep)
    for _ in range(5):
        pacer.wait()
    assert time.sleeps == [0.1, 0.1, 0.1, 0.1]


def test_a_long_stall_restarts_the_schedule_instead_of_bursting() -> None:
    time = FakeTime()
    pacer = Pacer(10, clock=time.clock, sleep=time.sleep)
    pacer.wait()
    time.now += 5.0  # e.g. blocked on a full queue
    pacer.wait()
    pacer.wait()
    assert time.sleeps == [0.1]


def test_without_a_rate_nothing_waits() -> None:
    time = FakeTime()
    pacer = Pacer(None, clock=time.clock, sleep=time.sleep)
    for _ in range(3):
        pacer.wait()
    assert time.sleeps == []


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rate must be positive"):
        Pacer(0)
