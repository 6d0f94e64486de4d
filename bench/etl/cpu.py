"""Where the cores went during a round: Spark, Kafka, or processes outside the benchmark.

Spark's JVM and its Python workers are descendants of this process, so "Spark" is this process's
whole tree (children that exited count through their parent's cutime), minus the Kafka broker
this process started. On 2 shared cores that says whether the ETL had the machine to itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.stream.probes import CpuUse, cpu_seconds, machine_busy_seconds

SPARK = "bench + Spark"
KAFKA = "Kafka"


def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, utime + stime + cutime + cstime in ticks) of every process now alive."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone since the listing
        table[int(stat.parent.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]))
    return table


def tree_cpu_seconds(root: int, exclude: set[int]) -> float:
    """CPU seconds of ``root`` and its descendants, without the subtrees rooted at ``exclude``."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _ticks) in table.items():
        children.setdefault(ppid, []).append(pid)
    ticks, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in exclude or pid not in table:
            continue
        ticks += table[pid][1]
        stack += children.get(pid, [])
    return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def measure_cpu(kafka_pid: int) -> Iterator[CpuUse]:
    """CPU seconds of Spark (this process tree) and Kafka over the block, and the machine's."""
    use = CpuUse()
    me = os.getpid()
    spark, kafka = tree_cpu_seconds(me, {kafka_pid}), cpu_seconds(kafka_pid)
    machine, started = machine_busy_seconds(), time.perf_counter()
    yield use
    use.wall_s = time.perf_counter() - started
    use.machine_s = machine_busy_seconds() - machine
    use.seconds = {SPARK: tree_cpu_seconds(me, {kafka_pid}) - spark, KAFKA: cpu_seconds(kafka_pid) - kafka}
