"""The log asked whether records a producer gave up on landed: never answered while a leader
holds records its followers have not got, since they may be committed once the followers are back.

Two followers frozen (SIGSTOP) take the KRaft quorum with them, so the metadata stays as it was:
every replica in sync, every node registered, and their ports still accept connections. The
question goes to the leader's node while they are frozen (they would hang a bootstrap).
"""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from kafka import KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError

from analytics_pipeline.kafka_io.admin import KAFKA_API_VERSION, admin_client
from analytics_pipeline.kafka_io.landing import landed_keys, partition_of
from analytics_pipeline.kafka_io.replicas import partition_replicas
from analytics_pipeline.stack.kafka_broker import KafkaCluster
from analytics_pipeline.stack.process import wait_until
from tests.support.kafka_reader import read_records

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

PARTITIONS = 3


@contextmanager
def frozen(cluster: KafkaCluster, nodes: tuple[int, ...]) -> Iterator[None]:
    pids = [cluster.node(n).process.running_pid() for n in nodes]
    assert all(pids)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def keys_on(partition: int, count: int) -> list[bytes]:
    keys: list[bytes] = []
    while len(keys) < count:
        key = f"evt_{uuid.uuid4().hex}".encode()
        if partition_of(key, PARTITIONS) == partition:
            keys.append(key)
    return keys


def keys_in_log_files(partition_dir: Path) -> set[bytes]:
    """The keys a replica's segment files hold, committed or not (the records are uncompressed)."""
    data = b"".join(segment.read_bytes() for segment in sorted(partition_dir.glob("*.log")))
    return {match.group() for match in re.finditer(rb"evt_[0-9a-f]{32}", data)}


def answer(bootstrap: str, topic: str, keys: set[bytes], since_ms: int) -> set[bytes] | None:
    """``landed_keys``, with an error counted as no answer yet, as the ingestion service does."""
    try:
        return landed_keys(bootstrap, topic, keys, since_ms, timeout_s=5.0)
    except KafkaError:
        return None


def first_answer(bootstrap: str, topic: str, keys: set[bytes], since_ms: int) -> set[bytes] | None:
    """What ``landed_keys`` says once a call gets through: kafka-python sends some requests to
    whichever broker it likes, and one sent to a frozen node times out."""
    for _ in range(15):
        try:
            return landed_keys(bootstrap, topic, keys, since_ms, timeout_s=3.0)
        except KafkaError:
            continue
    pytest.fail("no call got through to the leader in 15 tries")


def test_records_a_leader_holds_uncommitted_are_undecided_until_committed(cluster, cluster_settings):
    bootstrap = cluster_settings.kafka_bootstrap_servers
    topic = f"events.landing-{uuid.uuid4().hex[:8]}"
    with admin_client(bootstrap) as admin:
        admin.create_topics([NewTopic(topic, PARTITIONS, 3, topic_configs={"min.insync.replicas": "2"})])
    assert wait_until(lambda: len(partition_replicas(bootstrap, [topic])) == PARTITIONS, 30, 0.5)
    led_by_1 = next(p.partition for p in partition_replicas(bootstrap, [topic]) if p.leader == 1)
    before, during = keys_on(led_by_1, 3), keys_on(led_by_1, 5)
    everything = {*before, *during}
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        api_version=KAFKA_API_VERSION,
        acks="all",
        request_timeout_ms=2000,
        delivery_timeout_ms=3000,
        retries=0,
        linger_ms=300,  # the records sent together go in one batch: appended all, or none
    )
    since_ms = int(time.time() * 1000) - 1000
    try:
        for key in before:
            producer.send(topic, key=key, value=b"{}")
        producer.flush(10)
        assert landed_keys(bootstrap, topic, everything, since_ms) == set(before)

        with frozen(cluster, (2, 3)):
            futures = [producer.send(topic, key=key, value=b"{}") for key in during]
            producer.flush(10)
            assert all(f.failed() for f in futures), "acks=all with both followers frozen"
            leader_log = keys_in_log_files(cluster.node(1).data_dir / f"{topic}-{led_by_1}")
            assert set(during) <= leader_log, "the leader appended them all the same"
            # Not committed: the answer is not "absent" but "not known yet".
            assert first_answer(cluster.node(1).address, topic, everything, since_ms) is None

        # The followers thaw: the first answer given is the final one.
        answers: list[set[bytes] | None] = []

        def answered() -> bool:
            answers.append(answer(bootstrap, topic, everything, since_ms))
            return answers[-1] is not None

        assert wait_until(answered, 60, 0.2)
        # Whether they stay depends on who leads now: a leader elected without them truncates
        # them from node 1. Either way the answer is what the log keeps.
        in_log = {r.key for r in read_records(bootstrap, topic)}
        assert answers[-1] == in_log & everything
        assert set(before) <= answers[-1]
    finally:
        producer.close(1)
