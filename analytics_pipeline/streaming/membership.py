"""Whether the worker holds a settled assignment of the group (not midway through a rebalance).

Rebalance callbacks run on kafka-python's network thread; they only flip a flag here.
"""

from __future__ import annotations

import threading

from kafka import ConsumerRebalanceListener


class Membership(ConsumerRebalanceListener):
    def __init__(self) -> None:
        self._settled = threading.Event()

    @property
    def settled(self) -> bool:
        """True between an assignment and the next revocation (an empty assignment counts)."""
        return self._settled.is_set()

    def on_partitions_revoked(self, revoked: object) -> None:
        self._settled.clear()

    def on_partitions_assigned(self, assigned: object) -> None:
        self._settled.set()
