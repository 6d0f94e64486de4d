"""Keep one consumer process running (a stream worker, the metadata indexer): restart it when it
dies of anything but a requested stop.

In production a process manager (systemd, Kubernetes) does this; the supervisor makes
``analytics stream-worker`` behave the same on a laptop, where the watchdog's exit or a crash
would otherwise leave the partitions without a consumer.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from types import FrameType

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0
HEALTHY_RUN_S = 60.0  # a child that lived this long resets the backoff


def supervise(argv: Sequence[str]) -> int:
    """Run ``argv`` until it exits 0 or we are told to stop (SIGTERM/SIGINT, passed on to it)."""
    stopping = threading.Event()
    current: dict[str, subprocess.Popen[bytes]] = {}

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        child = current.get("child")
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    backoff = 1.0
    while True:
        started = time.monotonic()
        current["child"] = child = subprocess.Popen(list(argv))  # noqa: S603 - our own command line
        code = child.wait()
        if stopping.is_set() or code == 0:
            return code
        if time.monotonic() - started > HEALTHY_RUN_S:
            backoff = 1.0
        log.warning("%s exited with code %d; restarting in %.0f s", " ".join(argv[-3:]), code, backoff)
        if stopping.wait(backoff):
            return code
        backoff = min(backoff * 2, MAX_BACKOFF_S)
