"""Fixtures shared by the unit tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def clean_analytics_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ANALYTICS_* variable of the developer's shell leaks into tests that build Settings."""
    for name in list(os.environ):
        if name.upper().startswith("ANALYTICS_"):
            monkeypatch.delenv(name)
