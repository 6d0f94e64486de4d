"""Batch planning: when a run is requested, over which ranges, and how commits advance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from analytics_pipeline.lakehouse.batch_plan import (
    BatchPolicy,
    PlannerCursor,
    advance_commits,
    plan_batches,
    split_runs,
)
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, run_key

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
POLICY = BatchPolicy(batch_size=100, max_wait=timedelta(seconds=60), max_records=1_000)
A0, A1, B0 = ("events.a", 0), ("events.a", 1), ("events.b", 0)


def test_nothing_pending_requests_nothing_and_remembers_where_it_stands():
    plan = plan_batches(PlannerCursor(), {A0: 5}, {A0: 5, B0: 0}, POLICY, NOW)
    assert (plan.runs, plan.pending) == ([], 0)
    assert plan.cursor.next_offsets == {A0: 5, B0: 0}


def test_a_full_batch_is_requested_at_once_from_the_committed_offsets():
    plan = plan_batches(PlannerCursor(), {A0: 10}, {A0: 80, A1: 40}, POLICY, NOW)
    assert plan.runs == [[OffsetRange("events.a", 0, 10, 80), OffsetRange("events.a", 1, 0, 40)]]
    assert plan.cursor.next_offsets == {A0: 80, A1: 40}
    assert plan.cursor.pending_since is None


def test_a_small_batch_waits_then_goes_after_the_max_wait():
    first = plan_batches(PlannerCursor(), {}, {A0: 5}, POLICY, NOW)
    assert (first.runs, first.cursor.pending_since) == ([], NOW)
    soon = plan_batches(first.cursor, {}, {A0: 7}, POLICY, NOW + timedelta(seconds=30))
    assert (soon.runs, soon.cursor.pending_since) == ([], NOW), "the wait counts from the first sight"
    late = plan_batches(soon.cursor, {}, {A0: 9}, POLICY, NOW + timedelta(seconds=61))
    assert late.runs == [[OffsetRange("events.a", 0, 0, 9)]]
    assert late.cursor == PlannerCursor({A0: 9})


def test_the_cursor_wins_over_commits_so_a_range_is_never_requested_twice():
    cursor = PlannerCursor({A0: 200})
    plan = plan_batches(cursor, {A0: 50}, {A0: 350}, POLICY, NOW)
    assert plan.runs == [[OffsetRange("events.a", 0, 200, 350)]]
    again = plan_batches(plan.cursor, {A0: 50}, {A0: 350}, POLICY, NOW)
    assert again.runs == []


def test_a_backlog_is_split_into_runs_of_at_most_max_records():
    runs = split_runs([OffsetRange("events.a", 0, 0, 2_500), OffsetRange("events.b", 0, 0, 700)], 1_000)
    assert [sum(r.count for r in run) for run in runs] == [1_000, 1_000, 1_000, 200]
    assert runs[2] == [OffsetRange("events.a", 0, 2_000, 2_500), OffsetRange("events.b", 0, 0, 500)]
    flat = [r for run in runs for r in run]
    assert sum(r.count for r in flat) == 3_200


def test_a_replay_mark_starts_its_partition_again_from_the_commit_once():
    cursor = PlannerCursor({A0: 350, A1: 40})
    mark = {A0: "2026-11-26T11:00:00Z"}
    plan = plan_batches(cursor, {A0: 0, A1: 40}, {A0: 350, A1: 40}, POLICY, NOW, replays=mark)
    assert plan.runs == [[OffsetRange("events.a", 0, 0, 350)]]
    assert plan.cursor.replays == mark
    again = plan_batches(plan.cursor, {A0: 0, A1: 40}, {A0: 350, A1: 40}, POLICY, NOW, replays=mark)
    assert again.runs == [], "a mark is acted on once"
    assert plan.cursor.replay_stamps(plan.runs[0]) == ["2026-11-26T11:00:00Z"], (
        "read again: positions checked"
    )
    assert plan.cursor.replay_stamps([OffsetRange("events.a", 0, 350, 400)]) == [], "new records: not"
    idle = plan_batches(PlannerCursor({A0: 350}), {A0: 350}, {A0: 350}, POLICY, NOW, replays=mark)
    assert idle.cursor.replay_until == {A0: 350}, "kept when nothing is pending too"
    newer = {A0: "2026-11-26T11:30:00Z"}
    assert plan_batches(again.cursor, {A0: 300}, {A0: 350}, POLICY, NOW, replays=newer).pending == 50


def test_the_same_ranges_after_a_replay_get_another_run_key():
    ranges = [OffsetRange("events.a", 0, 0, 350)]
    assert run_key(ranges) == run_key(ranges, [])
    assert run_key(ranges, ["2026-11-26T11:00:00Z"]) not in (run_key(ranges), run_key(ranges, ["other"]))


def test_the_cursor_survives_json():
    cursor = PlannerCursor({A0: 3, ("events.with/slash", 2): 9}, NOW, {A1: "2026-11-26T11:00:00Z"}, {A1: 40})
    assert PlannerCursor.from_json(cursor.to_json()) == cursor
    assert PlannerCursor.from_json(None) == PlannerCursor()


def test_commits_advance_only_through_contiguous_succeeded_ranges():
    succeeded = [OffsetRange("events.a", 0, 100, 200), OffsetRange("events.a", 0, 0, 100)]
    assert advance_commits({}, succeeded) == {A0: 200}
    gap = [OffsetRange("events.a", 0, 100, 200), OffsetRange("events.a", 0, 300, 400)]
    assert advance_commits({A0: 100}, gap) == {A0: 200}, "200-300 never succeeded: 300-400 waits"
    assert advance_commits({A0: 400}, gap) == {}, "nothing moves backwards"
