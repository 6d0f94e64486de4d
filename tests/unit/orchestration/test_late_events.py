"""late_events_sensor's choices: which days a batch makes late, and the one run it asks for."""

from __future__ import annotations

from datetime import date

import dagster as dg

from sensors.late_events import days_request, late_days

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
    single = days_request([date(2026, 11, 20)], storage_id=7)
    assert single.partition_key == "2026-11-20"
    assert single.run_key == "late-2026-11-20-7"

    several = days_request([date(2026, 11, 18), date(2026, 11, 20)], storage_id=9)
    assert several.partition_key is None
    assert several.partition_key_range == dg.PartitionKeyRange("2026-11-18", "2026-11-20")
    assert several.tags["analytics/late-days"] == "2026-11-18,2026-11-20"
