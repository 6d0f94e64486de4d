"""Great Expectations suites over pandas batches of the lakehouse tables, with no dagster import.

Asset checks wrap these functions; everything GX-specific stays here. GX is imported lazily
(it takes seconds), and one ephemeral context serves every call in the process: the suites are
built per call (the envelope's time window moves with ``now``) but never stored in the context,
and only the DataFrame handed to the one reused batch definition changes between calls.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING

import pandas as pd

from analytics_pipeline.events.envelope import EVENT_ID_PATTERN, EVENT_TYPE_PATTERN
from analytics_pipeline.events.quality_rules import (
    AMOUNT_IS_NUMBER,
    AMOUNT_NOT_NEGATIVE,
    CURRENCY_KNOWN,
    PURCHASE,
    TIMESTAMP_IN_WINDOW,
    purchase_fields,
)

if TYPE_CHECKING:
    from great_expectations.core import ExpectationValidationResult as ValidationResult
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.expectations import Expectation

SAMPLE_SIZE = 5

# BASIC already carries partial_unexpected_list; more than SAMPLE_SIZE leaves room for duplicates.
_RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 20}
_ENVELOPE_COLUMNS = ("projectId", "eventId", "eventType", "userId", "timestamp", "receivedAt")
_PURCHASE_SOURCE_COLUMNS = ("eventType", "properties")
_BRONZE_COLUMNS = ("key", "value", "topic", "partition", "offset", "projectId")


@dataclass(frozen=True)
class ExpectationOutcome:
    name: str  # short and stable: metadata keys and dashboards are built from it
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_sample: list[str]  # a few distinct offending values, as text


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    success: bool
    rows: int
    outcomes: list[ExpectationOutcome]

    def failed(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.success]

    def as_metadata(self) -> dict[str, object]:
        """Flat and JSON-serialisable, so an asset check can pass it on as it is."""
        metadata: dict[str, object] = {"rows": self.rows, "failed": [o.name for o in self.failed()]}
        for outcome in self.outcomes:
            metadata[f"{outcome.name}: unexpected"] = outcome.unexpected_count
            if not outcome.success:
                metadata[f"{outcome.name}: sample"] = outcome.unexpected_sample
        return metadata


Check = tuple[str, "Expectation"]  # (outcome name, the expectation behind it)


def envelope_suite_outcome(
    validated: pd.DataFrame,
    *,
    max_age: timedelta,
    max_future: timedelta,
    registered_types: frozenset[str] = frozenset(),
) -> SuiteOutcome:
    """The envelope contract again, on what reached the table (a batch can hold replays).

    The time window is the ingestion service's: the timestamp against the event's own receive
    time, so an event read days later (a stopped ETL, a backfill) is judged as it was accepted.
    """
    expect = _expectations()
    checks: list[Check] = [
        ("eventId not null", expect.ExpectColumnValuesToNotBeNull(column="eventId")),
        # Two projects may pick the same eventId; within one project it names one event.
        (
            "eventId unique per project",
            expect.ExpectCompoundColumnsToBeUnique(column_list=["projectId", "eventId"]),
        ),
        (
            "eventId matches pattern",
            expect.ExpectColumnValuesToMatchRegex(column="eventId", regex=_whole(EVENT_ID_PATTERN)),
        ),
        (
            "eventType registered or matches pattern",
            expect.ExpectColumnValuesToMatchRegex(
                column="eventType", regex=_event_type_regex(registered_types)
            ),
        ),
        ("userId not null", expect.ExpectColumnValuesToNotBeNull(column="userId")),
        ("userId not empty", expect.ExpectColumnValueLengthsToBeBetween(column="userId", min_value=1)),
        (
            TIMESTAMP_IN_WINDOW,
            expect.ExpectColumnValuesToBeBetween(
                column="secondsFromReceipt",
                min_value=-max_age.total_seconds(),
                max_value=max_future.total_seconds(),
            ),
        ),
    ]
    return _outcome("envelope", validated, checks, required=_ENVELOPE_COLUMNS, prepare=_seconds_from_receipt)


def purchase_suite_outcome(validated: pd.DataFrame, *, currencies: frozenset[str]) -> SuiteOutcome:
    """Revenue is summed from these fields, so a bad amount or currency skews every report."""
    expect = _expectations()
    checks: list[Check] = [
        # Rows whose amount is not a finite JSON number hold its text here, so the sample shows it.
        (AMOUNT_IS_NUMBER, expect.ExpectColumnValuesToBeNull(column="amountNotANumber")),
        (AMOUNT_NOT_NEGATIVE, expect.ExpectColumnValuesToBeBetween(column="amount", min_value=0)),
        (
            CURRENCY_KNOWN,
            expect.ExpectColumnValuesToBeInSet(column="currency", value_set=sorted(currencies)),
        ),
    ]
    return _outcome("purchase", validated, checks, required=_PURCHASE_SOURCE_COLUMNS, prepare=purchases)


def bronze_suite_outcome(bronze: pd.DataFrame) -> SuiteOutcome:
    """Bronze keeps whatever Kafka held; these are the properties every later layer relies on."""
    expect = _expectations()
    checks: list[Check] = [
        ("key not null", expect.ExpectColumnValuesToNotBeNull(column="key")),
        ("value not null", expect.ExpectColumnValuesToNotBeNull(column="value")),
        (
            "kafka position unique",
            expect.ExpectCompoundColumnsToBeUnique(column_list=["topic", "partition", "offset"]),
        ),
        ("projectId not null", expect.ExpectColumnValuesToNotBeNull(column="projectId")),
    ]
    return _outcome("bronze", bronze, checks, required=_BRONZE_COLUMNS)


def purchases(validated: pd.DataFrame) -> pd.DataFrame:
    """One row per purchase event: amount (float or NaN), its text when not a number, currency."""
    rows = validated.loc[validated["eventType"] == PURCHASE]
    fields = [purchase_fields(properties) for properties in rows["properties"]]
    return pd.DataFrame(
        {
            "amount": pd.Series([f[0] for f in fields], index=rows.index, dtype="float64"),
            "amountNotANumber": pd.Series([f[1] for f in fields], index=rows.index, dtype="object"),
            "currency": pd.Series([f[2] for f in fields], index=rows.index, dtype="object"),
        }
    )


def _whole(pattern: str) -> str:
    """Python's ``$`` also matches before a final newline; pydantic's (Rust) regex does not."""
    return rf"(?:{pattern})\Z"


def _event_type_regex(registered_types: frozenset[str]) -> str:
    if not registered_types:
        return _whole(EVENT_TYPE_PATTERN)
    names = "|".join(sorted(map(re.escape, registered_types)))
    return _whole(rf"^(?:{names})$|{EVENT_TYPE_PATTERN}")


def _seconds_from_receipt(validated: pd.DataFrame) -> pd.DataFrame:
    """How far each timestamp lies from its receive time (naive times are UTC, as Spark's)."""
    timestamp = pd.to_datetime(validated["timestamp"], utc=True)
    received = pd.to_datetime(validated["receivedAt"], utc=True)
    return validated.assign(secondsFromReceipt=(timestamp - received).dt.total_seconds())


def _outcome(
    suite: str,
    frame: pd.DataFrame,
    checks: Sequence[Check],
    *,
    required: Sequence[str],
    prepare: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> SuiteOutcome:
    if not frame.empty:
        missing = [column for column in required if column not in frame.columns]
        if missing:
            raise ValueError(
                f"The {suite} suite needs columns {missing}, absent from the frame "
                f"(it has {list(frame.columns)}); pass the table's full schema"
            )
        frame = frame.loc[:, list(required)]  # GX hashes every column of every batch it loads
        frame = prepare(frame) if prepare else frame
    if frame.empty:  # GX passes 0 rows, but fails each expectation whose column is absent
        outcomes = [ExpectationOutcome(name, True, 0, 0, []) for name, _ in checks]
        return SuiteOutcome(suite, True, 0, outcomes)
    results = _validate(suite, frame, checks)
    outcomes = [_expectation_outcome(suite, name, results[name]) for name, _ in checks]
    return SuiteOutcome(suite, all(o.success for o in outcomes), len(frame), outcomes)


def _validate(suite: str, frame: pd.DataFrame, checks: Sequence[Check]) -> dict[str, ValidationResult]:
    """Results by check name, since GX returns them in an order of its own."""
    gx = _gx()
    for name, expectation in checks:
        expectation.meta = {"check": name}
    gx_suite = gx.ExpectationSuite(name=suite, expectations=[expectation for _, expectation in checks])
    # The pandas engine keeps one active batch per asset, so two threads must not interleave.
    with _GX_LOCK:
        batch = _dataframe_batches().get_batch(batch_parameters={"dataframe": frame})
        validation = batch.validate(gx_suite, result_format=_RESULT_FORMAT)
    return {result.expectation_config.meta["check"]: result for result in validation.results}


def _expectation_outcome(suite: str, name: str, result: ValidationResult) -> ExpectationOutcome:
    info = result.exception_info or {}
    failures = [info] if "raised_exception" in info else list(info.values())
    errors = [str(f.get("exception_message")) for f in failures if f.get("raised_exception")]
    if errors:  # a count of 0 would pass off a broken check as a clean one
        raise RuntimeError(f"GX could not evaluate '{name}' in the {suite} suite: {errors[0]}")
    found = result.result
    return ExpectationOutcome(
        name=name,
        success=bool(result.success),
        element_count=int(found.get("element_count") or 0),
        unexpected_count=int(found.get("unexpected_count") or 0),
        unexpected_sample=_sample(found.get("partial_unexpected_list") or []),
    )


def _sample(values: list[object]) -> list[str]:
    texts = dict.fromkeys(_as_text(value) for value in values)  # distinct, in GX's order
    return list(texts)[:SAMPLE_SIZE]


def _as_text(value: object) -> str:
    if isinstance(value, dict):  # compound columns: one dict per offending row
        return ", ".join(f"{column}={_as_text(item)}" for column, item in value.items())
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return "null"
    if isinstance(value, datetime):
        return value.isoformat()
    return '""' if value == "" else str(value)


_GX_LOCK = threading.Lock()


@functools.cache
def _dataframe_batches() -> BatchDefinition:
    """One context, data source and asset per process; each validation passes its own frame."""
    gx = _gx()
    from great_expectations.data_context.types.base import (  # noqa: PLC0415 - see _gx
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        progress_bars=ProgressBarsConfig(globally=False),  # tqdm bars on stderr, per validation
        analytics_enabled=False,
        store_backend_defaults=InMemoryStoreBackendDefaults(),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    asset = context.data_sources.add_pandas("quality_expectations").add_dataframe_asset("dataframe")
    return asset.add_batch_definition_whole_dataframe("whole dataframe")


def _gx() -> ModuleType:
    import great_expectations  # noqa: PLC0415 - takes seconds; paid on first use, not on import

    return great_expectations


def _expectations() -> ModuleType:
    return _gx().expectations
