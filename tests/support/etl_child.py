"""One ``kafka_batch_etl`` run in a process of its own, so a fault test can SIGKILL a real
Dagster run (and the Spark JVM under it) in the middle of its writes, or a run can use a Spark
master of its own (a JVM takes one master for its life; the test process has a local one).

``python -m tests.support.etl_child --lake DIR --ranges JSON [--master URL] [--days D,...]``:
settings come from the ``ANALYTICS_*`` environment (``Settings.as_environment()`` of the
parent), the ranges are ``ranges_to_config`` JSON; ``--days`` then runs daily_metrics for each.
The exit code is 0 when every run succeeded.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from analytics_pipeline.lakehouse.offset_ranges import ranges_from_config
from analytics_pipeline.settings import Settings
from tests.support.lakehouse_dagster import LakeGraph


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lake", required=True, help="root of the Delta tables: a folder or s3a://bucket/path"
    )
    parser.add_argument("--ranges", required=True, help="offset ranges as ranges_to_config JSON")
    parser.add_argument("--master", default="local[2]", help="the Spark master the runs use")
    parser.add_argument("--days", default="", help="comma-separated days to run daily_metrics for after")
    args = parser.parse_args(argv)
    graph = LakeGraph(Settings(), args.lake, spark_master=args.master)
    result = graph.run_etl(ranges_from_config(json.loads(args.ranges)), raise_on_error=False)
    if not result.success:
        return 1
    days = [date.fromisoformat(day) for day in args.days.split(",") if day]
    return 0 if all(graph.run_daily(day, raise_on_error=False).success for day in days) else 1


if __name__ == "__main__":
    sys.exit(main())
