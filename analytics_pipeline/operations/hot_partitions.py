"""Hot partitions: a consumer group's partition whose lag stays above a multiple of its topic's
average for a sustained time, and a partition receiving a skewed share of its topic's records
(reported at once, before lag builds up).

Pure: it takes what ``group_lag`` read from Kafka and the state of the earlier looks (JSON, kept
in hot_partition_sensor's cursor, or in the memory of a metrics exporter) and says which alerts
are raised, held and cleared, so the sensor, ``analytics status`` and an exporter agree.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from analytics_pipeline.events.raw_record import parse_raw_record
from analytics_pipeline.kafka_io.admin import TopicRecord
from analytics_pipeline.operations.group_lag import (
    HOT_FACTOR,
    RATE_WINDOW_S,
    PartitionLag,
    TopicEnds,
    group_lags,
    topic_average_lags,
)
from analytics_pipeline.settings import Settings

LAG = "lag"  # a group's lag on the partition stays above the factor times its topic's average
SKEW = "produce_skew"  # the partition receives more than the factor times its topic's average
KINDS = (LAG, SKEW)
TOP_KEYS = 5  # event types and userIds an alert names
SAMPLE_RECORDS = 500  # latest records of a partition read to name them

TopicPartitionKey = tuple[str, int]


@dataclass(frozen=True)
class HotPartitionRule:
    factor: float = HOT_FACTOR
    sustain_s: float = 300.0
    min_records: int = 1_000  # smallest lag, or produce count over the rate window, that can be hot

    @classmethod
    def from_settings(cls, settings: Settings) -> HotPartitionRule:
        return cls(
            settings.hot_partition_factor,
            settings.hot_partition_sustain_s,
            settings.hot_partition_min_records,
        )

    def sustain_for(self, kind: str) -> float:
        """Lag must stay hot for ``sustain_s``; a produce rate is already a minute's average, and
        the point of reporting skew is to be early."""
        return self.sustain_s if kind == LAG else 0.0


@dataclass(frozen=True)
class Finding:
    """One partition out of line at one look."""

    kind: str
    topic: str
    partition: int
    group: str  # LAG: the consumer group; SKEW: "" (producers are no group)
    appended: int  # records the partition received over the rate window
    topic_appended: int  # records its topic received over the same window
    topic_partitions: int
    lag: int = 0  # LAG only
    average_lag: float = 0.0  # LAG only: the topic's average lag in the group

    @property
    def key(self) -> str:
        return f"{self.kind}|{self.group}|{self.topic}|{self.partition}"

    @property
    def label(self) -> str:
        """topic/partition, and the group for lag."""
        return f"{self.topic}/{self.partition}" + (f" in {self.group}" if self.group else "")

    @property
    def share(self) -> float:
        """The partition's share of its topic's records over the rate window."""
        return self.appended / self.topic_appended if self.topic_appended else 0.0


def findings(
    ends: TopicEnds, committed: Mapping[str, Mapping[TopicPartitionKey, int]], rule: HotPartitionRule
) -> list[Finding]:
    """Every partition out of line now: hot lag in each group, and skewed produce rates."""
    lags = group_lags(ends, committed, rule.factor, rule.min_records)
    return lag_findings(lags, ends) + skew_findings(ends, rule)


def lag_findings(lags: Sequence[PartitionLag], ends: TopicEnds) -> list[Finding]:
    averages = topic_average_lags(lags)
    traffic = _topic_traffic(ends)
    return [
        Finding(
            LAG,
            r.topic,
            r.partition,
            r.group,
            ends.appended((r.topic, r.partition)),
            *traffic[r.topic],
            lag=r.lag,
            average_lag=averages[(r.group, r.topic)],
        )
        for r in lags
        if r.hot
    ]


def skew_findings(ends: TopicEnds, rule: HotPartitionRule) -> list[Finding]:
    traffic = _topic_traffic(ends)
    found = []
    for topic, partition in sorted(ends.ends):
        appended = ends.appended((topic, partition))
        total, partitions = traffic[topic]
        if appended >= rule.min_records and appended > rule.factor * total / partitions:
            found.append(Finding(SKEW, topic, partition, "", appended, total, partitions))
    return found


def _topic_traffic(ends: TopicEnds) -> dict[str, tuple[int, int]]:
    """topic -> (records over the rate window, partitions)."""
    traffic: dict[str, tuple[int, int]] = {}
    for tp in ends.ends:
        total, partitions = traffic.get(tp[0], (0, 0))
        traffic[tp[0]] = (total + ends.appended(tp), partitions + 1)
    return traffic


def key_label(key: str) -> str:
    """A finding's key as an operator reads it: "lag events.shop/1 in stream-processing"."""
    kind, group, topic, partition = key.split("|")
    return f"{kind} {topic}/{partition}" + (f" in {group}" if group else "")


