"""API keys: recognisable prefix, 256 bits of randomness, SHA-256 hashes, a short display prefix."""

from __future__ import annotations

import base64
import re

from analytics_pipeline.metadata.api_keys import KEY_PREFIX, display_prefix, hash_api_key, mint_api_key


class TestMintApiKey:
    def test_keys_start_with_the_prefix(self) -> None:
        assert KEY_PREFIX == "ak_"
        assert mint_api_key().startswith("ak_")

    def test_keys_carry_256_bits_of_url_safe_randomness(self) -> None:
        key = mint_api_key()
        body = key.removeprefix(KEY_PREFIX)
        assert len(key) == 46
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", body)
        assert len(base64.urlsafe_b64decode(body + "=")) == 32

    def test_keys_are_unique(self) -> None:
        assert len({mint_api_key() for _ in range(200)}) == 200


class TestHashApiKey:
    def test_hash_is_the_sha256_hex_digest(self) -> None:
        assert hash_api_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

    def test_hash_is_deterministic_and_distinguishes_keys(self) -> None:
        key = mint_api_key()
        assert hash_api_key(key) == hash_api_key(key)
        assert hash_api_key(key) != hash_api_key(key + "x")
        assert re.fullmatch(r"[0-9a-f]{64}", hash_api_key(key))

    def test_hash_does_not_contain_the_key(self) -> None:
        key = mint_api_key()
        assert key.removeprefix(KEY_PREFIX) not in hash_api_key(key)


class TestDisplayPrefix:
    def test_shows_the_first_ten_characters(self) -> None:
        assert display_prefix("ak_ABCDEFGHIJKLMNOP") == "ak_ABCDEFG"

    def test_reveals_only_a_small_part_of_a_minted_key(self) -> None:
        key = mint_api_key()
        prefix = display_prefix(key)
        assert key.startswith(prefix)
        assert len(prefix) == 10

    def test_a_short_key_is_shown_whole(self) -> None:
        assert display_prefix("ak_x") == "ak_x"
