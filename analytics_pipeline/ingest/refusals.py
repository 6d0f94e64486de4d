"""Why Kafka did not acknowledge an event, for the 503's message: asked of the cluster only after
a produce failed, at most once a second per topic, so an outage does not multiply requests.

Brokers seldom say it themselves: with every node also a KRaft controller, losing two of three
loses the quorum, the metadata (ISR included) freezes, and the survivor's produce requests time
out instead of being refused with NOT_ENOUGH_REPLICAS. So the in-sync replicas that still answer
are counted here."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from kafka import errors as Errors

from analytics_pipeline.kafka_io.replicas import PartitionReplicas, ReplicaView, replica_view
from analytics_pipeline.settings import Settings

_CACHE_S = 1.0
_ASK_TIMEOUT_S = 1.0
_REPLICA_ERRORS = (Errors.NotEnoughReplicasError, Errors.NotEnoughReplicasAfterAppendError)


class RefusalExplainer:
    def __init__(self, settings: Settings) -> None:
        self._bootstrap = settings.kafka_bootstrap_servers
        self._min_in_sync = settings.kafka_min_insync_replicas or 1
        self._asked: dict[str, tuple[float, ReplicaView | None]] = {}
        self._lock = asyncio.Lock()

    async def explain(self, topic: str, errors: Sequence[BaseException]) -> str | None:
        """A sentence naming the cause when it is too few in-sync replicas that answer (or no
        leader that does); None when no broker answers or the topic looks healthy."""
        view = await self._view(topic)
        if view is not None:
            causes = [
                c for p in view.partitions if (c := refusal_cause(p, view.reachable, self._min_in_sync))
            ]
            if causes:
                return "; ".join(causes)
        if any(isinstance(e, _REPLICA_ERRORS) for e in errors):
            return f"too few in-sync replicas for {topic} (min.insync.replicas={self._min_in_sync})"
        return None

    async def _view(self, topic: str) -> ReplicaView | None:
        async with self._lock:
            asked_at, view = self._asked.get(topic, (-_CACHE_S, None))
            if time.monotonic() - asked_at < _CACHE_S:
                return view
            try:
                view = await asyncio.to_thread(replica_view, self._bootstrap, [topic], _ASK_TIMEOUT_S)
            except Exception:  # noqa: BLE001 - no answer: the 503 says what it knows without it
                view = None
            self._asked[topic] = (time.monotonic(), view)
            return view


def refusal_cause(p: PartitionReplicas, reachable: frozenset[int], min_in_sync: int) -> str | None:
    """Why ``acks=all`` cannot be met on this partition now, or None when it can."""
    where = f"{p.topic}/{p.partition}"
    down = sorted(set(p.replicas) - reachable)
    away = f" (broker {', '.join(map(str, down))} does not answer)" if down else ""
    in_sync = [broker for broker in p.in_sync if broker in reachable]
    if len(in_sync) < min_in_sync:
        return (
            f"too few in-sync replicas for {where}: {len(in_sync)} of {len(p.replicas)} in sync "
            f"and answering, min.insync.replicas={min_in_sync}{away}"
        )
    if p.leader not in reachable:
        return f"no leader answers for {where}, a new one is being elected{away}"
    return None
