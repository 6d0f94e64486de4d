"""Ends a worker process whose loop stopped making progress.

kafka-python 3.0.12 can block forever inside a blocking client call (its network thread never
answers the waiting caller: dpkp/kafka-python#3121, fixed after that release). A worker stuck
there keeps its partitions until the group evicts it and counts nothing. Exiting lets the
supervisor start a fresh one; the uncommitted batch is redelivered and counted once.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

STALLED_EXIT_CODE = 70


def exit_stalled() -> None:
    """Write every thread's stack to stderr (the log), then exit without cleanup (it may hang too)."""
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    os._exit(STALLED_EXIT_CODE)


class Watchdog:
    def __init__(self, timeout_s: float, on_stall: Callable[[], None] = exit_stalled) -> None:
        self._timeout_s = timeout_s
        self._on_stall = on_stall
        self._last_beat = time.monotonic()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stream-watchdog", daemon=True)

    def beat(self) -> None:
        """The loop made progress (call at least once per ``timeout_s``)."""
        self._last_beat = time.monotonic()

    def start(self) -> None:
        self.beat()
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _watch(self) -> None:
        while not self._stopped.wait(min(self._timeout_s / 4, 5.0)):
            silent_s = time.monotonic() - self._last_beat
            if silent_s > self._timeout_s:
                log.error("the worker loop made no progress for %.0f s; exiting to be restarted", silent_s)
                self._on_stall()
                return
