"""``analytics exporter``: the figures of ``analytics status`` as Prometheus metrics, from a loop
that reads Kafka every ``ANALYTICS_EXPORTER_INTERVAL_S``.

A poll loop rather than reading Kafka on each scrape:
- leader elections are seen only when someone looks, and the local stack has no Prometheus to
  scrape; the loop keeps the election log (and so the alarm of ``analytics status``) current;
- a scrape never waits on Kafka: with a broker down every call waits for its timeout, longer than
  a scrape's, and the scrape would lose the very ``analytics_kafka_up 0`` that says so;
- the consume rate needs the committed offsets of a minute ago, which Kafka does not keep;
- any number of scrapers cost Kafka nothing more.
"""

from __future__ import annotations

import logging
import threading
import time

from prometheus_client import CollectorRegistry

from analytics_pipeline.operations.consume_rate import CommittedHistory
from analytics_pipeline.operations.exporter_metrics import Snapshot, SnapshotCollector
from analytics_pipeline.operations.status import collect_kafka
from analytics_pipeline.settings import Settings
from analytics_pipeline.streaming.watchdog import Watchdog

log = logging.getLogger(__name__)

# A poll whose Kafka calls all time out takes well under a minute; one that takes this long is
# stuck in kafka-python (dpkp/kafka-python#3121) and the process exits to be restarted.
STALL_TIMEOUT_S = 180.0


class Exporter:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.collector = SnapshotCollector()
        self.registry = CollectorRegistry()
        self.registry.register(self.collector)
        self._history = CommittedHistory()

    def poll(self) -> Snapshot:
        """Read Kafka once and publish the result to the next scrapes."""
        started = time.monotonic()
        report = collect_kafka(self.settings)
        now = time.time()
        previous = self.collector.snapshot
        if report.kafka_error is None:
            committed = {(r.group, r.topic, r.partition): r.committed for r in report.lags}
            self._history.add(now, {key: offset for key, offset in committed.items() if offset is not None})
            if previous is not None and not previous.kafka_up:
                log.info("Kafka answers again")
            elections, last_success = report.elections_total, now
        else:
            if previous is None or previous.kafka_up:
                log.warning("Kafka does not answer: %s", report.kafka_error)
            elections = previous.elections_total if previous else {}
            last_success = previous.last_success if previous else None
        snapshot = Snapshot(
            report, now, time.monotonic() - started, self._history.rates(), elections, last_success
        )
        self.collector.snapshot = snapshot
        return snapshot

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set. The loop runs on a daemon thread: the exporter has nothing to
        finish on the way out, so a stop does not wait for a poll stuck on a Kafka that is down."""
        loop = threading.Thread(target=self._poll_until, args=(stop,), name="exporter-poll", daemon=True)
        loop.start()
        while not stop.wait(1.0):
            if not loop.is_alive():  # its exception is in the log; the supervisor starts another
                raise RuntimeError("the exporter's poll loop ended")

    def _poll_until(self, stop: threading.Event) -> None:
        watchdog = Watchdog(STALL_TIMEOUT_S)
        watchdog.start()
        settings = self.settings
        log.info("exporting %s every %g s", settings.kafka_bootstrap_servers, settings.exporter_interval_s)
        try:
            while not stop.is_set():
                self.poll()
                watchdog.beat()
                stop.wait(settings.exporter_interval_s)
        finally:
            watchdog.stop()
