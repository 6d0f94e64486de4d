"""Hot partitions: what is out of line at one look, the sustain clock across looks, top keys."""

from __future__ import annotations

from analytics_pipeline.kafka_io.admin import TopicRecord
from analytics_pipeline.operations.group_lag import RATE_WINDOW_S, TopicEnds
from analytics_pipeline.operations.hot_partitions import (
    LAG,
    SKEW,
    Alert,
    HotPartitionRule,
    HotState,
    TopKeys,
    alert_json,
    assess,
    describe,
    findings,
    skew_findings,
    top_keys,
)
from analytics_pipeline.settings import Settings
from tests.support.events import new_event
from tests.support.raw_events import raw_record

T = "events.shop"
RULE = HotPartitionRule(factor=2.0, sustain_s=300.0, min_records=1_000)

# Partition 1 received 3,000 of the topic's 3,400 records in the last minute, and the group lags
# 3,000 there and nowhere else (average 1,000).
ENDS = TopicEnds({(T, 0): 1_000, (T, 1): 5_000, (T, 2): 1_000}, {(T, 0): 800, (T, 1): 2_000, (T, 2): 800})
COMMITTED = {"stream": {(T, 0): 1_000, (T, 1): 2_000, (T, 2): 1_000}}


def test_a_lagging_partition_and_a_skewed_one_are_found_with_their_figures() -> None:
    found = {f.kind: f for f in findings(ENDS, COMMITTED, RULE)}
    assert set(found) == {LAG, SKEW}
    lag = found[LAG]
    assert (lag.topic, lag.partition, lag.group, lag.lag, lag.average_lag) == (T, 1, "stream", 3_000, 1_000)
    assert (lag.appended, lag.topic_appended, lag.share) == (3_000, 3_400, 3_000 / 3_400)
    skew = found[SKEW]
    assert (skew.partition, skew.group, skew.topic_partitions) == (1, "", 3)


def test_lag_is_compared_within_its_topic_so_a_big_project_does_not_make_a_small_one_hot() -> None:
    big, small = "events.big", "events.small"
    ends = TopicEnds({**{(big, p): 90_000 for p in range(3)}, **{(small, p): 10_000 for p in range(3)}}, {})
    committed = {"etl": {**{(big, p): 0 for p in range(3)}, **{(small, p): 0 for p in range(3)}}}
    assert findings(ends, committed, RULE) == [], "each topic lags evenly"


def test_lag_below_the_minimum_is_not_hot_however_skewed() -> None:
    ends = TopicEnds({(T, 0): 999, (T, 1): 0, (T, 2): 0}, {})
    assert findings(ends, {"g": {(T, 0): 0, (T, 1): 0, (T, 2): 0}}, RULE) == []
    ends = TopicEnds({(T, 0): 1_000, (T, 1): 0, (T, 2): 0}, {})
    assert [f.lag for f in findings(ends, {"g": {(T, 0): 0, (T, 1): 0, (T, 2): 0}}, RULE)] == [1_000]


def test_skew_needs_the_minimum_count_and_more_than_the_factor_times_the_average() -> None:
    def appended(*counts: int) -> TopicEnds:
        return TopicEnds({(T, p): n for p, n in enumerate(counts)}, {(T, p): 0 for p in range(len(counts))})

    assert skew_findings(appended(999, 0, 0), RULE) == [], "below 1,000 records"
    assert [f.partition for f in skew_findings(appended(0, 0, 1_000), RULE)] == [2]
    assert skew_findings(appended(2_000, 1_000, 0), RULE) == [], "exactly twice the average is not more"
    assert skew_findings(TopicEnds({(T, 0): 50_000}, {(T, 0): 0}), RULE) == [], "one partition: no skew"


