"""Consume rates from the exporter's own samples of committed offsets."""

from __future__ import annotations

import pytest

from analytics_pipeline.operations.consume_rate import CommittedHistory

K = ("stream-processing", "events.shop", 0)


def test_no_rate_from_one_sample() -> None:
    history = CommittedHistory(window_s=60.0)
    history.add(0.0, {K: 10})
    assert history.rates() == {}


def test_the_rate_starts_at_the_newest_sample_a_window_old() -> None:
    history = CommittedHistory(window_s=60.0)
    for t in range(0, 100, 5):  # committed grows 2 per second until t=50, then 10 per second
        history.add(float(t), {K: 2 * t if t <= 50 else 100 + 10 * (t - 50)})
    # now 95: the start is t=35 (committed 70); at 95 committed is 550
    assert history.rates() == {K: pytest.approx((550 - 70) / 60.0)}


def test_before_a_full_window_the_rate_covers_what_was_sampled() -> None:
    history = CommittedHistory(window_s=60.0)
    history.add(0.0, {K: 0})
    history.add(20.0, {K: 100})
    assert history.rates() == {K: pytest.approx(5.0)}


def test_a_group_moved_back_counts_zero() -> None:
    history = CommittedHistory(window_s=60.0)
    history.add(0.0, {K: 500})
    history.add(10.0, {K: 100})
    assert history.rates() == {K: 0.0}


def test_a_group_that_began_committing_lately_is_measured_from_its_first_commit() -> None:
    other = ("batch-etl", "events.shop", 0)
    history = CommittedHistory(window_s=60.0)
    history.add(0.0, {K: 0})
    history.add(10.0, {K: 10, other: 40})
    assert history.rates() == {K: 1.0}, "one sample of the other group: no rate yet"
    history.add(30.0, {K: 30, other: 100})
    assert history.rates() == {K: 1.0, other: 3.0}
