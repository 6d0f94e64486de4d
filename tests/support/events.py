"""A minimal valid event with a fresh eventId, for tests that send events."""

from __future__ import annotations

import uuid
from typing import Any


def new_event(**fields: Any) -> dict[str, Any]:
    return {"eventId": f"evt_{uuid.uuid4().hex}", "eventType": "page_view", "userId": "u1", **fields}
