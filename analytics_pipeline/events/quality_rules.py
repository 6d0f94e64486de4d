"""The row-level ERROR expectations: rules each validated event must keep, judged one at a time.

The lakehouse quarantines an event that breaks one, with the suite and the rule as its reason, so
one tenant's bad rows hold back only themselves, never another tenant's metrics. The Great
Expectations suites in ``quality/`` check the same rules, under the same names, on what reached
``validated_events``; both read a purchase's fields through ``purchase_fields``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

ENVELOPE_SUITE = "envelope_expectations"
PURCHASE_SUITE = "purchase_expectations"
TIMESTAMP_IN_WINDOW = "timestamp within window"
AMOUNT_IS_NUMBER = "purchase amount is a number"
AMOUNT_NOT_NEGATIVE = "purchase amount >= 0"
CURRENCY_KNOWN = "purchase currency known"

PURCHASE = "purchase"
MISSING = "<missing>"  # stands in for an absent JSON key, so a reason or sample says so
NOT_AN_OBJECT = "<properties not a JSON object>"

DEFAULT_CURRENCIES: frozenset[str] = frozenset(
    {
        "AED", "AUD", "BRL", "CAD", "CHF", "CLP", "CNY", "COP", "CZK", "DKK", "EUR", "GBP",
        "HKD", "HUF", "IDR", "ILS", "INR", "JPY", "KRW", "MXN", "MYR", "NOK", "NZD", "PHP",
        "PLN", "SAR", "SEK", "SGD", "THB", "TRY", "TWD", "USD", "ZAR",
    }
)  # fmt: skip


@dataclass(frozen=True)
class QualityRules:
    """The bounds the rules judge by: plain data, so Spark can ship it to its Python workers."""

    currencies: frozenset[str]
    max_age: timedelta  # how far before its receive time an event's timestamp may lie
    max_future: timedelta  # and how far after

    @classmethod
    def of(
        cls,
        *,
        max_event_age_s: float,
        max_future_skew_s: float,
        currencies: Iterable[str] = DEFAULT_CURRENCIES,
    ) -> QualityRules:
        """The rules with the ingestion service's window (its ``ANALYTICS_MAX_*`` settings)."""
        return cls(
            frozenset(currencies), timedelta(seconds=max_event_age_s), timedelta(seconds=max_future_skew_s)
        )

    def broken(
        self, event_type: str, properties: Any, timestamp: datetime, received_at: datetime
    ) -> list[str]:
        """``"{suite}: {rule} ({what was found})"`` for each rule the event breaks."""
        problems = []
        offset = timestamp - received_at
        if offset > self.max_future or -offset > self.max_age:
            problems.append(f"{ENVELOPE_SUITE}: {TIMESTAMP_IN_WINDOW} ({_signed(offset)} from receivedAt)")
        if event_type == PURCHASE:
            amount, amount_text, currency = purchase_fields(properties)
            if amount is None:
                problems.append(f"{PURCHASE_SUITE}: {AMOUNT_IS_NUMBER} (got {amount_text})")
            elif amount < 0:
                problems.append(f"{PURCHASE_SUITE}: {AMOUNT_NOT_NEGATIVE} (got {amount:g})")
            if currency not in self.currencies:
                problems.append(f"{PURCHASE_SUITE}: {CURRENCY_KNOWN} (got {currency})")
        return problems


def purchase_fields(properties: Any) -> tuple[float | None, str | None, str]:
    """(amount, its JSON text when it is not a finite number, currency as sent) of a purchase's
    properties, given as a dict or as JSON text."""
    if isinstance(properties, str):
        try:
            properties = json.loads(properties)
        except ValueError:
            properties = None
    if not isinstance(properties, dict):
        return None, NOT_AN_OBJECT, NOT_AN_OBJECT
    amount = _finite_number(properties.get("amount"))
    amount_text = None if amount is not None else _as_sent(properties, "amount")
    currency = properties.get("currency")
    return amount, amount_text, currency if isinstance(currency, str) else _as_sent(properties, "currency")


def _finite_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # a JSON integer beyond float range
        return None
    return number if math.isfinite(number) else None


def _as_sent(properties: dict[str, Any], key: str) -> str:
    return json.dumps(properties[key]) if key in properties else MISSING


def _signed(offset: timedelta) -> str:
    seconds = offset.total_seconds()
    return f"{'+' if seconds >= 0 else '-'}{abs(seconds) / 3600:.1f} h"
