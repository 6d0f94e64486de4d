"""The ETL's input: raw records written straight into one project's raw topic, as the ingestion
service writes them, with what a real topic also holds: producer retries and schema failures.

The events, their encoding and the bulk producer are bench.stream's (``EventSource``, ``encode``,
``preload``), so both benchmarks read the same kind of records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from analytics_pipeline.events.quality_rules import QualityRules
from analytics_pipeline.kafka_io.admin import topic_offsets
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.lakehouse.offset_ranges import OffsetRange, pending_ranges
from analytics_pipeline.metadata.store import MetadataStore, StoredSchema
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.services import REPO_ROOT
from analytics_pipeline.timeutil import utc_now
from bench.common import BenchError, console
from bench.stream.workload import PRELOAD_SPAN_S, EventSource, create_project, encode, preload

SCHEMAS_DIR = REPO_ROOT / "examples" / "schemas"  # purchase and add_to_cart: the validated path runs
REPEAT_EVERY = 100  # 1 % of records sent twice (a producer retry): validated_events must not take the repeat
BAD_PURCHASE_EVERY = 50  # 2 % of purchases break their schema (lower-case currency): quarantined
WARM_UP_RECORDS = 3_000  # read and written once, untimed, before any round


@dataclass(frozen=True)
class Expected:
    """What the tables must gain from the records, counted as they are built (not by Spark)."""

    valid_events: int  # unique events that keep the contract and their schema
    valid_repeats: int  # extra copies of valid events: not inserted
    invalid: int  # records the schema refuses, copies included: quarantined


@dataclass(frozen=True)
class EtlLoad:
    """The topic's records as offset ranges, and what the ETL must make of them."""

    project_id: str
    ranges: list[OffsetRange]
    schemas: list[StoredSchema]
    rules: QualityRules
    expected: Expected

    @property
    def records(self) -> int:
        return sum(r.count for r in self.ranges)

    def warm_up_ranges(self) -> list[OffsetRange]:
        """The first few thousand records, spread over the partitions like the full ranges."""
        share = max(1, WARM_UP_RECORDS // len(self.ranges))
        return [OffsetRange(r.topic, r.partition, r.start, min(r.end, r.start + share)) for r in self.ranges]


def register_example_schemas(settings: Settings, project_id: str) -> list[StoredSchema]:
    store = MetadataStore(settings.metadata_database_url)
    try:
        for path in sorted(SCHEMAS_DIR.glob("*.json")):
            store.register_schema(project_id, path.stem, json.loads(path.read_text()))
        return store.all_schemas([project_id])
    finally:
        store.close()


def spoil_purchases(payloads: list[dict[str, Any]]) -> set[int]:
    """Every BAD_PURCHASE_EVERY-th purchase gets a lower-case currency; returns their indexes."""
    spoiled = set()
    purchases = (i for i, p in enumerate(payloads) if p["eventType"] == "purchase")
    for n, index in enumerate(purchases):
        if n % BAD_PURCHASE_EVERY == 0:
            payloads[index]["properties"]["currency"] = payloads[index]["properties"]["currency"].lower()
            spoiled.add(index)
    return spoiled


def build_records(
    settings: Settings, project_id: str, events: int, schemas: list[StoredSchema]
) -> tuple[list[tuple[bytes, bytes]], Expected]:
    """``events`` records as the ingestion service writes them, each REPEAT_EVERY-th twice in a row."""
    now = utc_now()
    payloads = EventSource(seed=3).payloads(events, now=now, span_s=PRELOAD_SPAN_S)
    spoiled = spoil_purchases(payloads)
    records: list[tuple[bytes, bytes]] = []
    valid = repeats = invalid = 0
    versions = {s.event_type: s.version for s in schemas}  # stamped as the ingestion service does
    for index, record in enumerate(encode(settings, project_id, payloads, now, versions)):
        copies = 2 if index % REPEAT_EVERY == 0 else 1
        records += [record] * copies
        if index in spoiled:
            invalid += copies
        else:
            valid, repeats = valid + 1, repeats + copies - 1
    return records, Expected(valid, repeats, invalid)


def load_topic(settings: Settings, events: int) -> EtlLoad:
    """A new project with the example schemas, its raw topic holding ``events`` events (+ repeats)."""
    with console.status(f"creating a project and building {events:,} raw records ..."):
        project_id = create_project(settings)
        schemas = register_example_schemas(settings, project_id)
        records, expected = build_records(settings, project_id, events, schemas)
    topic = raw_topic(project_id)
    loaded_s = preload(settings, topic, records)
    console.print(f"pre-loaded {len(records):,} records into {topic} in {loaded_s:.1f} s (not measured)")
    ends = {(topic, o.partition): o.latest for o in topic_offsets(settings.kafka_bootstrap_servers, topic)}
    ranges = pending_ranges({}, ends)
    if sum(r.count for r in ranges) != len(records):
        held = sum(r.count for r in ranges)
        raise BenchError(f"{topic} holds {held:,} records where {len(records):,} were written")
    rules = QualityRules.of(
        max_event_age_s=settings.max_event_age_s, max_future_skew_s=settings.max_future_skew_s
    )
    return EtlLoad(project_id, ranges, schemas, rules, expected)
