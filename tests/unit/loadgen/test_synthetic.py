"""The synthetic events: reproducible, realistic in mix, skew and time, and valid for the server."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from analytics_pipeline.events.envelope import TimeWindow, validate_event
from analytics_pipeline.loadgen.synthetic import CURRENCIES, EVENT_MIX, PLANS, generate_events

NOW = datetime(2026, 11, 26, 12, 30, 15, 123_456, tzinfo=UTC)
PROPERTY_KEYS = {
    "page_view": {"path", "referrer"},
    "add_to_cart": {"productId", "amount", "quantity"},
    "purchase": {"amount", "currency", "orderId", "items"},
    "signup": {"plan", "source"},
}


def test_the_same_seed_gives_the_same_events() -> None:
    first = list(generate_events(300, now=NOW, seed=7))
    assert first == list(generate_events(300, now=NOW, seed=7))
    assert first != list(generate_events(300, now=NOW, seed=8))
    assert len({event.event_id for event in first}) == 300


def test_the_mix_has_many_page_views_and_few_signups() -> None:
    counts = Counter(event.event_type for event in generate_events(20_000, now=NOW, seed=1))
    for event_type, share in EVENT_MIX.items():
        assert abs(counts[event_type] / 20_000 - share) < 0.02, event_type
    assert counts["page_view"] > counts["add_to_cart"] > counts["purchase"] > counts["signup"] > 0


def test_a_few_users_produce_many_events() -> None:
    per_user = Counter(event.user_id for event in generate_events(20_000, now=NOW, users=1_000, seed=2))
    top_1_percent = sum(count for _, count in per_user.most_common(10))
    assert top_1_percent / 20_000 > 0.2  # twenty times their share of the population
    assert len(per_user) > 500  # and yet the long tail is there


@pytest.mark.parametrize("days", [1, 7])
def test_timestamps_lie_in_the_last_days_and_never_in_the_future(days: int) -> None:
    stamps = [event.timestamp for event in generate_events(5_000, now=NOW, days=days, seed=3)]
    assert all(NOW - timedelta(days=days) <= stamp <= NOW for stamp in stamps)
    assert max(stamps) - min(stamps) > timedelta(days=days) * 0.9  # spread over the window


def test_afternoons_are_busier_than_nights() -> None:
    hours = Counter(event.timestamp.hour for event in generate_events(20_000, now=NOW, days=7, seed=4))
    afternoon = sum(hours[h] for h in range(12, 20))
    night = sum(hours[h] for h in range(0, 8))
    assert afternoon > 2 * night


def test_properties_match_each_event_type() -> None:
    for event in generate_events(3_000, now=NOW, seed=5):
        props = event.properties
        assert set(props) == PROPERTY_KEYS[event.event_type]
        if "amount" in props:
            assert isinstance(props["amount"], float)
            assert props["amount"] > 0
            assert round(props["amount"], 2) == props["amount"]
        if event.event_type == "purchase":
            assert props["currency"] in CURRENCIES
            assert props["items"] >= 1
        if event.event_type == "signup":
            assert props["plan"] in PLANS


@pytest.mark.parametrize("days", [1, 30])
def test_every_event_passes_the_server_envelope_validation(days: int) -> None:
    window = TimeWindow(max_future=timedelta(0), max_age=timedelta(days=days))
    for event in generate_events(2_000, now=NOW, days=days, seed=6):
        for sent_at in (None, NOW):  # alone, and in a batch stamped at send time as the SDK does
            valid, errors = validate_event(
                event.as_payload(), received_at=NOW, window=window, batch_sent_at=sent_at
            )
            assert errors == []
            assert valid is not None


@pytest.mark.parametrize("arguments", [{"days": 0}, {"users": 0}, {"count": -1}])
def test_impossible_arguments_are_refused(arguments: dict[str, int]) -> None:
    options = {"count": 1, "days": 1, "users": 1} | arguments
    with pytest.raises(ValueError, match="need days >= 1"):
        generate_events(options["count"], now=NOW, days=options["days"], users=options["users"])
