"""Time from a skewed load starting to hot_partition_sensor's alerts, with the design's 5-minute
sustain and with a short one.

A private Kafka; per setting, ``--rounds`` project topics, each under its own skewed load
(``--rate`` records/s, ``--hot-share`` of them on one random partition) and read by a group that
commits at most ``--capacity`` records/s per partition. The rounds start spread over one sensor
interval (so the ticks meet them at every phase) and run side by side; the sensor ticks every
interval in this process, as the daemon would, with its cursor. Per round: seconds from the first
record to the produce-skew alert and to the hot-partition (lag) alert. Exits 1 when an alert
names another partition or the hot user is not its top userId, or an alert never comes.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import dagster as dg
from rich.table import Table

from analytics_pipeline.kafka_io.topics import raw_topic
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.isolated import isolated_settings
from analytics_pipeline.stack.kafka_broker import KafkaBroker
from bench.common import BenchError, console, print_checks, run_with_services
from bench.hot_partition.load import HOT_USER, LoadShape, SkewedLoad, SkewedRound
from bench.stream.workload import create_project
from keys import HOT_PARTITIONS_CHECK, PRODUCE_SKEW_CHECK
from resources.kafka import HotPartitionResource, KafkaResource
from sensors.hot_partitions import build_hot_partition_sensor

CHECKS = (PRODUCE_SKEW_CHECK, HOT_PARTITIONS_CHECK)
Seen = dict[tuple[str, str], tuple[float, dict]]  # (check, topic) -> (seconds after the round's start, entry)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="skewed topics per setting")
    parser.add_argument("--rate", type=float, default=200.0, help="records/s into each topic")
    parser.add_argument("--hot-share", type=float, default=0.8, help="share of them on the hot partition")
    parser.add_argument(
        "--capacity", type=float, default=60.0, help="records/s the group reads per partition"
    )
    parser.add_argument(
        "--settings",
        default="300:30,10:5",
        help="sustain_s:interval_s pairs to measure (default: the design's 5 min at the default 30 s "
        "ticks, and 10 s at 5 s ticks)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-hot-") as home:
        settings = isolated_settings(Path(home))
        return run_with_services([KafkaBroker(settings)], "Kafka", lambda: run(settings, args))


def run(settings: Settings, args: argparse.Namespace) -> int:
    shape = LoadShape(args.rate, args.hot_share, args.capacity)
    rows, checks = [], []
    for pair in args.settings.split(","):
        sustain_s, interval_s = (float(x) for x in pair.split(":"))
        rounds = [new_round(settings) for _ in range(args.rounds)]
        seen = measure(settings, shape, rounds, sustain_s, interval_s)
        rows.append((sustain_s, interval_s, rounds, seen))
        checks += round_checks(rounds, seen, sustain_s)
    report(settings, args, rows)
    return 0 if print_checks("each alert names the hot partition and its user", checks) else 1


def new_round(settings: Settings) -> SkewedRound:
    project_id = create_project(settings)
    partitions = settings.kafka_topic_partitions or 1
    return SkewedRound(
        project_id,
        raw_topic(project_id),
        f"bench-hot-{uuid.uuid4().hex[:8]}",
        random.randrange(partitions),
        partitions,
    )


def measure(
    settings: Settings, shape: LoadShape, rounds: list[SkewedRound], sustain_s: float, interval_s: float
) -> Seen:
    resource = HotPartitionResource(
        kafka=KafkaResource(bootstrap_servers=settings.kafka_bootstrap_servers),
        groups=[r.group for r in rounds],
        factor=settings.hot_partition_factor,
        sustain_s=sustain_s,
        min_records=settings.hot_partition_min_records,
    )
    sensor = build_hot_partition_sensor(int(interval_s))
    seen: Seen = {}
    cursor: str | None = None
    deadline = time.time() + interval_s + sustain_s + 120 + 3 * interval_s
    begin = time.time()
    with SkewedLoad(settings, shape) as load, console.status(f"sustain {sustain_s:g} s") as status:
        next_tick = begin
        while len(seen) < len(CHECKS) * len(rounds) and time.time() < deadline:
            for index, round_ in enumerate(rounds):
                if round_.started is None and time.time() >= begin + index * interval_s / len(rounds):
                    load.start(round_)
            if load.errors:
                raise BenchError(f"the load failed: {load.errors[0]}")
            if time.time() >= next_tick:  # as the daemon: at least the interval between tick starts
                next_tick = time.time() + interval_s
                result = tick(sensor, resource, cursor)
                note_alerts(result, rounds, seen, load)
                cursor = result.cursor
            status.update(progress_line(sustain_s, rounds, seen))
            time.sleep(0.2)
    return seen


def tick(sensor: dg.SensorDefinition, resource: HotPartitionResource, cursor: str | None) -> dg.SensorResult:
    with dg.build_sensor_context(cursor=cursor, resources={"hot_partitions": resource}) as context:
        return sensor(context)


def note_alerts(result: dg.SensorResult, rounds: list[SkewedRound], seen: Seen, load: SkewedLoad) -> None:
    """The first alert of each kind on each round's topic, in seconds after its first record; a
    round with both alerts stops its load."""
    now = time.time()
    by_topic = {r.topic: r for r in rounds if r.started is not None}
    for evaluation in result.asset_events:
        for entry in evaluation.metadata["partitions"].value:
            round_ = by_topic.get(entry["topic"])
            if round_ and (evaluation.check_name, round_.topic) not in seen:
                seen[(evaluation.check_name, round_.topic)] = (round_.elapsed(now), entry)
                if all((check, round_.topic) in seen for check in CHECKS):
                    load.finish(round_)


def progress_line(sustain_s: float, rounds: list[SkewedRound], seen: Seen) -> str:
    started = sum(r.started is not None for r in rounds)
    return (
        f"sustain {sustain_s:g} s: {started}/{len(rounds)} skewed loads running, "
        f"{sum(c == PRODUCE_SKEW_CHECK for c, _ in seen)} skew and "
        f"{sum(c == HOT_PARTITIONS_CHECK for c, _ in seen)} lag alerts"
    )


def round_checks(rounds: list[SkewedRound], seen: Seen, sustain_s: float) -> list[tuple[str, bool]]:
    checks = []
    for n, round_ in enumerate(rounds, 1):
        for check in CHECKS:
            found = seen.get((check, round_.topic))
            named = found is not None and found[1]["partition"] == round_.hot_partition
            top_user = found is not None and next(iter(found[1].get("top_user_ids", {})), None) == HOT_USER
            checks.append(
                (f"sustain {sustain_s:g} s, round {n}: {check} names partition {round_.hot_partition}", named)
            )
            checks.append((f"sustain {sustain_s:g} s, round {n}: {check} names {HOT_USER} first", top_user))
    return checks


def report(settings: Settings, args: argparse.Namespace, rows: list) -> None:
    table = Table(
        "sustain",
        "sensor interval",
        "to produce-skew alert (s)",
        "to hot-partition alert (s)",
        "rounds (lag alert, s)",
        title=(
            f"seconds from a skewed load's first record to the alert, median of {args.rounds} rounds "
            f"({args.rate:g} records/s, {args.hot_share:.0%} on one of "
            f"{settings.kafka_topic_partitions} partitions, group reading {args.capacity:g}/s per partition)"
        ),
    )
    for sustain_s, interval_s, rounds, seen in rows:
        skew = [
            seen[(PRODUCE_SKEW_CHECK, r.topic)][0] for r in rounds if (PRODUCE_SKEW_CHECK, r.topic) in seen
        ]
        lag = [
            seen[(HOT_PARTITIONS_CHECK, r.topic)][0]
            for r in rounds
            if (HOT_PARTITIONS_CHECK, r.topic) in seen
        ]
        table.add_row(
            f"{sustain_s:g} s",
            f"{interval_s:g} s",
            f"{statistics.median(skew):.1f}" if skew else "never",
            f"{statistics.median(lag):.1f}" if lag else "never",
            ", ".join(f"{x:.1f}" for x in lag),
        )
    console.print(table)


def seconds_to(check: str, rounds: list[SkewedRound], seen: Seen) -> list[float]:
    return [seen[(check, r.topic)][0] for r in rounds if (check, r.topic) in seen]


if __name__ == "__main__":
    raise SystemExit(main())
