"""API key -> project, from the metadata store, cached briefly in-process.

Unknown keys are cached too (for a shorter time), so a client hammering with a bad key does not
turn into a database query per request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Annotated

from cachetools import TLRUCache
from fastapi import Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from analytics_pipeline.metadata.api_keys import hash_api_key
from analytics_pipeline.metadata.store import MetadataStore
from analytics_pipeline.web.errors import ApiError

bearer = HTTPBearer(auto_error=False, description="The project's API key: `Authorization: Bearer ak_...`")
# HTTPBearer has checked the scheme: anything but ``Bearer <key>`` arrives as None.
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]

_UNKNOWN = ""
_UNKNOWN_TTL_S = 5.0


class ApiKeyResolver:
    def __init__(
        self, store: MetadataStore, ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._ttl_s = ttl_s
        # Key hash -> project id ("" for an unknown key, kept for a shorter time).
        self._cache: TLRUCache[str, str] = TLRUCache(maxsize=10_000, ttu=self._expires_at, timer=clock)

    def _expires_at(self, _key_hash: str, project_id: str, now: float) -> float:
        return now + (self._ttl_s if project_id else _UNKNOWN_TTL_S)

    async def project_for(self, api_key: str) -> str | None:
        """The project of the key, or None for an unknown or revoked one."""
        key_hash = hash_api_key(api_key)
        cached = self._cache.get(key_hash)
        if cached is not None:
            return cached or None
        project_id = await asyncio.to_thread(self._store.project_for_key_hash, key_hash)
        self._cache[key_hash] = project_id or _UNKNOWN
        return project_id

    async def authenticate(self, credentials: HTTPAuthorizationCredentials | str | None) -> str:
        """The project the bearer key belongs to; 401 otherwise."""
        api_key = (
            credentials.credentials if isinstance(credentials, HTTPAuthorizationCredentials) else credentials
        )
        if not api_key:
            raise ApiError(401, "unauthorized", "missing API key: send Authorization: Bearer <key>")
        project_id = await self.project_for(api_key)
        if project_id is None:
            raise ApiError(401, "unauthorized", "unknown API key")
        return project_id
