"""provider_helper/answer_clock.py: the clock on an answer's head (README limits: any rate for the grace, then at
least the documented rate on average)."""

from __future__ import annotations

import time

import pytest

from provider_helper.answer_clock import CURRENT, AnswerHead
from provider_helper.errors import RegistryError


def test_before_the_first_byte_the_clock_leaves_httpxs_read_timeout_alone() -> None:
    head = AnswerHead(grace=30.0, rate=1024.0)
    assert head.timeout(5.0) == 5.0 and head.timeout(None) is None


def test_after_the_first_byte_the_time_left_is_the_grace_plus_what_the_bytes_earned() -> None:
    head = AnswerHead(grace=30.0, rate=1024.0, started=time.monotonic(), received=2048)
    left = head.timeout(None)
    assert left is not None and 31.0 < left <= 32.0, "30 s of grace and 2 s earned by 2 KiB at 1 KiB/s"
    assert head.timeout(5.0) == 5.0, "the shorter of the two"


def test_a_head_that_used_up_its_time_is_given_up_in_one_line_naming_the_rate_and_grace() -> None:
    head = AnswerHead(grace=30.0, rate=1024.0, started=time.monotonic() - 40.0, received=1024)
    with pytest.raises(RegistryError) as refused:
        head.timeout(5.0)
    assert str(refused.value) == (
        "the answer's status line and headers arrive slower than 1 KiB/s after 30 s; giving up on it"
    )


def test_no_head_is_being_read_between_requests() -> None:
    assert CURRENT.get() is None
