"""The contract of a record in a raw topic, as the ingestion service writes it.

Only the ingestion service should write to ``events.{project_id}``; anything else that does (a
replay tool, a misconfigured producer) can break what every consumer relies on. These checks
find such records before the streaming worker or the lakehouse trip over them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from analytics_pipeline.kafka_io.admin import TopicRecord
from analytics_pipeline.kafka_io.topics import project_of_raw_topic
from analytics_pipeline.timeutil import parse_rfc3339

REQUIRED_FIELDS = ("eventId", "eventType", "userId", "timestamp", "receivedAt", "properties", "projectId")


def record_problems(record: TopicRecord) -> list[str]:
    """What is wrong with one raw record; empty when it honours the contract."""
    try:
        value = json.loads(record.value or b"")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ["value is not UTF-8 JSON"]
    if not isinstance(value, dict):
        return ["value is not a JSON object"]
    problems = [f"{name} missing" for name in REQUIRED_FIELDS if name not in value]
    if record.key is None or record.key.decode(errors="replace") != value.get("eventId"):
        problems.append("key is not the eventId")
    if "projectId" in value and value["projectId"] != project_of_raw_topic(record.topic):
        problems.append("projectId does not match the topic")
    for name in ("timestamp", "receivedAt"):
        try:
            parse_rfc3339(value[name])
        except (KeyError, TypeError, ValueError):
            if name in value:
                problems.append(f"{name} is not RFC 3339")
    if "properties" in value and not isinstance(value["properties"], dict):
        problems.append("properties is not an object")
    return problems


@dataclass(frozen=True)
class ContractReport:
    checked: int
    problems: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # "topic/partition@offset: problem", a few

    @property
    def violating(self) -> int:
        return sum(self.problems.values())

    @property
    def passed(self) -> bool:
        return not self.problems


def check_records(records: Iterable[TopicRecord], max_examples: int = 10) -> ContractReport:
    checked, problems, examples = 0, Counter[str](), []
    for record in records:
        checked += 1
        found = record_problems(record)
        if found:
            problems.update(found[:1])  # one per record, so counts are records
            if len(examples) < max_examples:
                examples.append(f"{record.topic}/{record.partition}@{record.offset}: {'; '.join(found)}")
    return ContractReport(checked, problems, examples)
