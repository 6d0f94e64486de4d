from __future__ import annotations

from typing import Any

import pytest

from analytics_pipeline.stack.process import ManagedProcess


@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What ManagedProcess.spawn was asked to run (nothing is started)."""
    calls: list[dict[str, Any]] = []

    def spawn(self: ManagedProcess, argv: list[str], **kwargs: Any) -> int:
        calls.append({"name": self.name, "argv": list(argv), **kwargs})
        return 4242

    monkeypatch.setattr(ManagedProcess, "spawn", spawn)
    return calls
