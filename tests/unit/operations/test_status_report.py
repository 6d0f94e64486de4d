"""`analytics status` names recent leader elections among its alarms and in its JSON."""

from __future__ import annotations

from analytics_pipeline.operations.leader_elections import TopicElections
from analytics_pipeline.operations.status import StatusReport

LATEST = 1_796_223_141.6  # 2026-12-02T14:52:21.600Z


def test_recent_leader_elections_raise_an_alarm_per_topic() -> None:
    report = StatusReport(
        [],
        elections=[
            TopicElections("__consumer_offsets", tuple(range(10)), LATEST),
            TopicElections("events.shop", (1,), LATEST),
        ],
        elections_total={"__consumer_offsets": 20, "events.shop": 2},
    )
    assert report.alarms == [
        "recent leader elections: __consumer_offsets/0-9, latest 2026-12-02T14:52:21.600Z",
        "recent leader elections: events.shop/1, latest 2026-12-02T14:52:21.600Z",
    ]
    elections = report.as_json()["leader_elections"]
    assert elections["total"] == {"__consumer_offsets": 20, "events.shop": 2}
    assert elections["recent"][1] == {
        "topic": "events.shop",
        "partitions": (1,),
        "latest": "2026-12-02T14:52:21.600Z",
    }


def test_no_election_no_alarm() -> None:
    assert StatusReport([], elections_total={"events.shop": 2}).alarms == []
