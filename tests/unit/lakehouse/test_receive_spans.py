"""The receive times validated_events compares a batch with: each received hour of the batch,
widened by the dedup window, overlapping spans merged."""

from __future__ import annotations

from datetime import datetime, timedelta

from analytics_pipeline.lakehouse.validated_and_quarantined import receive_spans

H = timedelta(hours=1)
T = datetime(2026, 12, 1, 10)


def test_one_hour_is_widened_on_both_sides():
    assert receive_spans([T], timedelta(minutes=30)) == [(T - H / 2, T + H + H / 2)]


def test_neighbouring_hours_merge_into_one_span():
    assert receive_spans([T + H, T, T + H], H) == [(T - H, T + 3 * H)]


def test_hours_further_apart_than_twice_the_window_stay_apart():
    """A redriven record received days ago, in a batch of today's: two small spans, not days."""
    old = T - timedelta(days=3)
    assert receive_spans([T, old], H) == [(old - H, old + 2 * H), (T - H, T + 2 * H)]


def test_a_zero_window_still_covers_the_hour_itself():
    assert receive_spans([T], timedelta(0)) == [(T, T + H)]
