"""A project a test made: its id and a key, and the header that carries the key."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProjectUnderTest:
    project_id: str
    api_key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}
