"""`analytics status`: one screen of what runs, how far each consumer group is behind, and the
alarms (hot partitions, dead letters, replicas out of sync, recent leader elections), as tables
or as JSON. The exporter (`analytics exporter`) serves the same figures to Prometheus."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from rich.console import Group
from rich.table import Table

from analytics_pipeline.deadletters.counts import letter_counts
from analytics_pipeline.kafka_io.topics import dead_letter_topic, processed_topic, raw_topic
from analytics_pipeline.operations.cluster_health import (
    ReplicaProblem,
    describe_topics,
    raw_projects,
    replica_problems_in,
)
from analytics_pipeline.operations.group_lag import (
    PartitionLag,
    committed_by_group,
    group_lags,
    raw_topic_ends,
)
from analytics_pipeline.operations.leader_elections import (
    ElectionLog,
    TopicElections,
    elections_by_topic,
    leaders_in,
    partition_ranges,
    recent_elections,
)
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack import stack
from analytics_pipeline.stack.services import ServiceStatus
from analytics_pipeline.timeutil import format_rfc3339


@dataclass(frozen=True)
class StatusReport:
    services: list[ServiceStatus]
    lags: list[PartitionLag] = field(default_factory=list)
    replicas: list[ReplicaProblem] = field(default_factory=list)
    dead_letters: dict[str, int] = field(default_factory=dict)  # held per project
    waiting_letters: dict[str, int] = field(default_factory=dict)  # held and never redriven
    elections: list[TopicElections] = field(default_factory=list)  # within the alarm window
    elections_total: dict[str, int] = field(default_factory=dict)  # per topic, ever seen
    kafka_error: str | None = None

    @property
    def alarms(self) -> list[str]:
        found = [
            f"hot partition: {r.topic}/{r.partition} in {r.group}, lag {r.lag:,}" for r in self.lags if r.hot
        ]
        found += [p.describe() for p in self.replicas]
        found += [
            f"dead letters: {project} holds {self.dead_letters.get(project, n):,}, {n:,} not redriven "
            f"(analytics dlq list --project {project})"
            for project, n in sorted(self.waiting_letters.items())
        ]
        found += [
            f"recent leader elections: {e.topic}/{partition_ranges(e.partitions)}, latest {_utc(e.latest)}"
            for e in self.elections
        ]
        found += [f"down: {s.name} at {s.address}" for s in self.services if not s.healthy]
        if self.kafka_error:
            found.append(f"Kafka unreachable: {self.kafka_error}")
        return found

    @property
    def lag_by_group(self) -> dict[str, int]:
        return {
            group: sum(r.lag for r in self.lags if r.group == group)
            for group in sorted({r.group for r in self.lags})
        }

    def as_json(self) -> dict[str, object]:
        return {
            "services": [
                {"name": s.name, "address": s.address, "healthy": s.healthy, "ownership": s.ownership.value}
                for s in self.services
            ],
            "partitions": [r.as_json() for r in self.lags],
            "groups": self.lag_by_group,
            "replica_problems": [
                {
                    "topic": p.topic,
                    "partition": p.partition,
                    "replicas": p.replicas,
                    "in_sync": p.in_sync,
                    "kind": p.kind,
                    "leader": p.leader,
                    "preferred_leader": p.preferred_leader,
                }
                for p in self.replicas
            ],
            "dead_letters": self.dead_letters,
            "dead_letters_waiting": self.waiting_letters,
            "leader_elections": {
                "recent": [{**asdict(e), "latest": _utc(e.latest)} for e in self.elections],
                "total": self.elections_total,
            },
            "alarms": self.alarms,
        }


def pipeline_groups(settings: Settings) -> list[str]:
    """The consumer groups the pipeline owns."""
    return [settings.stream_group, settings.etl_group, settings.archive_group, settings.index_group]


def collect(settings: Settings) -> StatusReport:
    return collect_kafka(settings, stack.status(settings))


def collect_kafka(settings: Settings, services: list[ServiceStatus] | None = None) -> StatusReport:
    """What Kafka says (the exporter's poll: without checking every service)."""
    services = services or []
    bootstrap = settings.kafka_bootstrap_servers
    try:
        ends = raw_topic_ends(bootstrap)
        committed = committed_by_group(bootstrap, pipeline_groups(settings))
        lags = group_lags(ends, committed, settings.hot_partition_factor, settings.hot_partition_min_records)
        topics = describe_topics(bootstrap)
        counts = letter_counts(
            bootstrap, settings.metadata_database_url, raw_projects([t for t, _ in ends.ends])
        )
    except Exception as exc:  # noqa: BLE001 - the screen says Kafka is away instead of failing
        return StatusReport(services, kafka_error=str(exc))
    now = time.time()
    epochs = ElectionLog.under(settings.home).record(leaders_in(topics), now)
    elections = recent_elections(epochs, now, settings.leader_election_alarm_s)
    held = {project: c.held for project, c in counts.items()}
    waiting = {project: c.waiting for project, c in counts.items() if c.waiting}
    return StatusReport(
        services, lags, replica_problems_in(topics), held, waiting, elections, elections_by_topic(epochs)
    )


def collect_project(settings: Settings, project_id: str) -> StatusReport:
    """One project's share of the report (the console's health panel): each group's lag on its
    raw topic and that topic's hot partitions, replica problems of its topics, its dead letters.
    No services and no leader elections: those are the operator's, not a project's."""
    bootstrap = settings.kafka_bootstrap_servers
    owned = {raw_topic(project_id), processed_topic(project_id), dead_letter_topic(project_id)}
    try:
        ends = raw_topic_ends(bootstrap).of_topic(raw_topic(project_id))
        committed = committed_by_group(bootstrap, pipeline_groups(settings))
        lags = group_lags(ends, committed, settings.hot_partition_factor, settings.hot_partition_min_records)
        topics = [topic for topic in describe_topics(bootstrap) if topic["name"] in owned]
        counts = letter_counts(bootstrap, settings.metadata_database_url, [project_id])
    except Exception as exc:  # noqa: BLE001 - the panel says Kafka is away instead of failing
        return StatusReport([], kafka_error=str(exc))
    held = {project: c.held for project, c in counts.items()}
    waiting = {project: c.waiting for project, c in counts.items() if c.waiting}
    return StatusReport([], lags, replica_problems_in(topics), held, waiting)


def _utc(timestamp: float) -> str:
    return format_rfc3339(datetime.fromtimestamp(timestamp, UTC))


def render(report: StatusReport) -> Group:
    services = Table("service", "address", "healthy", title="services")
    for s in report.services:
        services.add_row(s.name, s.address, "[green]yes[/]" if s.healthy else "[red]no[/]")
    groups = Table(
        "group", "topic", "partition", "end", "committed", "lag", "events/s (1 min)", title="consumer groups"
    )
    for r in report.lags:
        lag = f"[bold red]{r.lag:,} HOT[/]" if r.hot else f"{r.lag:,}"
        committed = "-" if r.committed is None else f"{r.committed:,}"
        groups.add_row(
            r.group, r.topic, str(r.partition), f"{r.end:,}", committed, lag, f"{r.events_per_s:,.1f}"
        )
    alarms = Table("alarm", title="alarms")
    for alarm in report.alarms or ["none"]:
        alarms.add_row(alarm if alarm == "none" else f"[red]{alarm}[/]")
    return Group(services, groups, alarms)
