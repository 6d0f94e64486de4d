"""hot_partition_sensor over scripted Kafka looks and a clock the test moves: what it reports on
raw_events' checks, what it logs, and what it keeps in its cursor."""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
import pytest
from pydantic import PrivateAttr

from analytics_pipeline.kafka_io.admin import TopicRecord
from analytics_pipeline.operations.group_lag import TopicEnds
from analytics_pipeline.operations.hot_partitions import HotState
from resources.kafka import HotPartitionResource, KafkaResource
from sensors.hot_partitions import build_hot_partition_sensor
from tests.support.clock import Clock
from tests.support.events import new_event
from tests.support.raw_events import raw_record

T = "events.shop"
GROUP = "stream-processing"
SUSTAIN_S = 300.0
Look = tuple[TopicEnds, dict[str, dict[tuple[str, int], int]]]


class ScriptedKafka(HotPartitionResource):
    """Kafka as the test scripts it: one offsets look per tick (an exception: unreachable)."""

    _looks: list[Look | Exception] = PrivateAttr(default_factory=list)
    _records: list[TopicRecord] = PrivateAttr(default_factory=list)

    def read_offsets(self) -> Look:
        look = self._looks.pop(0)
        if isinstance(look, Exception):
            raise look
        return look

    def latest_records(self, partitions: list[tuple[str, int]]) -> list[TopicRecord]:
        return [r for r in self._records if (r.topic, r.partition) in partitions][-self.sample_records :]


def look(hot_lag: int, hot_appended: int) -> Look:
    """Partition 1 received ``hot_appended`` of the last minute's records (the others 100 each)
    and the group lags ``hot_lag`` there, nothing elsewhere."""
    minute_ago = {(T, 0): 9_900, (T, 1): 10_000 - hot_appended, (T, 2): 9_900}
    ends = TopicEnds({(T, p): 10_000 for p in range(3)}, minute_ago)
    return ends, {GROUP: {(T, 0): 10_000, (T, 1): 10_000 - hot_lag, (T, 2): 10_000}}


@pytest.fixture
def kafka() -> ScriptedKafka:
    resource = ScriptedKafka(
        kafka=KafkaResource(bootstrap_servers="127.0.0.1:1"),
        groups=[GROUP],
        factor=2.0,
        sustain_s=SUSTAIN_S,
        min_records=1_000,
        sample_records=10,
    )
    hot = [("checkout", "u-hot")] * 6 + [("page_view", "u-hot"), ("page_view", "u-7")] * 2
    older = [TopicRecord(T, 1, n, *raw_record("shop", new_event(eventType="signup"))) for n in range(5)]
    resource._records = older + [
        TopicRecord(T, 1, 5 + n, *raw_record("shop", new_event(eventType=kind, userId=user)))
        for n, (kind, user) in enumerate(hot)
    ]
    return resource


def tick(
    sensor: dg.SensorDefinition, kafka: ScriptedKafka, cursor: str | None, *looks: Look | Exception
) -> dg.SensorResult:
    kafka._looks.extend(looks)
    with dg.build_sensor_context(
        cursor=cursor, resources={"hot_partitions": dg.ResourceDefinition.hardcoded_resource(kafka)}
    ) as context:
        return sensor(context)


def evaluations(result: dg.SensorResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.asset_events}


@pytest.fixture
def run(kafka: ScriptedKafka) -> Callable[..., dg.SensorResult]:
    return lambda sensor, cursor, *looks: tick(sensor, kafka, cursor, *looks)


def test_skew_warns_at_once_lag_after_the_sustain_time_and_both_clear(run, capsys) -> None:
    clock = Clock(1_000.0)
    sensor = build_hot_partition_sensor(30, clock=clock)

    first = run(sensor, None, look(hot_lag=4_000, hot_appended=3_000))
    checks = evaluations(first)
    assert checks["hot_partitions"].passed, "lag not yet hot for 300 s"
    skew = checks["produce_skew"]
    assert (skew.passed, skew.severity) == (False, dg.AssetCheckSeverity.WARN)
    [entry] = skew.metadata["partitions"].value
    share = round(3_000 / 3_200, 4)
    assert (entry["topic"], entry["partition"], entry["share_of_topic_traffic"]) == (T, 1, share)

    clock.now += SUSTAIN_S - 1
    held = run(sensor, first.cursor, look(hot_lag=4_500, hot_appended=3_000))
    assert held.asset_events == [], "nothing changed: nothing reported again"
    assert "1 alert(s) in force: produce_skew events.shop/1" in held.skip_reason.skip_message

    clock.now += 1
    due = run(sensor, held.cursor, look(hot_lag=5_000, hot_appended=3_000))
    lag = evaluations(due)["hot_partitions"]
    assert (lag.passed, lag.severity) == (False, dg.AssetCheckSeverity.WARN)
    [entry] = lag.metadata["partitions"].value
    assert {k: entry[k] for k in ("topic", "partition", "group", "lag", "hot_for_s")} == {
        "topic": T,
        "partition": 1,
        "group": GROUP,
        "lag": 5_000,
        "hot_for_s": SUSTAIN_S,
    }
    assert entry["top_event_types"] == {"checkout": 6, "page_view": 4}, "the latest 10 records only"
    assert entry["top_user_ids"] == {"u-hot": 8, "u-7": 2}
    assert "hot partition events.shop/1 in stream-processing: lag 5,000" in lag.description
    assert "WARNING - hot partition events.shop/1 in stream-processing: lag 5,000" in capsys.readouterr().err

    clock.now += 30
    calm = run(sensor, due.cursor, look(hot_lag=0, hot_appended=100))
    checks = evaluations(calm)
    assert checks["hot_partitions"].passed
    assert checks["produce_skew"].passed
    assert HotState.parse(calm.cursor) == HotState({}, {"lag": [], "produce_skew": []})
    assert "INFO - cleared: lag events.shop/1 in stream-processing" in capsys.readouterr().err


def test_an_unreachable_kafka_keeps_the_clocks(run) -> None:
    clock = Clock(0.0)
    sensor = build_hot_partition_sensor(30, clock=clock)
    first = run(sensor, None, look(hot_lag=4_000, hot_appended=0))
    clock.now = 200.0
    away = run(sensor, first.cursor, ConnectionError("no broker"))
    assert "Kafka unreachable at 127.0.0.1:1: no broker" in away.skip_reason.skip_message
    assert away.cursor == first.cursor
    clock.now = SUSTAIN_S
    back = run(sensor, away.cursor, look(hot_lag=4_000, hot_appended=0))
    assert evaluations(back)["hot_partitions"].passed is False, "hot since 0 s, seen before and after"
