"""ApiKeyResolver's cache with a fake clock: a known key is looked up once per TTL, an unknown
one once per 5 s, and a revoked key stops working when its entry expires."""

from __future__ import annotations

import asyncio

from analytics_pipeline.metadata.api_keys import hash_api_key
from analytics_pipeline.web.auth import ApiKeyResolver


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class CountingStore:
    """The one store method the resolver calls, over a dict, counting the lookups."""

    def __init__(self, keys: dict[str, str]) -> None:
        self.projects = {hash_api_key(key): project for key, project in keys.items()}
        self.lookups = 0

    def project_for_key_hash(self, key_hash: str) -> str | None:
        self.lookups += 1
        return self.projects.get(key_hash)


def resolve(resolver: ApiKeyResolver, key: str) -> str | None:
    return asyncio.run(resolver.project_for(key))


def test_a_known_key_is_looked_up_once_per_ttl() -> None:
    store, clock = CountingStore({"ak_known": "shop"}), FakeClock()
    resolver = ApiKeyResolver(store, ttl_s=60, clock=clock)  # type: ignore[arg-type]
    assert resolve(resolver, "ak_known") == "shop"
    clock.now += 59.9
    assert resolve(resolver, "ak_known") == "shop"
    assert store.lookups == 1
    clock.now += 0.1
    assert resolve(resolver, "ak_known") == "shop"
    assert store.lookups == 2


def test_an_unknown_key_is_remembered_for_a_shorter_time() -> None:
    store, clock = CountingStore({}), FakeClock()
    resolver = ApiKeyResolver(store, ttl_s=60, clock=clock)  # type: ignore[arg-type]
    assert resolve(resolver, "ak_nobody") is None
    clock.now += 4.9
    assert resolve(resolver, "ak_nobody") is None
    assert store.lookups == 1, "a client hammering with a bad key costs one query per 5 s"
    clock.now += 0.1
    assert resolve(resolver, "ak_nobody") is None
    assert store.lookups == 2


def test_a_revoked_key_stops_working_when_its_entry_expires() -> None:
    store, clock = CountingStore({"ak_known": "shop"}), FakeClock()
    resolver = ApiKeyResolver(store, ttl_s=30, clock=clock)  # type: ignore[arg-type]
    assert resolve(resolver, "ak_known") == "shop"
    store.projects.clear()
    clock.now += 29
    assert resolve(resolver, "ak_known") == "shop", "cached: a little stale by design"
    clock.now += 1
    assert resolve(resolver, "ak_known") is None
