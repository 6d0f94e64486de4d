"""A steady offered load through ``POST /v1/events`` that rides out faults, and what it saw.

Events arrive at a fixed rate (open loop: a blocked request does not slow the arrivals), a pool
of client threads sends them, and each event goes back in line to be sent again with the same
eventId after any answer but 202, 409 or a 4xx, as the SDK does, until it is settled or the
load gives up on it; retries never hold up new events.
Every answer is kept with its send time and latency, so a fault test or benchmark can tell
when clients were refused (503) or kept waiting, and which events Kafka must hold.
"""

from __future__ import annotations

import heapq
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from analytics_pipeline.loadgen.pacing import Pacer

EVENT_TYPES = ("page_view", "add_to_cart", "search", "signup")  # no purchase: its properties are checked
SETTLED = {202, 409}  # Kafka has the event (409: an earlier attempt of it)


@dataclass(frozen=True)
class Answer:
    event_id: str
    sent_at: float  # time.monotonic() when the request went out
    seconds: float
    status: int  # 0: no HTTP answer (connection refused, timed out)
    error: str = ""  # the body's "error" code of a non-2xx answer
    message: str = ""

    @property
    def answered_at(self) -> float:
        return self.sent_at + self.seconds


@dataclass(frozen=True)
class FaultWindow:
    """What clients saw from a fault on: how long after it they were still refused (503) or kept
    waiting longer than ``slow_s``, and how many such answers there were."""

    refused_s: float  # fault -> end of the last 503 answer (0: none)
    slow_s: float  # fault -> end of the last answer slower than the threshold (0: none)
    refused: int
    slow: int
    answers: int


def fault_window(answers: list[Answer], fault_at: float, slow_s: float = 1.0) -> FaultWindow:
    """The refusals and slow answers of requests still open at ``fault_at`` or sent after it."""
    after = [a for a in answers if a.answered_at >= fault_at]
    refused = [a for a in after if a.status == 503]
    slow = [a for a in after if a.seconds > slow_s]
    return FaultWindow(
        max((a.answered_at - fault_at for a in refused), default=0.0),
        max((a.answered_at - fault_at for a in slow), default=0.0),
        len(refused),
        len(slow),
        len(after),
    )


@dataclass
class SteadyLoad:
    url: str
    api_key: str
    rate: float  # events offered per second
    clients: int = 32  # concurrent requests at most
    retry_pause_s: float = 0.5
    give_up_s: float = 300.0  # an event still unsettled this long after its first try is abandoned
    answers: list[Answer] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)  # answered 202
    duplicates: set[str] = field(default_factory=set)  # answered 409: an earlier attempt landed
    rejected: set[str] = field(default_factory=set)  # a 4xx other than 409 and 429: never retried
    given_up: set[str] = field(default_factory=set)
    offered: int = 0

    def __post_init__(self) -> None:
        # (first try, event): new arrivals and retries that are due, in one queue
        self._ready: queue.Queue[tuple[float, dict[str, Any]] | None] = queue.Queue()
        self._retries: list[tuple[float, int, float, dict[str, Any]]] = []  # heap by due time
        self._offering = threading.Event()
        self._running = threading.Event()
        self._lock = threading.Lock()
        self._outstanding = 0  # offered, neither settled nor given up
        self._threads: list[threading.Thread] = []

    def start(self) -> SteadyLoad:
        self._offering.set()
        self._running.set()
        self._threads = [
            threading.Thread(target=self._offer, name="load-arrivals", daemon=True),
            threading.Thread(target=self._release_due_retries, name="load-retries", daemon=True),
        ]
        self._threads += [
            threading.Thread(target=self._send_loop, name=f"load-client-{i}", daemon=True)
            for i in range(self.clients)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, drain_timeout_s: float = 180.0) -> None:
        """Stop offering, then wait for the events already offered to settle (or be given up)."""
        self._offering.clear()
        self._threads[0].join()
        deadline = time.monotonic() + drain_timeout_s
        while self._outstanding and time.monotonic() < deadline:
            time.sleep(0.1)
        self._running.clear()
        for _ in range(self.clients):
            self._ready.put(None)
        for thread in self._threads[1:]:
            thread.join(10.0)
        if self._outstanding:
            raise TimeoutError(
                f"{self._outstanding} events unsettled {drain_timeout_s:g} s after the load stopped"
            )

    @property
    def settled(self) -> set[str]:
        """Events Kafka must hold exactly once: answered 202, or 409 after an earlier attempt."""
        return self.acknowledged | self.duplicates

    def _offer(self) -> None:
        pacer = Pacer(self.rate)
        while self._offering.is_set():
            pacer.wait()
            n = self.offered
            event = {
                "eventId": f"evt_{uuid.uuid4().hex}",
                "eventType": EVENT_TYPES[n % len(EVENT_TYPES)],
                "userId": f"user-{n % 97}",
                "properties": {"n": n},
            }
            with self._lock:
                self._outstanding += 1
            self._ready.put((time.monotonic(), event))
            self.offered += 1

    def _release_due_retries(self) -> None:
        while self._running.is_set():
            with self._lock:
                due = []
                while self._retries and self._retries[0][0] <= time.monotonic():
                    _due, _n, first_try, event = heapq.heappop(self._retries)
                    due.append((first_try, event))
            for item in due:
                self._ready.put(item)
            time.sleep(0.02)

    def _send_loop(self) -> None:
        auth = {"Authorization": f"Bearer {self.api_key}"}
        with httpx.Client(base_url=self.url, timeout=30.0, headers=auth) as client:
            while (item := self._ready.get()) is not None:
                self._attempt(client, *item)

    def _attempt(self, client: httpx.Client, first_try: float, event: dict[str, Any]) -> None:
        """One try; an unsettled event goes back in line after the pause, as a client's retry."""
        answer = self._post(client, event)
        with self._lock:
            self.answers.append(answer)
            if answer.status == 202:
                self.acknowledged.add(answer.event_id)
            elif answer.status == 409:
                self.duplicates.add(answer.event_id)
            elif 400 <= answer.status < 500 and answer.status != 429:
                self.rejected.add(answer.event_id)
            elif time.monotonic() - first_try < self.give_up_s:
                due = time.monotonic() + self.retry_pause_s
                heapq.heappush(self._retries, (due, len(self.answers), first_try, event))
                return
            else:
                self.given_up.add(answer.event_id)
            self._outstanding -= 1

    def _post(self, client: httpx.Client, event: dict[str, Any]) -> Answer:
        sent_at = time.monotonic()
        try:
            response = client.post("/v1/events", json=event)
        except httpx.HTTPError as exc:
            return Answer(event["eventId"], sent_at, time.monotonic() - sent_at, 0, "no_answer", str(exc))
        seconds = time.monotonic() - sent_at
        if response.status_code < 300:
            return Answer(event["eventId"], sent_at, seconds, response.status_code)
        try:
            body = response.json()
        except ValueError:
            body = {}
        return Answer(
            event["eventId"],
            sent_at,
            seconds,
            response.status_code,
            str(body.get("error", "")),
            str(body.get("message", "")),
        )
