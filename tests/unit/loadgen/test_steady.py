"""The fault window: how long after a fault clients were refused or kept waiting."""

from __future__ import annotations

import pytest

from analytics_pipeline.loadgen.steady import Answer, fault_window


def answer(sent_at: float, seconds: float, status: int) -> Answer:
    return Answer(f"evt_{sent_at}", sent_at, seconds, status)


def test_refusals_and_slow_answers_after_the_fault_are_measured_from_it() -> None:
    answers = [
        answer(98.0, 0.1, 202),  # before the fault: not counted
        answer(99.5, 5.0, 503),  # open at the fault, refused at 104.5
        answer(101.0, 2.0, 202),  # slow, answered at 103
        answer(105.0, 0.1, 503),  # refused at 105.1 (an in-flight retry)
        answer(106.0, 0.1, 202),
    ]
    window = fault_window(answers, fault_at=100.0, slow_s=1.0)
    assert window.refused_s == pytest.approx(5.1)
    assert window.slow_s == pytest.approx(4.5)
    assert (window.refused, window.slow, window.answers) == (2, 2, 4)


def test_no_refusal_is_a_zero_window() -> None:
    window = fault_window([answer(101.0, 0.2, 202)], fault_at=100.0)
    assert (window.refused_s, window.slow_s, window.refused) == (0.0, 0.0, 0)
