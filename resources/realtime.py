"""The streaming worker's side, as the realtime check reads it: its Redis and its group."""

from __future__ import annotations

import dagster as dg
import redis


class RealtimeResource(dg.ConfigurableResource):
    """The streaming worker's side: its Redis aggregates and its consumer group."""

    redis_url: str
    stream_group: str = "stream-processing"
    metric_ttl_windows: float = 2.0

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_timeout=5)
