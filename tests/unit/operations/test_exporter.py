"""The exporter's loop: what a poll keeps across a Kafka outage, and how the process ends."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from analytics_pipeline.operations import exporter as exporter_module
from analytics_pipeline.operations.exporter import Exporter
from analytics_pipeline.operations.group_lag import TopicEnds, group_lags
from analytics_pipeline.operations.status import StatusReport
from analytics_pipeline.settings import Settings

T = "events.shop"


@pytest.fixture
def exporter(tmp_path: Path) -> Exporter:
    return Exporter(Settings(home=tmp_path, exporter_interval_s=0.05))


def answers(monkeypatch: pytest.MonkeyPatch, reports: list[StatusReport]) -> None:
    """Kafka's answers to the next polls, in order."""
    monkeypatch.setattr(exporter_module, "collect_kafka", lambda _settings: reports.pop(0))


def committed(offset: int) -> StatusReport:
    lags = group_lags(TopicEnds({(T, 0): 1_000}, {}), {"stream-processing": {(T, 0): offset}})
    return StatusReport([], lags, elections_total={T: 2})


def test_a_kafka_outage_keeps_the_election_counter_and_the_time_kafka_last_answered(
    exporter: Exporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers(monkeypatch, [committed(100), StatusReport([], kafka_error="refused"), committed(400)])
    first = exporter.poll()
    down = exporter.poll()
    assert (down.kafka_up, down.elections_total, down.last_success) == (False, {T: 2}, first.polled_at)
    back = exporter.poll()
    rate = back.consume_rates[("stream-processing", T, 0)]
    assert rate == pytest.approx(300 / (back.polled_at - first.polled_at))
    assert exporter.collector.snapshot is back


def test_a_stop_does_not_wait_for_a_poll_stuck_on_kafka(
    exporter: Exporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    stuck = threading.Event()
    monkeypatch.setattr(exporter, "poll", lambda: stuck.wait(60))
    stop = threading.Event()
    runner = threading.Thread(target=exporter.run, args=(stop,))
    runner.start()
    time.sleep(0.2)
    stopped_at = time.monotonic()
    stop.set()
    runner.join(5)
    assert not runner.is_alive()
    assert time.monotonic() - stopped_at < 2.0
    stuck.set()


def test_a_poll_loop_that_dies_ends_the_process_for_its_supervisor(
    exporter: Exporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise OSError("disk full")

    monkeypatch.setattr(exporter, "poll", broken)
    monkeypatch.setattr(threading, "excepthook", lambda _args: None)  # keep the test's output clean
    with pytest.raises(RuntimeError, match="poll loop ended"):
        exporter.run(threading.Event())
