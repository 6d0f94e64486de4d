"""Dead letters per project: how many the topic holds, and how many of those wait for a redrive."""

from __future__ import annotations

from dataclasses import dataclass

from analytics_pipeline.deadletters.redrive_log import Redrive, RedriveLog
from analytics_pipeline.kafka_io.admin import topic_offsets
from analytics_pipeline.kafka_io.topics import dead_letter_topic


@dataclass(frozen=True)
class LetterCount:
    held: int  # written minus expired
    waiting: int  # held and never redriven


def letter_counts(
    bootstrap_servers: str, metadata_url: str, project_ids: list[str], timeout_s: float = 10.0
) -> dict[str, LetterCount]:
    """Projects whose topic holds dead letters; a redrive counts while its letter is still held."""
    log = RedriveLog(metadata_url)
    counts = {}
    for project in project_ids:
        held_spans = {
            o.partition: (o.earliest, o.latest)
            for o in topic_offsets(bootstrap_servers, dead_letter_topic(project), timeout_s)
        }
        held = sum(end - start for start, end in held_spans.values())
        if not held:
            continue
        redriven = sum(1 for r in log.of_project(project).values() if r.confirmed and _held(r, held_spans))
        counts[project] = LetterCount(held, held - redriven)
    return counts


def _held(redrive: Redrive, spans: dict[int, tuple[int, int]]) -> bool:
    start, end = spans.get(redrive.letter_partition, (0, 0))
    return start <= redrive.letter_offset < end
