"""API key minting and hashing: the plaintext exists only in the creator's terminal."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "ak_"
DISPLAY_PREFIX_CHARS = 10


def mint_api_key() -> str:
    """A new key with 256 bits of randomness, recognisable by its ``ak_`` prefix."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def display_prefix(api_key: str) -> str:
    """The part of a key safe to show in listings and logs."""
    return api_key[:DISPLAY_PREFIX_CHARS]
