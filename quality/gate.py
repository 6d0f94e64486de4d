"""The gate between the checks on validated_events and daily_metrics.

daily_metrics runs in its own runs (schedule, late events, backfills), so Dagster's in-run
blocking cannot stop it: it asks the instance for the latest evaluation of each gating
(ERROR-level) check on validated_events and refuses to compute while one of them failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from quality.lakehouse_checks import GATING_CHECKS


@dataclass(frozen=True)
class FailedCheck:
    check: str
    run_id: str


def failed_gating_checks(instance: dg.DagsterInstance) -> list[FailedCheck]:
    """The gating checks whose latest evaluation failed (none evaluated yet: nothing blocks)."""
    failed = []
    for key in GATING_CHECKS:
        record = instance.get_latest_asset_check_evaluation_record(key)
        if record is None or record.event is None or record.event.dagster_event is None:
            continue
        evaluation = record.event.dagster_event.event_specific_data
        if evaluation is not None and not getattr(evaluation, "passed", True):
            failed.append(FailedCheck(f"{key.asset_key.to_user_string()}.{key.name}", record.run_id))
    return failed
