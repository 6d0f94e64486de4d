"""One ``kafka_batch_etl`` run in a process of its own, so a fault test can SIGKILL a real
Dagster run (and the Spark JVM under it) in the middle of its writes.

``python -m tests.support.etl_child --lake DIR --ranges JSON``: settings come from the
``ANALYTICS_*`` environment (``Settings.as_environment()`` of the parent), the ranges are
``ranges_to_config`` JSON; the exit code is 0 when the run succeeded.
"""

from __future__ import annotations

import argparse
import json
import sys

from analytics_pipeline.lakehouse.offset_ranges import ranges_from_config
from analytics_pipeline.settings import Settings
from tests.support.lakehouse_dagster import LakeGraph


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lake", required=True, help="root of the Delta tables: a folder or s3a://bucket/path"
    )
    parser.add_argument("--ranges", required=True, help="offset ranges as ranges_to_config JSON")
    args = parser.parse_args(argv)
    graph = LakeGraph(Settings(), args.lake)
    result = graph.run_etl(ranges_from_config(json.loads(args.ranges)), raise_on_error=False)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
