"""The paths measured in this process: the raw producer (the reference for the batch API and the
SDK, and at a fixed rate for the latency of /v1/events) and the SDK itself. Each returns the ids
it got acknowledged."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from datetime import timedelta

from analytics_pipeline.events.envelope import TimeWindow, validate_event
from analytics_pipeline.events.record import kafka_record
from analytics_pipeline.kafka_io.producer import OutgoingRecord, build_kafka_producer
from analytics_pipeline.sdk import AnalyticsClient, BatchOutcome
from analytics_pipeline.settings import Settings
from analytics_pipeline.timeutil import utc_now
from bench.common import BenchError

EVENT_ID = "__EVENT_ID__"


def event_ids(tag: str, count: int) -> list[str]:
    return [f"{tag}-{n}" for n in range(count)]


def api_records(settings: Settings, project_id: str, template: str, ids: list[str]) -> list[OutgoingRecord]:
    """The records the ingestion API writes for these events (the same JSON, projectId and
    receivedAt included), built before the clock starts."""
    received_at = utc_now()
    window = TimeWindow(
        max_future=timedelta(seconds=settings.max_future_skew_s),
        max_age=timedelta(seconds=settings.max_event_age_s),
    )
    records = []
    for event_id in ids:
        valid, errors = validate_event(
            json.loads(template.replace(EVENT_ID, event_id)), received_at=received_at, window=window
        )
        if valid is None or errors:
            raise BenchError(f"the bench's event is invalid: {errors}")
        records.append(kafka_record(valid, project_id, received_at))
    return records


def produce(settings: Settings, records: list[OutgoingRecord]) -> tuple[float, list[str]]:
    """Seconds to write every record with the ingestion API's producer settings (acks=all,
    idempotence, snappy, its linger) and have each acknowledged."""
    producer = build_kafka_producer(settings)
    try:
        producer.partitions_for(records[0].topic)  # metadata before the clock starts
        started = time.perf_counter()
        futures = [producer.send(r.topic, key=r.key, value=r.value) for r in records]
        for future in futures:
            future.get(timeout=60)
        return time.perf_counter() - started, [r.key.decode() for r in records]
    finally:
        producer.close()


def produce_at_rate(
    settings: Settings, records: list[OutgoingRecord], rate: float
) -> tuple[list[float], list[str]]:
    """Each record sent when it is due (``rate`` a second) and timed from then to its
    acknowledgement, in ms: the producer's own latency at the rate the API is timed at."""
    producer = build_kafka_producer(settings)
    latencies_ms: list[float] = []  # appended on the producer's I/O thread

    def acknowledged(due: float) -> Callable[[object], None]:
        return lambda _metadata: latencies_ms.append((time.perf_counter() - due) * 1000)

    # As in the API (web.app), what was built before the clock starts is out of the collector's
    # sight: the bench holds every id it checks, and a full collection would pause the sends.
    gc.freeze()
    try:
        producer.partitions_for(records[0].topic)  # metadata before the clock starts
        started = time.perf_counter()
        futures = []
        for n, record in enumerate(records):
            due = started + n / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            future = producer.send(record.topic, key=record.key, value=record.value)
            futures.append(future.add_callback(acknowledged(due)))
        for future in futures:
            future.get(timeout=60)
        producer.flush()  # the last callbacks have run once the producer holds nothing
        if len(latencies_ms) != len(records):
            raise BenchError(f"{len(latencies_ms)} acknowledgements timed for {len(records)} records")
        return latencies_ms, [r.key.decode() for r in records]
    finally:
        gc.unfreeze()
        producer.close()


def track_all(url: str, api_key: str, template: str, ids: list[str]) -> tuple[float, list[str]]:
    """Seconds for the SDK to deliver every event (track, then flush), and the ids the API accepted."""
    event = json.loads(template)
    accepted: list[str] = []
    collect: Callable[[BatchOutcome], None] = lambda outcome: accepted.extend(outcome.accepted)  # noqa: E731
    started = time.perf_counter()
    with AnalyticsClient(api_key, url, on_result=collect) as client:
        for event_id in ids:
            client.track(
                event["eventType"],
                event["userId"],
                event["properties"],
                event_id=event_id,
                timestamp=event["timestamp"],
            )
        if not client.flush(timeout_s=300):
            raise BenchError("the SDK did not deliver its events within 300 s")
        elapsed = time.perf_counter() - started
        report = client.report()
    if report.failed or report.rejected:
        raise BenchError(f"the SDK did not deliver every event: {report}")
    return elapsed, accepted
