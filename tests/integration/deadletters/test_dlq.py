"""`analytics dlq` against the real Kafka, Redis and stream worker: dead letters listed and shown,
sent back after a fix and counted once, never sent twice, whatever stops the redrive."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections import Counter
from datetime import timedelta

import dagster as dg
import pytest
import redis
from sqlalchemy import func, select

from analytics_pipeline.deadletters.letters import read_dead_letters
from analytics_pipeline.deadletters.redrive import REDRIVE_OF, _claim, _producer, _send, redrive
from analytics_pipeline.deadletters.redrive_log import RedriveLog
from analytics_pipeline.kafka_io.admin import raw_partition_end_offsets
from analytics_pipeline.kafka_io.topics import dead_letter_topic, raw_topic
from analytics_pipeline.metadata.engine import create_metadata_engine
from analytics_pipeline.metadata.tables import dead_letter_redrives
from analytics_pipeline.realtime.layout import MetricWindow
from analytics_pipeline.realtime.windows import Granularity, window_start
from analytics_pipeline.stack.process import wait_until
from analytics_pipeline.timeutil import format_rfc3339, utc_now
from resources.kafka import DeadLetterResource, KafkaResource
from sensors.dead_letters import build_dead_letter_sensor
from tests.support.cli import ANALYTICS, analytics
from tests.support.consumer_group import wait_caught_up
from tests.support.events import new_event
from tests.support.kafka_reader import read_records
from tests.support.raw_events import RawWriter, raw_record

pytestmark = pytest.mark.integration


def redriven_copies(bootstrap: str, project_id: str) -> Counter[str]:
    """How many records of the raw topic each dead letter became."""
    return Counter(
        dict(r.headers)[REDRIVE_OF]
        for r in read_records(bootstrap, raw_topic(project_id))
        if REDRIVE_OF in dict(r.headers)
    )


def test_dead_letters_are_listed_then_redriven_after_the_fix_and_counted_once(
    stream_worker, project, stack_settings
):
    bootstrap, topic, pid = (
        stack_settings.kafka_bootstrap_servers,
        raw_topic(project.project_id),
        project.project_id,
    )
    now = utc_now()
    minute = window_start(now - timedelta(minutes=5), Granularity.MINUTE)
    client = redis.Redis.from_url(stack_settings.redis_url)
    blocked_key = MetricWindow(pid, "signup", Granularity.MINUTE, minute).key
    client.set(blocked_key, "not a hash")  # the bug: a key of the wrong type blocks the window
    signups = [
        new_event(eventType="signup", timestamp=format_rfc3339(minute + timedelta(seconds=s)))
        for s in (1, 2, 3)
    ]
    with RawWriter(bootstrap) as writer:
        writer.events(pid, signups)
        writer.bytes(pid, b"poison", b"{not json")
    wait_caught_up(bootstrap, stack_settings.stream_group, topic)

    listed = analytics(stack_settings, "dlq", "list", "--project", pid, "--json")
    assert listed.returncode == 0, listed.stderr
    letters = json.loads(listed.stdout)["letters"]
    assert len(letters) == 4
    assert Counter(x["stage"] for x in letters) == {"aggregate": 3, "decode": 1}
    assert {x["state"] for x in letters} == {"held"}
    wrong_type = json.loads(
        analytics(stack_settings, "dlq", "list", "--project", pid, "--reason", "wrongtype", "--json").stdout
    )["letters"]
    assert len(wrong_type) == 3
    aggregate_ids = [x["id"] for x in wrong_type]
    shown = analytics(stack_settings, "dlq", "show", "--project", pid, aggregate_ids[0])
    assert shown.returncode == 0, shown.stderr
    whole = json.loads(shown.stdout)
    assert json.loads(whole["value"])["eventId"] in {e["eventId"] for e in signups}
    assert whole["headers"]["error.stage"] == "aggregate"

    unknown = analytics(stack_settings, "dlq", "redrive", "--project", pid, "--id", "0-999999")
    assert unknown.returncode == 2
    assert "no dead letter 0-999999" in unknown.stderr
    dry = analytics(stack_settings, "dlq", "redrive", "--project", pid, "--all", "--dry-run", "--json")
    assert json.loads(dry.stdout)["sent"] == [x["id"] for x in letters]
    assert redriven_copies(bootstrap, pid) == Counter(), "a dry run sends nothing"

    client.delete(blocked_key)  # the fix
    args = [a for i in aggregate_ids for a in ("--id", i)]
    sent = analytics(stack_settings, "dlq", "redrive", "--project", pid, *args, "--json")
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["sent"] == aggregate_ids
    wait_caught_up(bootstrap, stack_settings.stream_group, topic)
    assert client.hget(blocked_key, "count") == b"3", "each redriven event counted once"
    day = MetricWindow(pid, "signup", Granularity.DAY, window_start(minute, Granularity.DAY))
    assert client.hget(day.key, "count") == b"3"
    status = json.loads(analytics(stack_settings, "status", "--json").stdout)
    assert status["dead_letters"][pid] == 4
    assert status["dead_letters_waiting"][pid] == 1, "only the poison still waits"

    again = json.loads(
        analytics(stack_settings, "dlq", "redrive", "--project", pid, "--all", "--json").stdout
    )
    (poison_id,) = [x["id"] for x in letters if x["stage"] == "decode"]
    assert again["alreadyRedriven"] == aggregate_ids
    assert again["sent"] == [poison_id]
    wait_caught_up(bootstrap, stack_settings.stream_group, topic)
    assert redriven_copies(bootstrap, pid) == Counter(dict.fromkeys([*aggregate_ids, poison_id], 1))
    assert client.hget(blocked_key, "count") == b"3"
    states = {x.letter_id: x for x in read_dead_letters(bootstrap, pid)}
    assert len(states) == 5, "the poison, sent back unfixed, is a dead letter again (a new one)"
    relisted = json.loads(analytics(stack_settings, "dlq", "list", "--project", pid, "--json").stdout)[
        "letters"
    ]
    assert sum(x["state"].startswith("redriven to partition") for x in relisted) == 4


def test_a_redrive_stopped_between_send_and_record_is_found_not_sent_again(
    project, stack_settings, kafka_broker
):
    bootstrap, pid = stack_settings.kafka_bootstrap_servers, project.project_id
    with RawWriter(bootstrap) as writer:  # letters as the worker writes them, without one
        for n in range(3):
            headers = {"error.stage": "aggregate", "source.topic": raw_topic(pid), "source.partition": "0"}
            writer.record(dead_letter_topic(pid), f"k{n}".encode(), json.dumps(new_event()).encode(), headers)
    letters = read_dead_letters(bootstrap, pid)
    log = RedriveLog(stack_settings.metadata_database_url)
    ends = raw_partition_end_offsets(bootstrap)
    log.claim(pid, [_claim(x, ends.get((raw_topic(pid), 0), 0)) for x in letters[:2]])
    producer = _producer(stack_settings)
    _send(producer, raw_topic(pid), letters[:1], 30)  # sent, then the process died before recording it
    producer.close()

    ids = [x.letter_id for x in letters]  # named: a stream worker may dead-letter what is sent again
    report = redrive(stack_settings, pid, ids)
    assert report.recovered == ids[:1]
    assert report.sent == ids[1:]
    assert redriven_copies(bootstrap, pid) == Counter(dict.fromkeys(ids, 1))
    assert redrive(stack_settings, pid, ids).sent == []


@pytest.mark.slow
def test_a_redrive_killed_mid_way_then_run_again_sends_each_letter_once(
    stream_worker, project, stack_settings
):
    bootstrap, pid = stack_settings.kafka_bootstrap_servers, project.project_id
    total = 2_000
    with RawWriter(bootstrap) as writer:
        for n in range(total):
            writer.bytes(pid, f"p{n}".encode(), b"{poison", flush=False)
        writer.flush()
    assert wait_until(lambda: len(read_dead_letters(bootstrap, pid)) == total, 120, 0.5)
    originals = {x.letter_id for x in read_dead_letters(bootstrap, pid)}

    engine = create_metadata_engine(stack_settings.metadata_database_url)
    confirmed = (
        select(func.count())
        .select_from(dead_letter_redrives)
        .where(dead_letter_redrives.c.project_id == pid, dead_letter_redrives.c.target_offset.is_not(None))
    )
    env = {**os.environ, **stack_settings.as_environment(), "ANALYTICS_DLQ_REDRIVE_CHUNK": "40"}
    child = subprocess.Popen(
        [ANALYTICS, "dlq", "redrive", "--project", pid, "--all"], env=env, stderr=subprocess.PIPE
    )

    def part_done() -> bool:
        with engine.connect() as conn:
            return (conn.execute(confirmed).scalar() or 0) > 0

    assert wait_until(part_done, 60, 0.01)
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    with engine.connect() as conn:
        done_before = conn.execute(confirmed).scalar()
    assert 0 < done_before < total, f"killed after {done_before} of {total}: not mid-way"

    rerun = analytics(stack_settings, "dlq", "redrive", "--project", pid, "--all", "--json")
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert len(report["alreadyRedriven"]) == done_before
    # the worker dead-letters the redriven poison again: those are new letters, sent too
    again = set(report["sent"]) | set(report["foundFromEarlierRedrive"])
    assert originals - set(report["alreadyRedriven"]) <= again
    copies = redriven_copies(bootstrap, pid)
    assert originals <= set(copies)
    assert set(copies.values()) == {1}, "each letter in the raw topic once"


def test_dead_letter_sensor_warns_while_letters_wait_and_passes_once_they_are_redriven(
    project, stack_settings
):
    bootstrap, pid = stack_settings.kafka_bootstrap_servers, project.project_id
    with RawWriter(bootstrap) as writer:
        for _ in range(2):  # records a stream worker will count once redriven (the fix is in)
            headers = {"error.stage": "aggregate", "source.topic": raw_topic(pid), "source.partition": "0"}
            writer.record(dead_letter_topic(pid), *raw_record(pid, new_event()), headers)
    resource = DeadLetterResource(
        kafka=KafkaResource(bootstrap_servers=bootstrap), metadata_url=stack_settings.metadata_database_url
    )
    sensor = build_dead_letter_sensor()

    def tick(cursor: str | None) -> dg.SensorResult:
        with dg.build_sensor_context(resources={"dead_letters": resource}, cursor=cursor) as context:
            return sensor(context)

    first = tick(None)
    observation, check = first.asset_events
    assert observation.metadata["dead_letters_by_project"].value[pid] == {"held": 2, "waiting": 2}
    assert check.check_name == "dead_letters_redriven"
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert f"{pid}: 2 dead letter(s) not redriven" in check.description
    assert tick(first.cursor).asset_events == [], "unchanged counts report nothing"

    assert len(redrive(stack_settings, pid, None).sent) == 2
    after = tick(first.cursor)
    _observation, check = after.asset_events
    assert check.metadata["per_project"].value[pid] == {"held": 2, "waiting": 0}
    assert pid not in check.description
