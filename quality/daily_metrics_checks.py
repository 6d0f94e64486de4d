"""The checks ``daily_metrics`` reports with each run: its rows match validated_events, and no
(project, day) was held back by the quality gate (its validated rows repeat an eventId)."""

from __future__ import annotations

from datetime import date

import dagster as dg

from keys import DAILY_METRICS, HELD_METADATA, MATCHES_VALIDATED, QUALITY_GATE

DAILY_METRICS_CHECK_SPECS = [
    dg.AssetCheckSpec(
        MATCHES_VALIDATED,
        asset=DAILY_METRICS,
        description="Per (project, day) written: its events equal its rows in validated_events.",
    ),
    dg.AssetCheckSpec(
        QUALITY_GATE,
        asset=DAILY_METRICS,
        description=(
            "No (project, day) held back: each names every eventId once in validated_events "
            "(envelope_expectations: eventId unique per project)."
        ),
    ),
]


def daily_metrics_check_results(
    first: date,
    last: date,
    differences: dict[str, dict[str, dict[str, int]]],
    held: dict[tuple[date, str], int],
) -> list[dg.AssetCheckResult]:
    """``differences``: the days whose rows disagree with validated_events; ``held``: rows too
    many per (day, project) the gate held back."""
    return [
        dg.AssetCheckResult(
            check_name=MATCHES_VALIDATED,
            passed=not differences,
            metadata={
                "days_checked": (last - first).days + 1,
                "differences": dg.MetadataValue.json(differences),
            },
        ),
        dg.AssetCheckResult(
            check_name=QUALITY_GATE,
            passed=not held,
            severity=dg.AssetCheckSeverity.ERROR,
            description=_held_description(held) if held else "every (project, day) was written",
            metadata={HELD_METADATA: dg.MetadataValue.json(held_json(held))},
        ),
    ]


def held_json(held: dict[tuple[date, str], int]) -> dict[str, dict[str, int]]:
    """{day: {project: rows too many}}, as late_events_sensor reads it back."""
    found: dict[str, dict[str, int]] = {}
    for (day, project), repeated in sorted(held.items()):
        found.setdefault(day.isoformat(), {})[project] = repeated
    return found


def _held_description(held: dict[tuple[date, str], int]) -> str:
    pairs = ", ".join(f"{project} on {day}" for day, project in sorted(held))
    return (
        f"held back (validated rows repeat an eventId): {pairs}; rebuild those days "
        "(`analytics lakehouse backfill`) and they are recomputed"
    )
