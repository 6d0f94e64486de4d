"""Window snapshots: the built-in metrics on their own topics, every eventType on one topic."""

from __future__ import annotations

from analytics_pipeline.streaming.outputs import EVENT_TYPES, snapshot_placement


def test_built_in_metrics_keep_their_topics_and_keys() -> None:
    assert snapshot_placement("shop", "all_events") == ("all_events", "shop")
    assert snapshot_placement("shop", "active_users") == ("active_users", "shop")


def test_every_event_type_shares_one_topic_keyed_by_type() -> None:
    assert snapshot_placement("shop", "purchase") == (EVENT_TYPES, "shop:purchase")
    assert snapshot_placement("blog", "signup_v2") == (EVENT_TYPES, "blog:signup_v2")
