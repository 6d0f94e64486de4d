"""Events answered 503 whose record the producer then gave up on: in Kafka or not?

The producer keeps a record past the HTTP wait (see ``kafka_io.producer``), and usually settles
it: acknowledged (the claim is confirmed) or refused. When instead its delivery timeout expires,
a leader may still hold the record and commit it once its followers are back; releasing the
claim then would let the client's retry write a second copy. So the claims are held while the
log is read for the keys, once everything its leader appended is committed
(``kafka_io.landing``): found, they are confirmed (a retry is answered 409), not found, released
(a retry is accepted). One check per topic at a time serves every waiting event, however many
requests failed during an outage."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from analytics_pipeline.ingest.dedup import Deduplicator
from analytics_pipeline.kafka_io.landing import landed_keys

log = logging.getLogger(__name__)


@dataclass
class _Waiting:
    project_id: str
    event_ids: list[str]
    since_ms: int
    found: asyncio.Future[set[str]]
    give_up_at: float


class UndecidedEvents:
    def __init__(
        self,
        bootstrap_servers: str,
        dedup: Deduplicator,
        poll_s: float = 1.0,
        give_up_s: float = 3600.0,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._dedup = dedup
        self._poll_s = poll_s
        self._give_up_s = give_up_s
        self._waiting: dict[str, list[_Waiting]] = defaultdict(list)  # by topic
        self._loop_task: asyncio.Task[None] | None = None

    async def landed(self, project_id: str, topic: str, event_ids: list[str], since_ms: int) -> set[str]:
        """The events among ``event_ids`` that are in ``topic`` (sent at or after ``since_ms``);
        their claims are held until it is known. After ``give_up_s`` none counts as landed."""
        found: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()
        deadline = time.monotonic() + self._give_up_s
        self._waiting[topic].append(_Waiting(project_id, event_ids, since_ms, found, deadline))
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = asyncio.create_task(self._check_until_decided())
        return await found

    async def _check_until_decided(self) -> None:
        while self._waiting:
            for topic in list(self._waiting):
                await self._check(topic)
            if self._waiting:
                await asyncio.sleep(self._poll_s)

    async def _check(self, topic: str) -> None:
        waiting = list(self._waiting[topic])  # events that come in meanwhile wait for the next check
        keys = {e.encode() for w in waiting for e in w.event_ids}
        try:
            found = await asyncio.to_thread(
                landed_keys, self._bootstrap, topic, keys, min(w.since_ms for w in waiting)
            )
        except Exception as exc:  # noqa: BLE001 - the cluster does not answer yet: ask again
            log.info("cannot read %s yet to decide %d event(s): %s", topic, len(keys), exc)
            found = None
        decided = set()
        for w in waiting:
            if found is not None:
                w.found.set_result({e for e in w.event_ids if e.encode() in found})
            elif time.monotonic() > w.give_up_at:
                w.found.set_result(set())
            else:
                continue
            decided.add(id(w))
        still = [w for w in waiting if id(w) not in decided]
        for project_id in {w.project_id for w in still}:  # keep the claims while undecided
            await self._dedup.hold(
                project_id, [e for w in still if w.project_id == project_id for e in w.event_ids]
            )
        remaining = [w for w in self._waiting[topic] if id(w) not in decided]
        if remaining:
            self._waiting[topic] = remaining
        else:
            del self._waiting[topic]
