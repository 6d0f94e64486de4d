"""GroupCommit: concurrent callers share one flush, in order; later arrivals form the next group;
a failed flush fails its own group only."""

from __future__ import annotations

import asyncio

import pytest

from analytics_pipeline.group_commit import GroupCommit


class Recorder:
    """A flush that records each group it got, and can be held open or made to fail."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.fail_next = False

    async def __call__(self, items: list[str]) -> list[str]:
        self.groups.append(items)
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("redis went away")
        return [item.upper() for item in items]


def test_concurrent_callers_share_one_flush_and_each_gets_its_own_results():
    async def scenario() -> tuple[list[list[str]], list[list[str]], int]:
        flush = Recorder()
        group = GroupCommit(flush)
        answers = await asyncio.gather(
            group.submit(["a", "b"]), group.submit(["c"]), group.submit(["d", "e"])
        )
        return answers, flush.groups, group.flushes

    answers, groups, flushes = asyncio.run(scenario())
    assert answers == [["A", "B"], ["C"], ["D", "E"]]
    assert groups == [["a", "b", "c", "d", "e"]]
    assert flushes == 1


def test_items_that_arrive_during_a_flush_go_in_the_next_group():
    async def scenario() -> tuple[list[list[str]], list[str], list[str], list[str]]:
        flush = Recorder()
        flush.release.clear()
        group = GroupCommit(flush)
        first = asyncio.create_task(group.submit(["a"]))
        await asyncio.sleep(0.01)  # the first flush is running, held open
        second = asyncio.create_task(group.submit(["b"]))
        third = asyncio.create_task(group.submit(["c"]))
        await asyncio.sleep(0.01)
        flush.release.set()
        return flush.groups, await first, await second, await third

    groups, first, second, third = asyncio.run(scenario())
    assert groups == [["a"], ["b", "c"]]
    assert (first, second, third) == (["A"], ["B"], ["C"])


def test_a_failed_flush_fails_every_caller_of_its_group_and_no_later_one():
    async def scenario() -> tuple[list[BaseException | list[str]], list[str]]:
        flush = Recorder()
        flush.fail_next = True
        group = GroupCommit(flush)
        failed = await asyncio.gather(group.submit(["a"]), group.submit(["b"]), return_exceptions=True)
        return failed, await group.submit(["c"])

    failed, later = asyncio.run(scenario())
    assert all(isinstance(answer, ConnectionError) for answer in failed)
    assert later == ["C"]


def test_a_cancelled_caller_leaves_the_others_their_answers():
    async def scenario() -> tuple[list[str], bool]:
        flush = Recorder()
        flush.release.clear()
        group = GroupCommit(flush)
        gone = asyncio.create_task(group.submit(["a"]))
        stays = asyncio.create_task(group.submit(["b"]))
        await asyncio.sleep(0.01)
        gone.cancel()
        flush.release.set()
        with pytest.raises(asyncio.CancelledError):
            await gone
        return await stays, gone.cancelled()

    stays, cancelled = asyncio.run(scenario())
    assert stays == ["B"]
    assert cancelled


def test_nothing_to_submit_makes_no_flush():
    async def scenario() -> tuple[list[str], int]:
        group = GroupCommit(Recorder())
        return await group.submit([]), group.flushes

    assert asyncio.run(scenario()) == ([], 0)