def test_lag_alerts_only_after_the_sustain_time_and_a_dip_starts_the_clock_again() -> None:
    lag = [f for f in findings(ENDS, COMMITTED, RULE) if f.kind == LAG]
    first = assess(HotState(), lag, 1_000.0, RULE)
    assert first.alerts == []
    assert first.state.since == {lag[0].key: 1_000.0}
    held = assess(HotState.parse(first.state.dumps()), lag, 1_299.0, RULE)
    assert held.alerts == [], "299 s is not 300"
    due = assess(held.state, lag, 1_300.0, RULE)
    assert [(a.finding.partition, a.since) for a in due.raised] == [(1, 1_000.0)]
    dip = assess(due.state, [], 1_330.0, RULE)
    assert dip.cleared == [lag[0].key]
    assert dip.changed == [LAG]
    again = assess(dip.state, lag, 1_360.0, RULE)
    assert again.alerts == []
    assert again.state.since == {lag[0].key: 1_360.0}


def test_skew_alerts_at_once_and_each_kind_is_reported_when_its_alerts_change() -> None:
    found = findings(ENDS, COMMITTED, RULE)
    first = assess(HotState(), found, 0.0, RULE)
    assert [a.finding.kind for a in first.raised] == [SKEW]
    assert first.changed == [LAG, SKEW], "never reported: both kinds report, lag as passing"
    steady = assess(first.state, found, 10.0, RULE)
    assert (steady.raised, steady.cleared, steady.changed) == ([], [], [])
    assert [a.finding.kind for a in steady.alerts] == [SKEW], "still in force"


def test_top_keys_count_event_types_and_users_per_partition_and_name_unreadable_records() -> None:
    events = [("checkout", "u-hot")] * 3 + [("page_view", "u-hot"), ("page_view", "u-2"), ("signup", "u-3")]
    records = [
        TopicRecord(T, 1, offset, *raw_record("shop", new_event(eventType=kind, userId=user)))
        for offset, (kind, user) in enumerate(events)
    ]
    records.append(TopicRecord(T, 1, 99, b"k", b"not json"))
    records.append(TopicRecord(T, 0, 0, *raw_record("shop", new_event())))
    keys = top_keys(records, n=2)
    assert keys[(T, 1)] == TopKeys(7, [("checkout", 3), ("page_view", 2)], [("u-hot", 4), ("u-2", 1)], 1)
    assert keys[(T, 0)].event_types == [("page_view", 1)]


def test_an_alert_names_topic_partition_lag_share_and_top_keys() -> None:
    lag = next(f for f in findings(ENDS, COMMITTED, RULE) if f.kind == LAG)
    alert, keys = Alert(lag, 1_000.0), TopKeys(500, [("checkout", 450)], [("u-hot", 420)])
    assert alert_json(alert, keys, 1_305.0) == {
        "kind": "lag",
        "topic": T,
        "partition": 1,
        "group": "stream",
        "lag": 3_000,
        "topic_average_lag": 1_000.0,
        "share_of_topic_traffic": round(3_000 / 3_400, 4),
        "events_per_s": round(3_000 / RATE_WINDOW_S, 2),
        "topic_events_per_s": round(3_400 / RATE_WINDOW_S, 2),
        "hot_for_s": 305.0,
        "sampled_records": 500,
        "top_event_types": {"checkout": 450},
        "top_user_ids": {"u-hot": 420},
        "unreadable_records": 0,
    }
    line = describe(alert, keys, 1_305.0)
    assert line.startswith("hot partition events.shop/1 in stream: lag 3,000 (3.0x the topic's average")
    assert "for 305 s; 88% of the topic's records" in line
    assert line.endswith("top eventTypes checkout (450), top userIds u-hot (420)")


def test_the_rule_comes_from_the_settings_with_the_design_s_defaults(clean_analytics_env) -> None:
    assert HotPartitionRule.from_settings(Settings()) == HotPartitionRule(2.0, 300.0, 1_000)
    tuned = Settings(hot_partition_factor=3, hot_partition_sustain_s=20, hot_partition_min_records=10)
    assert HotPartitionRule.from_settings(tuned) == HotPartitionRule(3.0, 20.0, 10)
