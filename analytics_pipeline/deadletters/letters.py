"""The dead letters a project's topic holds, read back with the headers the stream worker wrote
(``streaming.outputs.StreamOutputs.dead_letter``): where each came from, at which stage it failed
and why."""

from __future__ import annotations

from dataclasses import dataclass

from analytics_pipeline.kafka_io.admin import TopicRecord, read_spans, topic_offsets
from analytics_pipeline.kafka_io.topics import dead_letter_topic

PREVIEW_CHARS = 80


@dataclass(frozen=True)
class DeadLetter:
    """One record of ``events.dlq.{project}``; ``letter_id`` is its place there, ``{partition}-{offset}``."""

    project_id: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]

    @property
    def letter_id(self) -> str:
        return f"{self.partition}-{self.offset}"

    @property
    def stage(self) -> str:
        return self.headers.get("error.stage", "")

    @property
    def reason(self) -> str:
        return self.headers.get("error.reason", "")

    @property
    def attempts(self) -> int:
        return int(self.headers.get("error.attempts", "1"))

    @property
    def failed_at(self) -> str:
        return self.headers.get("failed.at", "")

    @property
    def source_partition(self) -> int:
        return int(self.headers["source.partition"])

    @property
    def source(self) -> str:
        """Where the record sat in the raw topic: ``topic/partition@offset``."""
        h = self.headers
        return f"{h.get('source.topic', '?')}/{h.get('source.partition', '?')}@{h.get('source.offset', '?')}"

    def preview(self, chars: int = PREVIEW_CHARS) -> str:
        text = (self.value or b"").decode("utf-8", errors="replace").replace("\n", " ")
        return text if len(text) <= chars else text[: chars - 1] + "…"

    def as_json(self, *, whole: bool = False) -> dict[str, object]:
        found: dict[str, object] = {
            "id": self.letter_id,
            "stage": self.stage,
            "reason": self.reason,
            "attempts": self.attempts,
            "failedAt": self.failed_at,
            "source": self.source,
        }
        if whole:
            found["key"] = (self.key or b"").decode("utf-8", errors="replace")
            found["value"] = (self.value or b"").decode("utf-8", errors="replace")
            found["headers"] = self.headers
        else:
            found["preview"] = self.preview()
        return found


def parse_letter_id(text: str) -> tuple[int, int]:
    """``"2-17"`` -> (2, 17); a clear error for anything else."""
    partition, sep, offset = text.partition("-")
    if not sep or not partition.isdigit() or not offset.isdigit():
        raise ValueError(f"dead-letter id {text!r} is not PARTITION-OFFSET (as `analytics dlq list` shows)")
    return int(partition), int(offset)


def as_letter(project_id: str, record: TopicRecord) -> DeadLetter:
    headers = {name: (value or b"").decode("utf-8", errors="replace") for name, value in record.headers}
    return DeadLetter(project_id, record.partition, record.offset, record.key, record.value, headers)


def read_dead_letters(bootstrap_servers: str, project_id: str, timeout_s: float = 30.0) -> list[DeadLetter]:
    """Every dead letter the project's topic still holds, in (partition, offset) order."""
    topic = dead_letter_topic(project_id)
    spans = {(topic, o.partition): (o.earliest, o.latest) for o in topic_offsets(bootstrap_servers, topic)}
    records = read_spans(bootstrap_servers, spans, timeout_s)
    held = sum(end - start for start, end in spans.values())
    if len(records) != held:
        raise RuntimeError(f"{topic}: read {len(records)} of its {held} dead letters within {timeout_s:g} s")
    return sorted((as_letter(project_id, r) for r in records), key=lambda x: (x.partition, x.offset))
