"""Which dead letters a redrive sends: named ones once each, unknown ones refused."""

from __future__ import annotations

import pytest

from analytics_pipeline.deadletters.letters import DeadLetter, parse_letter_id
from analytics_pipeline.deadletters.redrive import RedriveRefused, choose

LETTERS = [DeadLetter("shop", p, o, b"k", b"v", {"source.partition": "0"}) for p, o in ((0, 17), (2, 3))]


def test_all_when_none_are_named():
    assert choose(LETTERS, None) == LETTERS


def test_a_letter_named_twice_in_two_spellings_is_chosen_once():
    assert choose(LETTERS, ["0-17", "00-17", "2-3"]) == LETTERS


def test_an_unknown_letter_refuses_the_whole_request():
    with pytest.raises(RedriveRefused, match="no dead letter 1-1 in this project"):
        choose(LETTERS, ["0-17", "1-1"])


@pytest.mark.parametrize("text", ["17", "a-1", "0-", "-3", "0-1-2"])
def test_an_id_that_is_not_partition_dash_offset_is_refused(text):
    with pytest.raises(ValueError, match="is not PARTITION-OFFSET"):
        parse_letter_id(text)
