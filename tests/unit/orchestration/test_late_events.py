"""late_events_sensor's choices: which days a batch makes late, and the one run it asks for."""

from __future__ import annotations

from datetime import date

import dagster as dg

from keys import HELD_METADATA
from sensors.late_events import LateEventsCursor, days_request, late_days, update_held

TODAY = date(2026, 11, 26)
FIRST = date(2026, 1, 1)


def metadata(rows_added: int, *days: str) -> dict[str, dg.MetadataValue]:
    return {"rows_added": dg.MetadataValue.int(rows_added), "event_dates": dg.MetadataValue.json(list(days))}


def test_only_past_days_within_the_partitions_count():
    found = late_days(metadata(5, "2026-11-26", "2026-11-20", "2025-12-31", "2026-11-25"), TODAY, FIRST)
    assert found == [date(2026, 11, 20), date(2026, 11, 25)], "not today, not before the first partition"


def test_a_batch_that_added_nothing_makes_no_day_late():
    assert late_days(metadata(0, "2026-11-20"), TODAY, FIRST) == []


def test_one_day_is_a_partition_run_and_several_are_one_range_run():
    single = days_request([date(2026, 11, 20)], "7", "late-events")
    assert single.partition_key == "2026-11-20"
    assert single.run_key == "late-2026-11-20-7"
    assert single.tags["analytics/trigger"] == "late-events"

    several = days_request([date(2026, 11, 18), date(2026, 11, 20)], "9", "late-events")
    assert several.partition_key is None
    assert several.partition_key_range == dg.PartitionKeyRange("2026-11-18", "2026-11-20")
    assert several.tags["analytics/late-days"] == "2026-11-18,2026-11-20"


def daily(held: dict[str, dict[str, int]]) -> dict[str, dg.MetadataValue]:
    return {HELD_METADATA: dg.MetadataValue.json(held)}


def test_a_held_day_is_remembered_until_a_run_writes_it():
    held: dict[str, list[str]] = {}
    update_held(held, ["2026-11-20"], daily({"2026-11-20": {"blog": 2}}))
    assert held == {"2026-11-20": ["blog"]}
    update_held(held, ["2026-11-21"], daily({}))
    assert held == {"2026-11-20": ["blog"]}, "a run of another day leaves it held"
    update_held(held, ["2026-11-20"], daily({}))
    assert held == {}, "a run that wrote the day releases it"


def test_the_cursor_round_trips_and_reads_the_earlier_plain_cursor():
    cursor = LateEventsCursor(validated="v", daily="d", held={"2026-11-20": ["blog"]}, recheck_at=5.0)
    assert LateEventsCursor.parse(cursor.dumps()) == cursor
    assert LateEventsCursor.parse("12345") == LateEventsCursor(validated="12345")
    assert LateEventsCursor.parse(None) == LateEventsCursor()
