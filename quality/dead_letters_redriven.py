"""raw_events' dead_letters_redriven check: WARN while a project holds dead letters nobody has
sent back (`analytics dlq redrive`). dead_letter_sensor reports it whenever the counts change;
run by hand, it counts now."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from analytics_pipeline.deadletters.counts import LetterCount
from keys import DEAD_LETTERS_CHECK, RAW_EVENTS
from resources.kafka import DeadLetterResource


def check_outcome(counts: Mapping[str, LetterCount]) -> dict[str, Any]:
    """The fields of an AssetCheckEvaluation (sensor) or AssetCheckResult (run by hand)."""
    waiting = {project: c.waiting for project, c in sorted(counts.items()) if c.waiting}
    rows = ["| project | held | not redriven |", "| --- | --- | --- |"]
    rows += [f"| {project} | {c.held:,} | {c.waiting:,} |" for project, c in sorted(counts.items())]
    return {
        "check_name": DEAD_LETTERS_CHECK,
        "passed": not waiting,
        "severity": dg.AssetCheckSeverity.WARN,
        "description": "; ".join(
            f"{project}: {n:,} dead letter(s) not redriven (analytics dlq list --project {project})"
            for project, n in waiting.items()
        )
        or "no dead letter waits for a redrive",
        "metadata": {
            "waiting": sum(waiting.values()),
            "held": sum(c.held for c in counts.values()),
            "per_project": dg.MetadataValue.json(
                {project: {"held": c.held, "waiting": c.waiting} for project, c in sorted(counts.items())}
            ),
            "summary": dg.MetadataValue.md("\n".join(rows) if counts else "no dead letters"),
        },
    }


def check_evaluation(counts: Mapping[str, LetterCount]) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(asset_key=RAW_EVENTS, **check_outcome(counts))


@dg.asset_check(
    asset=RAW_EVENTS,
    name=DEAD_LETTERS_CHECK,
    description=(
        "WARN while a project's dead-letter topic holds letters never redriven (reported by "
        "dead_letter_sensor; run by hand: counted now)."
    ),
)
def dead_letters_check(dead_letters: DeadLetterResource) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(asset_key=RAW_EVENTS, **check_outcome(dead_letters.counts()))
