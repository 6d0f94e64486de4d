"""How a partition's replicas read as an alarm: under-replicated, leaderless, leader moved."""

from __future__ import annotations

from analytics_pipeline.operations.cluster_health import ReplicaProblem


def test_a_dead_follower_makes_a_partition_under_replicated() -> None:
    problem = ReplicaProblem("events.p", 0, replicas=3, in_sync=2, leader=1, preferred_leader=1)
    assert (problem.kind, problem.leader_moved) == ("under-replicated", False)
    assert problem.describe() == "under-replicated: events.p/0 (2/3 in sync)"


def test_a_dead_leader_shows_the_election() -> None:
    problem = ReplicaProblem("events.p", 1, replicas=3, in_sync=2, leader=3, preferred_leader=2)
    assert problem.leader_moved
    assert problem.describe() == "under-replicated: events.p/1 (2/3 in sync, leader 3 instead of 2)"


def test_back_in_sync_but_not_yet_rebalanced() -> None:
    problem = ReplicaProblem("events.p", 1, replicas=3, in_sync=3, leader=3, preferred_leader=2)
    assert problem.kind == "leader moved"


def test_no_leader() -> None:
    problem = ReplicaProblem("events.p", 2, replicas=3, in_sync=0, leader=-1, preferred_leader=2)
    assert (problem.kind, problem.leader_moved) == ("no leader", False)
