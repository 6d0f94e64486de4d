"""Dead letters per project: how many the topic holds, and how many of those wait for a redrive."""

from __future__ import annotations

from dataclasses import dataclass

from analytics_pipeline.deadletters.redrive_log import Redrive, RedriveLog
from analytics_pipeline.kafka_io.admin import held_spans
from analytics_pipeline.kafka_io.topics import dead_letter_topic


@dataclass(frozen=True)
class LetterCount:
    held: int  # written minus expired
    waiting: int  # held and never redriven


def letter_counts(
    bootstrap_servers: str, metadata_url: str, project_ids: list[str], timeout_s: float = 10.0
) -> dict[str, LetterCount]:
    """Projects whose topic holds dead letters; a redrive counts while its letter is still held.
    Kafka is asked once for every project's topic, the metadata database once per project that
    holds letters (a few), so it stays cheap with many projects."""
    topics = {dead_letter_topic(p): p for p in project_ids}
    spans: dict[str, dict[int, tuple[int, int]]] = {}
    for (topic, partition), span in held_spans(bootstrap_servers, topics, timeout_s).items():
        spans.setdefault(topics[topic], {})[partition] = span
    held = {p: sum(end - start for start, end in s.values()) for p, s in spans.items()}
    held = {p: n for p, n in held.items() if n}
    if not held:
        return {}
    log = RedriveLog(metadata_url)
    counts = {}
    for project, n in sorted(held.items()):
        redriven = sum(
            1 for r in log.of_project(project).values() if r.confirmed and _held(r, spans[project])
        )
        counts[project] = LetterCount(n, n - redriven)
    return counts


def _held(redrive: Redrive, spans: dict[int, tuple[int, int]]) -> bool:
    start, end = spans.get(redrive.letter_partition, (0, 0))
    return start <= redrive.letter_offset < end
