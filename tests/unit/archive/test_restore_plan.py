"""What a restore reads and what it asks for afterwards."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pyarrow as pa

from analytics_pipeline.archive.parquet_object import ARCHIVE_SCHEMA
from analytics_pipeline.archive.restore_request import RESTORE_OF_TAG, restore_run_config
from analytics_pipeline.archive.restore_source import CLOCK_SLACK, ReceiptWindow
from analytics_pipeline.lakehouse.restore import etl_done
from sensors.restore import rederive_request

TODAY = date(2026, 6, 1)


def test_the_receipt_window_covers_every_record_that_can_hold_events_of_the_days() -> None:
    window = ReceiptWindow.for_days(
        date(2026, 3, 10), date(2026, 3, 11), timedelta(days=30), timedelta(hours=1)
    )
    assert window.start == datetime(2026, 3, 9, 23, tzinfo=UTC) - CLOCK_SLACK  # an event up to 1 h ahead
    assert window.end == datetime(2026, 4, 11, tzinfo=UTC) + CLOCK_SLACK  # received up to 30 days late


def run(first: str, last: str) -> dg.DagsterRun:
    config = restore_run_config("shop", date.fromisoformat(first), date.fromisoformat(last))
    return dg.DagsterRun(job_name="archive_restore", run_id="r-1", run_config=config)


def test_one_day_is_one_partition_rebuilt_from_bronze() -> None:
    request = rederive_request(run("2026-03-10", "2026-03-10"), date(2026, 1, 1), TODAY)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2026-03-10"
    assert request.run_config["ops"]["daily_metrics"]["config"] == {"rederive_validated": True}
    assert request.tags[RESTORE_OF_TAG] == "r-1"
    assert request.run_key == "rederive-r-1"


def test_several_days_are_one_run_over_their_range_clipped_to_the_first_partition() -> None:
    request = rederive_request(run("2025-12-30", "2026-01-03"), date(2026, 1, 1), TODAY)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key is None
    assert request.tags["dagster/asset_partition_range_start"] == "2026-01-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-01-03"


def test_today_is_left_out_it_has_no_partition_yet() -> None:
    request = rederive_request(run("2026-03-20", "2026-03-21"), date(2026, 1, 1), date(2026, 3, 21))
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2026-03-20"
    assert isinstance(
        rederive_request(run("2026-03-21", "2026-03-21"), date(2026, 1, 1), date(2026, 3, 21)), dg.SkipReason
    )


def test_days_before_the_first_partition_ask_for_nothing() -> None:
    assert isinstance(
        rederive_request(run("2025-12-01", "2025-12-02"), date(2026, 1, 1), TODAY), dg.SkipReason
    )


def test_a_restore_leaves_the_etl_what_it_has_not_committed() -> None:
    rows = [("events.shop", 0, o) for o in range(5)] + [("events.shop", 1, o) for o in range(3)]
    records = pa.Table.from_pylist(
        [
            {
                "topic": t,
                "partition": p,
                "offset": o,
                "timestamp": 0,
                "timestamp_type": 0,
                "key": None,
                "value": None,
                "headers": [],
            }
            for t, p, o in rows
        ],
        schema=ARCHIVE_SCHEMA,
    )
    kept = etl_done(records, {("events.shop", 0): 3})  # partition 1: never committed
    assert list(
        zip(kept.column("partition").to_pylist(), kept.column("offset").to_pylist(), strict=True)
    ) == [
        (0, 0),
        (0, 1),
        (0, 2),
    ]
