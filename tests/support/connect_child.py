"""Lose the Spark Connect server under a query, again and again, in a process of its own (a
process is in Connect mode or classic mode for its life; the test process is classic).

``python -m tests.support.connect_child --rounds N``: settings come from the ``ANALYTICS_*``
environment; the server is the one they name, which the parent started. Each round SIGKILLs it
in the middle of a long query, takes a retried step's path (``ensure_spark_server`` starts it
again, ``connect_session`` replaces the lost session and leaves none of its result streams for
the garbage collector to finalize mid-query), then runs a query on the new server. Prints one
JSON line per round; exit 0 when every round got its answer and no stream was left.
"""

from __future__ import annotations

import argparse
import gc
import json
import threading
import time

from pyspark.errors import PySparkException
from pyspark.sql.connect.client.reattach import ExecutePlanResponseReattachableIterator

from analytics_pipeline.lakehouse.spark_connect import connect_session
from analytics_pipeline.settings import Settings
from analytics_pipeline.stack.spark_server import SparkConnectServer, SparkServerSpec, ensure_spark_server

ROWS = 1_000_000


def lose_and_recover(spec: SparkServerSpec) -> dict:
    server = SparkConnectServer(spec)
    spark = connect_session(spec.url)
    killer = threading.Timer(2.0, server.process.kill)
    killer.start()
    lost = False
    try:  # minutes on any machine, so the kill lands in the middle (3e9 rows once took under 2 s)
        spark.range(0, 10**12, numPartitions=4).selectExpr("sum(id % 7)").collect()
    except PySparkException:
        lost = True
    killer.join()
    del spark  # as a retried step holds nothing of the attempt that failed
    started = time.monotonic()
    ensure_spark_server(spec)
    spark = connect_session(spec.url)
    streams_left = live_result_streams()
    count = spark.range(0, ROWS, numPartitions=4).count()
    return {
        "lost": lost,
        "streams_left": streams_left,
        "count": count,
        "recovered_s": round(time.monotonic() - started, 1),
    }


def live_result_streams() -> int:
    """Result streams not yet finalized: the lost query's, until the garbage collector runs their
    finalizer at a moment of its choosing (unless ``connect_session`` did it first)."""
    return sum(isinstance(o, ExecutePlanResponseReattachableIterator) for o in gc.get_objects())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    spec = SparkServerSpec.of(Settings())
    ok = True
    for _ in range(args.rounds):
        result = lose_and_recover(spec)
        print(json.dumps(result), flush=True)
        ok = ok and result["lost"] and result["streams_left"] == 0 and result["count"] == ROWS
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