@dataclass
class HotState:
    """What the earlier looks saw: since when each finding has been seen without a break, and the
    alerts reported per kind (a kind never reported is reported at the next look, even passing)."""

    since: dict[str, float] = field(default_factory=dict)
    alerting: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None) -> HotState:
        return cls(**json.loads(text)) if text else cls()

    def dumps(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class Alert:
    finding: Finding
    since: float  # epoch seconds of the first look that saw it, without a break since

    def hot_for_s(self, now: float) -> float:
        return now - self.since


@dataclass(frozen=True)
class Assessment:
    state: HotState
    alerts: list[Alert]  # every alert in force
    raised: list[Alert]  # in force since this look
    cleared: list[str]  # keys of the alerts that ended at this look
    changed: list[str]  # kinds whose alerts differ from those last reported

    def of_kind(self, kind: str) -> list[Alert]:
        return [a for a in self.alerts if a.finding.kind == kind]


def assess(state: HotState, found: Iterable[Finding], now: float, rule: HotPartitionRule) -> Assessment:
    """One look: a finding not seen at the previous look starts its clock again (lag that dips
    below the threshold was not hot "for 5 minutes"); it alerts once seen for its sustain time."""
    current = {f.key: f for f in found}
    since = {key: state.since.get(key, now) for key in current}
    alerts = [
        Alert(f, since[key])
        for key, f in sorted(current.items())
        if now - since[key] >= rule.sustain_for(f.kind)
    ]
    alerting = {kind: [a.finding.key for a in alerts if a.finding.kind == kind] for kind in KINDS}
    before = {key for keys in state.alerting.values() for key in keys}
    return Assessment(
        state=HotState(since, alerting),
        alerts=alerts,
        raised=[a for a in alerts if a.finding.key not in before],
        cleared=sorted(before - {a.finding.key for a in alerts}),
        changed=[kind for kind in KINDS if state.alerting.get(kind) != alerting[kind]],
    )


@dataclass(frozen=True)
class TopKeys:
    """The most frequent event types and userIds among a partition's latest records."""

    sampled: int
    event_types: list[tuple[str, int]]
    user_ids: list[tuple[str, int]]
    unreadable: int = 0  # records that break the raw-record contract

    def as_json(self) -> dict[str, object]:
        return {
            "sampled_records": self.sampled,
            "top_event_types": dict(self.event_types),
            "top_user_ids": dict(self.user_ids),
            "unreadable_records": self.unreadable,
        }


def top_keys(records: Iterable[TopicRecord], n: int = TOP_KEYS) -> dict[TopicPartitionKey, TopKeys]:
    """Per partition among ``records``; ties go to the key seen first."""
    types: dict[TopicPartitionKey, Counter[str]] = {}
    users: dict[TopicPartitionKey, Counter[str]] = {}
    sampled: Counter[TopicPartitionKey] = Counter()
    unreadable: Counter[TopicPartitionKey] = Counter()
    for record in records:
        tp = (record.topic, record.partition)
        sampled[tp] += 1
        event, _problems = parse_raw_record(record.topic, record.key, record.value)
        if event is None:
            unreadable[tp] += 1
            continue
        types.setdefault(tp, Counter())[event.event_type] += 1
        users.setdefault(tp, Counter())[event.user_id] += 1
    return {
        tp: TopKeys(
            count,
            types.get(tp, Counter()).most_common(n),
            users.get(tp, Counter()).most_common(n),
            unreadable[tp],
        )
        for tp, count in sampled.items()
    }


def alert_json(alert: Alert, keys: TopKeys | None, now: float) -> dict[str, object]:
    """What an alert names, for check metadata, logs and scripts."""
    f = alert.finding
    found: dict[str, object] = {
        "kind": f.kind,
        "topic": f.topic,
        "partition": f.partition,
        "share_of_topic_traffic": round(f.share, 4),
        "events_per_s": round(f.appended / RATE_WINDOW_S, 2),
        "topic_events_per_s": round(f.topic_appended / RATE_WINDOW_S, 2),
        "hot_for_s": round(alert.hot_for_s(now), 1),
    }
    if f.kind == LAG:
        found |= {"group": f.group, "lag": f.lag, "topic_average_lag": round(f.average_lag, 1)}
    return found | (keys.as_json() if keys else {"sampled_records": 0})


def describe(alert: Alert, keys: TopKeys | None, now: float) -> str:
    """One line an operator reads: where, how bad, how long, and which keys fill the partition."""
    f = alert.finding
    traffic = (
        f"{f.share:.0%} of the topic's records in the last {RATE_WINDOW_S:.0f} s "
        f"({f.appended / RATE_WINDOW_S:,.1f} of {f.topic_appended / RATE_WINDOW_S:,.1f} events/s)"
    )
    if f.kind == LAG:
        ratio = f.lag / f.average_lag if f.average_lag else 0.0
        head = (
            f"hot partition {f.label}: lag {f.lag:,} ({ratio:.1f}x the topic's average "
            f"{f.average_lag:,.0f}) for {alert.hot_for_s(now):.0f} s; {traffic}"
        )
    else:
        head = f"produce skew on {f.label}: {traffic}, {f.topic_partitions} partitions"
    if keys is None or not keys.sampled:
        return f"{head}; no recent record read"
    return (
        f"{head}; in its latest {keys.sampled:,} records, top eventTypes {_counts(keys.event_types)}, "
        f"top userIds {_counts(keys.user_ids)}"
    )


def _counts(pairs: list[tuple[str, int]]) -> str:
    return ", ".join(f"{name} ({count:,})" for name, count in pairs) or "none"
