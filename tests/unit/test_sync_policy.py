"""LinkPolicy: what a close means, the backoff, and when a token is renewed (sans-I/O)."""

from __future__ import annotations

import doctest
import importlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yloft.sync.closecodes import CloseCode
from yloft.sync.policy import Decision, LinkPolicy

NO_JITTER = 0.5  # rng() = 0.5: a factor of exactly 1


def test_the_backoff_doubles_to_its_cap_and_starts_again_once_reset() -> None:
    policy = LinkPolicy(min_backoff=0.25, max_backoff=2.0, rng=lambda: NO_JITTER)
    assert [policy.backoff() for _ in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    policy.reset()
    assert policy.backoff() == 0.25


@given(st.floats(0, 0.999999), st.integers(0, 10_000))
def test_the_jitter_stays_within_half_and_one_and_a_half(r: float, attempts: int) -> None:
    policy = LinkPolicy(rng=lambda: r)
    policy.attempt = attempts  # any number of failures: never an overflow
    base = min(policy.max_backoff, policy.min_backoff * 2.0 ** min(attempts, 32))
    assert 0.5 * base <= policy.backoff() < 1.5 * base


@pytest.mark.parametrize(
    ("code", "welcomed", "renews", "action"),
    [
        (CloseCode.ABNORMAL_CLOSURE, False, False, "retry"),  # relay down or unreachable
        (CloseCode.GOING_AWAY, True, False, "retry"),
        (CloseCode.INTERNAL_ERROR, True, True, "retry"),  # storage down: retry later
        (CloseCode.PROTOCOL_ERROR, True, False, "retry"),
        (CloseCode.POLICY_VIOLATION, True, False, "retry"),  # slow reader, rights changed
        (CloseCode.POLICY_VIOLATION, False, False, "stop"),  # refused: does not fix itself
        (CloseCode.POLICY_VIOLATION, False, True, "renew"),
        (CloseCode.TOKEN_EXPIRED, True, False, "stop"),
        (CloseCode.TOKEN_EXPIRED, True, True, "renew"),
        (CloseCode.TOKEN_EXPIRED, False, True, "renew"),  # expired at HELLO
    ],
)
def test_what_a_close_means(code: int, welcomed: bool, renews: bool, action: str) -> None:
    decision = LinkPolicy(renews=renews).after_close(code, welcomed=welcomed)
    assert decision.action == action
    assert (decision.delay > 0) == (action != "stop")


def test_an_expiry_renews_at_once_a_refusal_backs_off() -> None:
    policy = LinkPolicy(renews=True, rng=lambda: NO_JITTER)
    for _ in range(4):
        policy.after_close(CloseCode.INTERNAL_ERROR, welcomed=True)
    assert policy.after_close(CloseCode.TOKEN_EXPIRED, welcomed=True).delay == 0.25
    refusals = [policy.after_close(CloseCode.POLICY_VIOLATION, welcomed=False) for _ in range(3)]
    assert [d.delay for d in refusals] == [0.5, 1.0, 2.0]
    assert policy.after_token_failure() == Decision("renew", 4.0)


def test_a_close_to_use_a_renewed_token_reconnects_at_once() -> None:
    policy = LinkPolicy(renews=True)
    for _ in range(5):
        policy.after_close(CloseCode.ABNORMAL_CLOSURE, welcomed=False)
    assert policy.after_close(CloseCode.NORMAL_CLOSURE, welcomed=True, reopen=True) == Decision(
        "retry", 0.0
    )
    assert policy.attempt == 0


def test_renewal_comes_before_expiry() -> None:
    policy = LinkPolicy(renews=True, renew_before=60)
    assert policy.renew_in(expires_at=1000 + 3600, now=1000) == 3540  # a minute before
    assert policy.renew_in(expires_at=1000 + 10, now=1000) == 8  # a fifth of 10 s before
    assert policy.renew_in(expires_at=900, now=1000) == 0  # already late: now
    assert policy.renew_in(expires_at=0, now=1000) is None  # never expires
    assert LinkPolicy(renews=False).renew_in(expires_at=2000, now=1000) is None
    assert LinkPolicy(renews=True, renew_before=None).renew_in(2000, 1000) is None


def test_the_decision_crosses_to_js_as_a_plain_dict() -> None:
    decision = LinkPolicy(rng=lambda: NO_JITTER).after_close(1011, welcomed=True)
    assert decision.to_dict() == {"action": "retry", "delay": 0.25}


@pytest.mark.parametrize(
    "kwargs",
    [{"min_backoff": 0}, {"min_backoff": 2, "max_backoff": 1}, {"renew_before": -1}],
)
def test_bad_settings_are_a_clear_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="pass"):
        LinkPolicy(**kwargs)


@pytest.mark.parametrize("name", ["yloft.sync.policy", "yloft.sync.closecodes", "yloft.sync.codec"])
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
