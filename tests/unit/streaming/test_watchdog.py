"""The watchdog ends a loop that stopped beating, and leaves a beating one alone."""

from __future__ import annotations

import threading
import time

from analytics_pipeline.streaming.watchdog import Watchdog


def test_a_silent_loop_is_ended():
    stalled = threading.Event()
    watchdog = Watchdog(0.2, on_stall=stalled.set)
    watchdog.start()
    assert stalled.wait(2.0)


def test_a_beating_loop_is_left_alone():
    stalled = threading.Event()
    watchdog = Watchdog(0.3, on_stall=stalled.set)
    watchdog.start()
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        watchdog.beat()
        time.sleep(0.02)
    watchdog.stop()
    assert not stalled.is_set()
