"""One ``archive_events`` run in a process of its own, so a fault test can SIGKILL a real Dagster
run in the middle of an upload.

``python -m tests.support.archive_child --ranges JSON``: settings come from the ``ANALYTICS_*``
environment of the parent; the exit code is 0 when the run succeeded.
"""

from __future__ import annotations

import argparse
import json
import sys

import dagster as dg

from analytics_pipeline.lakehouse.offset_ranges import ranges_from_config
from analytics_pipeline.settings import Settings
from orchestration.definitions import build_definitions
from sensors.archival import archive_run_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranges", required=True, help="offset ranges as ranges_to_config JSON")
    args = parser.parse_args(argv)
    job = build_definitions(Settings()).resolve_job_def("archive_events")
    config = archive_run_config(ranges_from_config(json.loads(args.ranges)))
    result = job.execute_in_process(
        run_config=config, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
