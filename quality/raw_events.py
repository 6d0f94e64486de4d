"""Contract reports over samples of raw records.

The contract itself lives in ``analytics_pipeline.events.raw_record``, shared with the streaming
worker and the lakehouse, so a record the check accepts is one every consumer accepts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from analytics_pipeline.events.raw_record import parse_raw_record
from analytics_pipeline.kafka_io.admin import TopicRecord


def record_problems(record: TopicRecord) -> list[str]:
    """What is wrong with one raw record; empty when it honours the contract."""
    return parse_raw_record(record.topic, record.key, record.value)[1]


@dataclass(frozen=True)
class ContractReport:
    checked: int
    problems: Counter[str] = field(default_factory=Counter)
    violating_by_topic: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # "topic/partition@offset: problem", a few

    @property
    def violating(self) -> int:
        return sum(self.problems.values())

    @property
    def passed(self) -> bool:
        return not self.problems


def check_records(records: Iterable[TopicRecord], max_examples: int = 10) -> ContractReport:
    checked, problems, by_topic, examples = 0, Counter[str](), Counter[str](), []
    for record in records:
        checked += 1
        found = record_problems(record)
        if found:
            problems.update(found[:1])  # one per record, so counts are records
            by_topic[record.topic] += 1
            if len(examples) < max_examples:
                examples.append(f"{record.topic}/{record.partition}@{record.offset}: {'; '.join(found)}")
    return ContractReport(checked, problems, by_topic, examples)
