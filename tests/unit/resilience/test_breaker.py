"""FailureRateBreaker with a fake clock: sliding failure-rate window, open, half-open probe."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from analytics_pipeline.resilience.breaker import BreakerState, CircuitOpenError, FailureRateBreaker

WINDOW_S = 60.0
RESET_S = 30.0
MIN_CALLS = 4


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Boom(Exception):
    pass


class Dependency:
    """Counts the calls the breaker lets through."""

    def __init__(self) -> None:
        self.calls = 0

    async def succeed(self) -> str:
        self.calls += 1
        return "ok"

    async def fail(self) -> str:
        self.calls += 1
        raise Boom("dependency down")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> FailureRateBreaker:
    return FailureRateBreaker(
        "redis",
        failure_ratio=0.5,
        window_s=WINDOW_S,
        min_calls=MIN_CALLS,
        reset_timeout_s=RESET_S,
        clock=clock,
    )


@pytest.fixture
def dependency() -> Dependency:
    return Dependency()


def call(breaker: FailureRateBreaker, operation: Callable[[], Awaitable[str]]) -> str:
    return asyncio.run(breaker.call(operation))


def record(
    breaker: FailureRateBreaker, dependency: Dependency, *, failures: int = 0, successes: int = 0
) -> None:
    for _ in range(successes):
        call(breaker, dependency.succeed)
    for _ in range(failures):
        with pytest.raises(Boom):
            call(breaker, dependency.fail)


def open_breaker(breaker: FailureRateBreaker, dependency: Dependency) -> None:
    record(breaker, dependency, failures=MIN_CALLS)
    assert breaker.state is BreakerState.OPEN


class TestClosed:
    def test_starts_closed_and_passes_results_through(
        self, breaker: FailureRateBreaker, dependency: Dependency
    ) -> None:
        assert breaker.state is BreakerState.CLOSED
        assert call(breaker, dependency.succeed) == "ok"
        assert dependency.calls == 1

    def test_failures_propagate_unchanged(self, breaker: FailureRateBreaker, dependency: Dependency) -> None:
        with pytest.raises(Boom, match="dependency down"):
            call(breaker, dependency.fail)

    def test_stays_closed_below_min_calls_even_if_all_fail(
        self, breaker: FailureRateBreaker, dependency: Dependency
    ) -> None:
        record(breaker, dependency, failures=MIN_CALLS - 1)
        assert breaker.state is BreakerState.CLOSED
        assert call(breaker, dependency.succeed) == "ok"

    def test_opens_at_exactly_the_failure_ratio(
        self, breaker: FailureRateBreaker, dependency: Dependency
    ) -> None:
        record(breaker, dependency, successes=2, failures=2)
        assert breaker.state is BreakerState.OPEN

    def test_stays_closed_below_the_failure_ratio(
        self, breaker: FailureRateBreaker, dependency: Dependency
    ) -> None:
        record(breaker, dependency, successes=3, failures=1)
        record(breaker, dependency, successes=1, failures=1)  # 2 of 6
        assert breaker.state is BreakerState.CLOSED

    def test_old_outcomes_slide_out_of_the_window(
        self, breaker: FailureRateBreaker, clock: FakeClock, dependency: Dependency
    ) -> None:
        record(breaker, dependency, failures=MIN_CALLS - 1)
        clock.advance(WINDOW_S + 1)
        # Counting the old failures this would be 4 of 7; within the window it is 1 of 4.
        record(breaker, dependency, successes=3, failures=1)
        assert breaker.state is BreakerState.CLOSED

    def test_outcomes_within_the_window_all_count(
        self, breaker: FailureRateBreaker, clock: FakeClock, dependency: Dependency
    ) -> None:
        record(breaker, dependency, failures=MIN_CALLS - 1)
        clock.advance(WINDOW_S - 1)
        record(breaker, dependency, successes=1)  # 3 of 4 within the last minute
        assert breaker.state is BreakerState.OPEN


class TestOpen:
    def test_refuses_without_calling_the_dependency(
        self, breaker: FailureRateBreaker, dependency: Dependency
    ) -> None:
        open_breaker(breaker, dependency)
        calls_before = dependency.calls
        with pytest.raises(CircuitOpenError, match="redis circuit is open"):
            call(breaker, dependency.succeed)
        assert dependency.calls == calls_before

    def test_stays_open_until_the_reset_timeout(
        self, breaker: FailureRateBreaker, clock: FakeClock, dependency: Dependency
    ) -> None:
        open_breaker(breaker, dependency)
        clock.advance(RESET_S - 0.01)
        assert breaker.state is BreakerState.OPEN
        with pytest.raises(CircuitOpenError):
            call(breaker, dependency.succeed)

    def test_becomes_half_open_at_the_reset_timeout(
        self, breaker: FailureRateBreaker, clock: FakeClock, dependency: Dependency
    ) -> None:
        open_breaker(breaker, dependency)
        clock.advance(RESET_S)
        assert breaker.state is BreakerState.HALF_OPEN

    def test_a_call_admitted_before_opening_does_not_count_afterwards(
        self, breaker: FailureRateBreaker, dependency: Dependency
    ) -> None:
        async def scenario() -> None:
            release = asyncio.Event()

            async def slow_success() -> str:
                await release.wait()
                return "late"

            slow = asyncio.create_task(breaker.call(slow_success))
            await asyncio.sleep(0)  # admitted while closed
            for _ in range(MIN_CALLS):
                with pytest.raises(Boom):
                    await breaker.call(dependency.fail)
            assert breaker.state is BreakerState.OPEN
            release.set()
            assert await slow == "late"

        asyncio.run(scenario())
        assert breaker.state is BreakerState.OPEN


class TestHalfOpen:
    def test_exactly_one_probe_is_let_through_while_others_are_refused(
        self, breaker: FailureRateBreaker, clock: FakeClock, dependency: Dependency
    ) -> None:
        open_breaker(breaker, dependency)
        clock.advance(RESET_S)
        calls_before = dependency.calls

        async def scenario() -> str:
            release = asyncio.Event()

            async def slow_probe() -> str:
                await dependency.succeed()
                await release.wait()
                return "probe ok"

            probe = asyncio.create_task(breaker.call(slow_probe))
            await asyncio.sleep(0)  # the probe is in flight
            for _ in range(3):
                with pytest.raises(CircuitOpenError):
                    await breaker.call(dependency.succeed)
            assert breaker.state is BreakerState.HALF_OPEN
            release.set()
            return await probe

        assert asyncio.run(scenario()) == "probe ok"
        assert dependency.calls == calls_before + 1

    def test_probe_success_closes_the_circuit(
        self, breaker: FailureRateBreaker, clock: FakeClock, dependency: Dependency
    ) -> None:
        open_breaker(breaker, dependency)
        clock.advance(RESET_S)
        assert call(breaker, dependency.succeed) == "ok"
        assert breaker.state is BreakerState.CLOSED
        assert call(breaker, dependency.succeed) == "ok"

    def test_probe_success_clears_the_failure_history(
        self, breaker: FailureRateBreaker, clock: FakeClock, dependency: Dependency
    ) -> None:
        open_breaker(breaker, dependency)  # four failures, still within the window below
        clock.advance(RESET_S)
        call(breaker, dependency.succeed)
        record(breaker, dependency, failures=MIN_CALLS - 1)
        assert breaker.state is BreakerState.CLOSED

    def test_after_closing_the_ratio_is_judged_on_new_calls_only(
        self, breaker: FailureRateBreaker, clock: FakeClock, dependency: Dependency
    ) -> None:
        open_breaker(breaker, dependency)
        clock.advance(RESET_S)
        call(breaker, dependency.succeed)
        # Half of the four calls since closing failed; old outcomes must not dilute the ratio.
        record(breaker, dependency, successes=2, failures=2)
        assert breaker.state is BreakerState.OPEN

    def test_probe_failure_reopens_and_restarts_the_reset_timeout(
        self, breaker: FailureRateBreaker, clock: FakeClock, dependency: Dependency
    ) -> None:
        open_breaker(breaker, dependency)
        clock.advance(RESET_S)
        with pytest.raises(Boom):
            call(breaker, dependency.fail)
        assert breaker.state is BreakerState.OPEN
        clock.advance(RESET_S - 0.01)
        assert breaker.state is BreakerState.OPEN
        clock.advance(0.01)
        assert breaker.state is BreakerState.HALF_OPEN

    def test_after_a_failed_probe_the_next_probe_is_allowed(
        self, breaker: FailureRateBreaker, clock: FakeClock, dependency: Dependency
    ) -> None:
        open_breaker(breaker, dependency)
        clock.advance(RESET_S)
        with pytest.raises(Boom):
            call(breaker, dependency.fail)
        clock.advance(RESET_S)
        assert call(breaker, dependency.succeed) == "ok"
        assert breaker.state is BreakerState.CLOSED

    def test_a_cancelled_probe_frees_the_slot_for_the_next_one(
        self, breaker: FailureRateBreaker, clock: FakeClock, dependency: Dependency
    ) -> None:
        open_breaker(breaker, dependency)
        clock.advance(RESET_S)

        async def scenario() -> str:
            async def hang() -> str:
                await asyncio.sleep(60)
                return "never"

            with pytest.raises(TimeoutError):
                await asyncio.wait_for(breaker.call(hang), 0.01)  # the probe is cancelled
            return await breaker.call(dependency.succeed)

        assert asyncio.run(scenario()) == "ok"
        assert breaker.state is BreakerState.CLOSED


class TestBreakerState:
    def test_state_values_are_stable_for_metrics(self) -> None:
        assert [BreakerState.CLOSED, BreakerState.HALF_OPEN, BreakerState.OPEN] == [0, 1, 2]
