"""Makes sure a project's topics exist before its first event is produced.

``analytics project create`` creates them; this covers a project created while Kafka was away,
and brokers that do not auto-create topics (ours do not). Checked once per project per process.
"""

from __future__ import annotations

import asyncio

from analytics_pipeline.kafka_io.admin import ensure_topics
from analytics_pipeline.kafka_io.topics import project_topics
from analytics_pipeline.settings import Settings


class TopicGuard:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._ready: set[str] = set()
        self._lock = asyncio.Lock()

    async def ensure(self, project_id: str) -> None:
        """Raises what the admin client raises when Kafka is away; the caller answers 503."""
        if project_id in self._ready:
            return
        async with self._lock:
            if project_id in self._ready:
                return
            specs = project_topics(project_id, self._settings)
            await asyncio.to_thread(
                ensure_topics,
                self._settings.kafka_bootstrap_servers,
                specs,
                self._settings.kafka_produce_timeout_s,
            )
            self._ready.add(project_id)
