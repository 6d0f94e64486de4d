"""The benchmark's lake: validated_events written with delta-rs in the ETL's layout (partitioned
by projectId and eventDate), and the answer the aggregate must give, counted with numpy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake
from rich.progress import Progress

EVENT_TYPES = np.array(["page_view", "add_to_cart", "purchase", "signup"])
TYPE_WEIGHTS = np.array([0.7, 0.15, 0.1, 0.05])
USERS = 50_000
DAYS = 30
CHUNK = 1_000_000
AGGREGATE = (
    "SELECT eventType, count(*) AS events, count(DISTINCT userId) AS users FROM events GROUP BY eventType"
)


@dataclass(frozen=True)
class Answer:
    rows: dict[str, tuple[int, int]]  # eventType -> (events, distinct users)


def chunk_table(project_id: str, start: int, size: int, now: datetime, rng: np.random.Generator) -> pa.Table:
    offsets = np.arange(start, start + size)
    seconds = rng.integers(0, DAYS * 86_400, size)
    moments = np.datetime64(now.replace(tzinfo=None), "us") - seconds.astype("timedelta64[s]")
    timestamp = pa.array(moments, pa.timestamp("us")).cast(pa.timestamp("us", "UTC"))
    types = EVENT_TYPES[rng.choice(len(EVENT_TYPES), size, p=TYPE_WEIGHTS)]
    users = rng.integers(0, USERS, size)
    return pa.table(
        {
            "projectId": pa.array([project_id] * size),
            "eventDate": pc.cast(pa.array(moments.astype("datetime64[D]")), pa.date32()),
            "eventId": pc.binary_join_element_wise("evt_", pa.array(offsets).cast(pa.string()), ""),
            "eventType": pa.array(types),
            "userId": pc.binary_join_element_wise("user-", pa.array(users).cast(pa.string()), ""),
            "timestamp": timestamp,
            "receivedAt": timestamp,
            "properties": pa.array(["{}"] * size),
            "context": pa.nulls(size, pa.string()),
            "schemaVersion": pa.nulls(size, pa.int32()),
            "topic": pa.array([f"events.{project_id}"] * size),
            "partition": pa.array((offsets % 3).astype("int32")),
            "offset": pa.array(offsets // 3),
            "batchId": pa.array(["bench"] * size),
        }
    )


def write_events(path: str, project_id: str, events: int, other_project: str, other_events: int) -> Answer:
    """Write both projects' events; return what the aggregate must answer for ``project_id``."""
    rng, now = np.random.default_rng(7), datetime.now(UTC)
    counts: dict[str, int] = {}
    users: dict[str, set[int]] = {}
    with Progress() as progress:
        task = progress.add_task(
            f"writing {events + other_events:,} events with delta-rs", total=events + other_events
        )
        for project, total in ((project_id, events), (other_project, other_events)):
            for start in range(0, total, CHUNK):
                table = chunk_table(project, start, min(CHUNK, total - start), now, rng)
                write_deltalake(path, table, partition_by=["projectId", "eventDate"], mode="append")
                if project == project_id:
                    _count(table, counts, users)
                progress.advance(task, table.num_rows)
    return Answer({t: (counts[t], len(users[t])) for t in counts})


def _count(table: pa.Table, counts: dict[str, int], users: dict[str, set[int]]) -> None:
    types = table["eventType"].to_numpy(zero_copy_only=False)
    ids = table["userId"].to_numpy(zero_copy_only=False)
    for event_type in np.unique(types):
        chosen = types == event_type
        counts[event_type] = counts.get(event_type, 0) + int(chosen.sum())
        users.setdefault(event_type, set()).update(np.unique(ids[chosen]).tolist())


def hourly_counts(path: str, project_id: str, first: datetime, end: datetime) -> dict[datetime, int]:
    """The project's events per hour in [first, end), counted with pyarrow from the Delta files:
    what the warehouse's windows must say."""
    dataset = DeltaTable(path).to_pyarrow_dataset(file_pruning_predicate=[("projectId", "=", project_id)])
    moments = dataset.to_table(
        columns=["timestamp"],
        filter=(pc.field("projectId") == project_id)
        & (pc.field("timestamp") >= pa.scalar(first, pa.timestamp("us", "UTC")))
        & (pc.field("timestamp") < pa.scalar(end, pa.timestamp("us", "UTC"))),
    )["timestamp"]
    hours = pc.value_counts(pc.floor_temporal(moments, unit="hour"))
    return {pair["values"].as_py(): pair["counts"].as_py() for pair in hours}


def answer_of(rows: list[list[object]]) -> Answer:
    return Answer({str(r[0]): (int(r[1]), int(r[2])) for r in rows})
