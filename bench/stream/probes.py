"""Read-only observers of a run: a consumer group's progress on a topic, and the CPU each process used."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from analytics_pipeline.kafka_io.admin import admin_client, offsets_consumer
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from analytics_pipeline.stack.redis_server import RedisServer
from bench.common import BenchError


class GroupProbe:
    """End offsets of one topic and one group's committed offsets on it.

    One admin client and one offsets consumer stay open, so a sample is two small requests.
    """

    def __init__(self, admin: KafkaAdminClient, consumer: KafkaConsumer, topic: str, group: str) -> None:
        self._admin = admin
        self._consumer = consumer
        self._group = group
        self._partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]

    def end(self) -> int:
        return sum(self._consumer.end_offsets(self._partitions).values())

    def committed(self) -> int:
        offsets = self._admin.list_group_offsets({self._group: None}).get(self._group, {})
        return sum(meta.offset for tp, meta in offsets.items() if tp in self._partitions and meta.offset >= 0)


@contextmanager
def group_probe(settings: Settings, topic: str, group: str) -> Iterator[GroupProbe]:
    servers = settings.kafka_bootstrap_servers
    with admin_client(servers) as admin, offsets_consumer(servers) as consumer:
        yield GroupProbe(admin, consumer, topic, group)


def cpu_seconds(pid: int) -> float:
    """utime + stime of all the process's threads (Linux /proc); NaN once the process is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idle and iowait (/proc/stat): ours and others'."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuUse:
    """CPU seconds per process over one measured stretch, the whole machine's, and the wall time."""

    seconds: dict[str, float] = field(default_factory=dict)
    machine_s: float = 0.0
    wall_s: float = 0.0

    def cores(self, name: str) -> str:
        return f"{self.seconds[name] / self.wall_s:.2f}" if name in self.seconds else "-"

    @property
    def others_cores(self) -> float:
        """What processes outside this benchmark took: the noise of a shared machine."""
        return max(self.machine_s - sum(self.seconds.values()), 0.0) / self.wall_s


class CpuMeter:
    """On 2 shared cores a rate alone says little: where the CPU went says who was the bottleneck."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids

    @contextmanager
    def measure(self, extra: dict[str, int] | None = None) -> Iterator[CpuUse]:
        pids = {**self._pids, **(extra or {})}
        use = CpuUse()
        before, machine, started = self._snapshot(pids), machine_busy_seconds(), time.perf_counter()
        yield use
        use.wall_s = time.perf_counter() - started
        use.machine_s = machine_busy_seconds() - machine
        use.seconds = {name: seconds - before[name] for name, seconds in self._snapshot(pids).items()}

    @staticmethod
    def _snapshot(pids: dict[str, int]) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in pids.items()}


def stack_meter(settings: Settings) -> CpuMeter:
    pids = {"this process": os.getpid()}
    for name, service in (("Redis", RedisServer(settings)), ("Kafka", KafkaBroker(settings))):
        pid = service.process.running_pid()
        if pid is None:
            raise BenchError(f"{name} of the private stack is not running")
        pids[name] = pid
    return CpuMeter(pids)
