"""Seeded synthetic product-analytics events: a realistic mix, a skewed user base, a daily rhythm.

Pure: the same arguments give the same events, eventIds included, so a rerun with the same seed
replays the same events (the server answers them as duplicates) and tests can pin exact output.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from analytics_pipeline.timeutil import format_rfc3339

EVENT_MIX = {"page_view": 0.72, "add_to_cart": 0.16, "purchase": 0.07, "signup": 0.05}
CURRENCIES = {"USD": 0.6, "EUR": 0.25, "GBP": 0.15}
PLANS = {"free": 0.6, "starter": 0.25, "pro": 0.12, "enterprise": 0.03}
SOURCES = ("organic", "ads", "referral", "newsletter", "social")
PATHS = ("/", "/pricing", "/products", "/blog", "/docs", "/cart", "/checkout", "/about")
REFERRERS = (
    "",  # direct visit: what document.referrer holds
    "https://www.google.com/",
    "https://duckduckgo.com/",
    "https://news.ycombinator.com/",
    "https://www.linkedin.com/",
    "https://twitter.com/",
)
DEFAULT_USERS = 1_000
ZIPF_EXPONENT = 1.0  # with 1,000 users the busiest 1% send about 40% of the events
PRODUCTS = 200
_MS_PER_DAY = 86_400_000


@dataclass(frozen=True)
class SyntheticEvent:
    event_id: str
    event_type: str
    user_id: str
    properties: dict[str, Any]
    timestamp: datetime

    def as_payload(self) -> dict[str, Any]:
        """The event as the ingestion API takes it."""
        return {
            "eventId": self.event_id,
            "eventType": self.event_type,
            "userId": self.user_id,
            "timestamp": format_rfc3339(self.timestamp),
            "properties": self.properties,
        }


def generate_events(
    count: int, *, now: datetime, days: int = 7, users: int = DEFAULT_USERS, seed: int | None = None
) -> Iterator[SyntheticEvent]:
    """``count`` events with timestamps in ``(now - days, now]``; lazily, so a million cost no memory."""
    if days < 1 or users < 1 or count < 0:
        raise ValueError(f"need days >= 1, users >= 1 and count >= 0; got {days=}, {users=}, {count=}")
    source = _Source(random.Random(seed), now, days, users)  # noqa: S311 - synthetic data, not secrets
    return (source.event() for _ in range(count))


class _Source:
    """Draws the parts of events from one random stream; only ``generate_events`` uses it."""

    def __init__(self, rng: random.Random, now: datetime, days: int, users: int) -> None:
        self._rng = rng
        self._now = now
        self._span_ms = days * _MS_PER_DAY
        ids = [f"user-{n:05d}" for n in range(1, users + 1)]
        rng.shuffle(ids)  # so that busy users are not simply the low ids
        self._user_ids = ids
        self._user_weights = list(accumulate(1 / rank**ZIPF_EXPONENT for rank in range(1, users + 1)))
        self._prices = [round(max(0.99, math.exp(rng.gauss(3.2, 0.8))), 2) for _ in range(PRODUCTS)]
        self._properties = {
            "page_view": self._page_view,
            "add_to_cart": self._add_to_cart,
            "purchase": self._purchase,
            "signup": self._signup,
        }

    def event(self) -> SyntheticEvent:
        rng = self._rng
        event_type = _pick(rng, EVENT_MIX)
        (user_id,) = rng.choices(self._user_ids, cum_weights=self._user_weights)
        return SyntheticEvent(
            event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            event_type=event_type,
            user_id=user_id,
            properties=self._properties[event_type](),
            timestamp=self._timestamp(),
        )

    def _timestamp(self) -> datetime:
        """Uniform over the window, thinned by time of day (UTC): quiet at 04:00, busiest at 16:00."""
        while True:
            moment = self._now - timedelta(milliseconds=self._rng.randrange(self._span_ms))
            hour = moment.hour + moment.minute / 60
            activity = 0.2 + 0.8 * (1 - math.cos(2 * math.pi * (hour - 4) / 24)) / 2
            if self._rng.random() < activity:
                return moment

    def _product(self) -> tuple[str, float]:
        index = self._rng.randrange(PRODUCTS)
        return f"prod-{index:04d}", self._prices[index]

    def _quantity(self) -> int:
        return self._rng.choices((1, 2, 3), weights=(0.75, 0.18, 0.07))[0]

    def _page_view(self) -> dict[str, Any]:
        rng = self._rng
        path = f"/products/{self._product()[0]}" if rng.random() < 0.3 else rng.choice(PATHS)
        return {"path": path, "referrer": rng.choice(REFERRERS)}

    def _add_to_cart(self) -> dict[str, Any]:
        product_id, price = self._product()
        quantity = self._quantity()
        return {"productId": product_id, "amount": round(price * quantity, 2), "quantity": quantity}

    def _purchase(self) -> dict[str, Any]:
        rng = self._rng
        lines = [(self._product()[1], self._quantity()) for _ in range(rng.randint(1, 4))]
        return {
            "amount": round(sum(price * quantity for price, quantity in lines), 2),
            "currency": _pick(rng, CURRENCIES),
            "orderId": f"ord-{rng.getrandbits(48):012x}",
            "items": sum(quantity for _, quantity in lines),
        }

    def _signup(self) -> dict[str, Any]:
        return {"plan": _pick(self._rng, PLANS), "source": self._rng.choice(SOURCES)}


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]
