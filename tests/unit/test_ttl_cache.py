"""TTLCache with a fake clock: per-entry expiry, least-recently-set eviction, stored None values."""

from __future__ import annotations

import pytest

from analytics_pipeline.ttl_cache import TTLCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(clock: FakeClock) -> TTLCache[str, str | None]:
    return TTLCache(max_entries=3, clock=clock)


class TestExpiry:
    def test_value_is_returned_before_it_expires(
        self, cache: TTLCache[str, str | None], clock: FakeClock
    ) -> None:
        cache.set("k", "v", ttl_s=10)
        clock.now += 9.999
        assert cache.get("k") == "v"
        assert "k" in cache

    def test_value_expires_at_its_ttl(self, cache: TTLCache[str, str | None], clock: FakeClock) -> None:
        cache.set("k", "v", ttl_s=10)
        clock.now += 10
        assert cache.get("k", "gone") == "gone"
        assert "k" not in cache

    def test_each_entry_has_its_own_ttl(self, cache: TTLCache[str, str | None], clock: FakeClock) -> None:
        cache.set("short", "s", ttl_s=1)
        cache.set("long", "l", ttl_s=100)
        clock.now += 50
        assert "short" not in cache
        assert cache.get("long") == "l"

    def test_setting_again_renews_the_ttl(self, cache: TTLCache[str, str | None], clock: FakeClock) -> None:
        cache.set("k", "old", ttl_s=10)
        clock.now += 8
        cache.set("k", "new", ttl_s=10)
        clock.now += 8
        assert cache.get("k") == "new"

    def test_expired_entries_make_room(self, cache: TTLCache[str, str | None], clock: FakeClock) -> None:
        cache.set("a", "1", ttl_s=1)
        clock.now += 2
        assert "a" not in cache  # removed on read, so it no longer counts towards max_entries
        for key in "bcd":
            cache.set(key, key, ttl_s=60)
        assert all(key in cache for key in "bcd")


class TestEviction:
    def test_the_least_recently_set_entry_goes_first(self, cache: TTLCache[str, str | None]) -> None:
        for key in "abcd":
            cache.set(key, key.upper(), ttl_s=60)
        assert "a" not in cache
        assert [cache.get(key) for key in "bcd"] == ["B", "C", "D"]

    def test_setting_a_key_again_makes_it_most_recent(self, cache: TTLCache[str, str | None]) -> None:
        for key in "abc":
            cache.set(key, key, ttl_s=60)
        cache.set("a", "again", ttl_s=60)
        cache.set("d", "d", ttl_s=60)
        assert "b" not in cache
        assert cache.get("a") == "again"

    def test_reading_does_not_protect_an_entry_from_eviction(self, cache: TTLCache[str, str | None]) -> None:
        for key in "abc":
            cache.set(key, key, ttl_s=60)
        assert cache.get("a") == "a"
        cache.set("d", "d", ttl_s=60)
        assert "a" not in cache

    def test_clear_empties_the_cache(self, cache: TTLCache[str, str | None]) -> None:
        cache.set("a", "a", ttl_s=60)
        cache.clear()
        assert "a" not in cache


class TestMissingAndNone:
    def test_missing_key_gives_the_default(self, cache: TTLCache[str, str | None]) -> None:
        assert cache.get("nope") is None
        assert cache.get("nope", "fallback") == "fallback"
        assert "nope" not in cache

    def test_a_stored_none_is_distinguished_from_missing(self, cache: TTLCache[str, str | None]) -> None:
        cache.set("known-absent", None, ttl_s=60)
        assert "known-absent" in cache
        assert cache.get("known-absent", "fallback") is None

    def test_falsy_values_are_stored(self, clock: FakeClock) -> None:
        cache: TTLCache[str, object] = TTLCache(clock=clock)
        for key, value in {"zero": 0, "empty": "", "false": False, "list": []}.items():
            cache.set(key, value, ttl_s=60)
            assert key in cache
            assert cache.get(key, "fallback") == value
