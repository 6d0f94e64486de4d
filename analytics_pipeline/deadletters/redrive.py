"""Send dead letters back to their raw topic after a fix, so every consumer group takes them again.

Each letter goes back to the partition its record came from, with the header ``redrive.of``
naming it. The metadata database records each redrive in two steps: a claim before the send (with
the target partition's end offset at that moment), then the new offset once Kafka acknowledged
it. So a letter confirmed once is never sent again; and a letter a killed redrive claimed but never
confirmed is looked for from that offset on, and confirmed where it is found instead of being sent
twice. The raw topic therefore holds each redriven letter once. The stream worker's marks and the
lake's eventId deduplication then count its event at most once, even where the first record of it
was counted before it failed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kafka import KafkaProducer

from analytics_pipeline.deadletters.letters import DeadLetter, parse_letter_id, read_dead_letters
from analytics_pipeline.deadletters.redrive_log import Redrive, RedriveLog
from analytics_pipeline.kafka_io.admin import (
    raw_partition_end_offsets,
    read_spans,
    topic_offsets,
)
from analytics_pipeline.kafka_io.producer import acked_producer
from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.settings import Settings
from analytics_pipeline.timeutil import format_rfc3339, utc_now

REDRIVE_OF = "redrive.of"
SEND_TIMEOUT_S = 120.0  # an operator's command: wait out a broker election rather than fail


class RedriveRefused(ValueError):
    """The request names letters the topic does not hold; nothing was sent."""


@dataclass
class RedriveReport:
    project_id: str
    chosen: int = 0
    sent: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # confirmed by an earlier redrive: not sent
    recovered: list[str] = field(default_factory=list)  # claimed by a redrive that stopped; found in Kafka

    def as_json(self) -> dict[str, object]:
        return {
            "project": self.project_id,
            "chosen": self.chosen,
            "sent": self.sent,
            "alreadyRedriven": self.already,
            "foundFromEarlierRedrive": self.recovered,
        }


def choose(letters: Sequence[DeadLetter], ids: Sequence[str] | None) -> list[DeadLetter]:
    """The letters named (all when ``ids`` is None); unknown ids refuse the whole request."""
    if ids is None:
        return list(letters)
    by_id = {letter.letter_id: letter for letter in letters}
    wanted = list(dict.fromkeys("{}-{}".format(*parse_letter_id(text)) for text in ids))
    unknown = [i for i in wanted if i not in by_id]
    if unknown:
        named = ", ".join(unknown)
        raise RedriveRefused(f"no dead letter {named} in this project (see `analytics dlq list`)")
    return [by_id[i] for i in wanted]


def redrive(
    settings: Settings,
    project_id: str,
    ids: Sequence[str] | None,
    *,
    dry_run: bool = False,
    progress: Callable[[int, int], None] = lambda _done, _total: None,
) -> RedriveReport:
    bootstrap = settings.kafka_bootstrap_servers
    chosen = choose(read_dead_letters(bootstrap, project_id), ids)
    log = RedriveLog(settings.metadata_database_url)
    logged = log.of_project(project_id)
    report = RedriveReport(project_id, chosen=len(chosen))
    report.already = [x.letter_id for x in chosen if x.letter_id in logged and logged[x.letter_id].confirmed]
    pending = [x for x in chosen if not (x.letter_id in logged and logged[x.letter_id].confirmed)]
    if dry_run:
        report.sent = [x.letter_id for x in pending]
        return report
    topic = raw_topic(project_id)
    claimed = {x.letter_id: logged[x.letter_id] for x in pending if x.letter_id in logged}
    found = find_redriven(bootstrap, topic, list(claimed.values()))
    if found:
        log.confirm(project_id, {parse_letter_id(i): offset for i, offset in found.items()})
        report.recovered = sorted(found, key=parse_letter_id)
    to_send = [x for x in pending if x.letter_id not in found]
    ends = raw_partition_end_offsets(bootstrap)
    log.claim(
        project_id,
        [_claim(x, ends.get((topic, x.source_partition), 0)) for x in to_send if x.letter_id not in claimed],
    )
    producer = _producer(settings)
    try:
        chunk_size = settings.dlq_redrive_chunk
        for start in range(0, len(to_send), chunk_size):
            chunk = to_send[start : start + chunk_size]
            offsets = _send(producer, topic, chunk, SEND_TIMEOUT_S)
            log.confirm(project_id, {(x.partition, x.offset): offsets[x.letter_id] for x in chunk})
            report.sent.extend(x.letter_id for x in chunk)
            progress(len(report.sent), len(to_send))
    finally:
        producer.close(timeout=SEND_TIMEOUT_S)
    return report


def find_redriven(bootstrap_servers: str, topic: str, claims: Sequence[Redrive]) -> dict[str, int]:
    """Where the raw topic holds letters that a stopped redrive sent but never confirmed. A read
    that falls short refuses the redrive (sending again could double a letter)."""
    if not claims:
        return {}
    held = {o.partition: (o.earliest, o.latest) for o in topic_offsets(bootstrap_servers, topic)}
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    for claim in claims:
        earliest, end = held.get(claim.target_partition, (0, 0))
        key = (topic, claim.target_partition)
        start = max(min(claim.search_from, spans.get(key, (claim.search_from, 0))[0]), earliest)
        spans[key] = (start, end)
    records = read_spans(bootstrap_servers, spans, timeout_s=120.0)
    if len(records) != sum(max(end - start, 0) for start, end in spans.values()):
        raise RedriveRefused(
            f"could not read {topic} back to where an earlier redrive may have sent letters; "
            "nothing was sent: try again"
        )
    wanted = {c.letter_id for c in claims}
    found = {}
    for record in records:
        for name, value in record.headers:
            if name == REDRIVE_OF and value is not None and value.decode() in wanted:
                found.setdefault(value.decode(), record.offset)
    return found


def _claim(letter: DeadLetter, target_end: int) -> Redrive:
    return Redrive(letter.partition, letter.offset, letter.source_partition, target_end, None, None)


def _producer(settings: Settings) -> KafkaProducer:
    return acked_producer(settings, "analytics-dlq-redrive", linger_ms=5)


def _send(
    producer: KafkaProducer, topic: str, letters: Sequence[DeadLetter], timeout_s: float
) -> dict[str, int]:
    """Send and wait for every ack; the offsets Kafka gave, by letter id."""
    at = format_rfc3339(utc_now()).encode()
    futures = {
        x.letter_id: producer.send(
            topic,
            key=x.key,
            value=x.value,
            partition=x.source_partition,
            headers=[(REDRIVE_OF, x.letter_id.encode()), ("redrive.at", at)],
        )
        for x in letters
    }
    producer.flush(timeout=timeout_s)
    return {letter_id: future.get(timeout=timeout_s).offset for letter_id, future in futures.items()}
