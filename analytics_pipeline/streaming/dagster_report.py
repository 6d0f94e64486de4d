"""Report the real-time aggregates to Dagster as materializations of the external asset
``realtime_metrics``, so the lineage graph shows the streaming path beside the batch one.

Over the webserver's HTTP endpoint (no dagster import in the services), from a background
thread, at most once per interval; a webserver that is down costs a log line, never a batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Any

import httpx

log = logging.getLogger(__name__)

REALTIME_METRICS_ASSET = "realtime_metrics"


class DagsterReporter:
    def __init__(self, dagster_url: str, interval_s: float, worker_id: str) -> None:
        self._endpoint = f"{dagster_url.rstrip('/')}/report_asset_materialization/{REALTIME_METRICS_ASSET}"
        self._interval_s = interval_s
        self._worker_id = worker_id
        self._totals: Counter[str] = Counter()
        self._projects: set[str] = set()
        self._last_report = 0.0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._warned = False
        self.reports_sent = 0

    def note(self, applied: int, duplicates: int, dead_lettered: int, projects: set[str]) -> None:
        with self._lock:
            self._totals.update(applied=applied, duplicates=duplicates, dead_lettered=dead_lettered)
            self._projects |= projects

    def maybe_report(self, lag: int) -> None:
        """Send what accumulated if the interval has passed and there is something to say."""
        busy = self._thread is not None and self._thread.is_alive()
        if busy or time.monotonic() - self._last_report < self._interval_s:
            return
        report = self._take(lag)
        if report is not None:
            self._thread = threading.Thread(target=self._send, args=report, daemon=True)
            self._thread.start()

    def close(self, lag: int = 0, timeout_s: float = 5.0) -> None:
        """Wait for a report in flight, then send what is left (a stopping worker's last counts)."""
        if self._thread is not None:
            self._thread.join(timeout_s)
        report = self._take(lag)
        if report is not None:
            self._send(*report)

    def _take(self, lag: int) -> tuple[dict[str, Any], Counter[str], set[str]] | None:
        with self._lock:
            if not any(self._totals.values()):
                return None
            totals, projects = self._totals, self._projects
            self._totals, self._projects = Counter(), set()
        self._last_report = time.monotonic()
        body = {
            "description": f"Real-time aggregates updated by stream worker {self._worker_id}",
            "metadata": {
                "events_applied": totals["applied"],
                "duplicates_skipped": totals["duplicates"],
                "dead_lettered": totals["dead_lettered"],
                "projects": ", ".join(sorted(projects)),
                "consumer_lag": lag,
                "worker": self._worker_id,
            },
        }
        return body, totals, projects

    def _send(self, body: dict[str, Any], totals: Counter[str], projects: set[str]) -> None:
        try:
            response = httpx.post(self._endpoint, json=body, timeout=5.0)
            response.raise_for_status()
            self.reports_sent += 1
        except Exception as exc:  # noqa: BLE001 - a report must never take the worker down
            # Not running Dagster is a normal setup: say so once, then keep quiet.
            log.log(
                logging.DEBUG if self._warned else logging.WARNING,
                "Dagster at %s did not take the realtime_metrics report (%s); totals carried to the next one",
                self._endpoint,
                exc,
            )
            self._warned = True
            self.note(totals["applied"], totals["duplicates"], totals["dead_lettered"], projects)
