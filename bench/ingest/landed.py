"""The benchmark's correctness check: every event answered 202 is in Kafka, and no event is
there twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from analytics_pipeline.kafka_io.admin import read_spans, topic_offsets


@dataclass(frozen=True)
class Landing:
    accepted: int
    missing: int  # answered 202, not in the topic
    doubled: int  # in the topic more than once
    unanswered: int  # in the topic without a 202 (a 503 whose record landed after all)

    @property
    def exact(self) -> bool:
        return self.missing == 0 and self.doubled == 0


def landing(bootstrap_servers: str, topic: str, accepted: Iterable[str]) -> Landing:
    """Reads the whole topic (one project's, written by one path) and compares it with the ids
    answered 202."""
    spans = {(topic, o.partition): (o.earliest, o.latest) for o in topic_offsets(bootstrap_servers, topic)}
    expected = sum(end - start for start, end in spans.values())
    records = read_spans(bootstrap_servers, spans, timeout_s=120)
    if len(records) != expected:
        raise RuntimeError(f"read {len(records):,} of the {expected:,} records in {topic}")
    landed = Counter(r.key.decode() for r in records if r.key is not None)
    answered = set(accepted)
    return Landing(
        accepted=len(answered),
        missing=sum(1 for event_id in answered if event_id not in landed),
        doubled=sum(1 for count in landed.values() if count > 1),
        unanswered=sum(1 for event_id in landed if event_id not in answered),
    )
