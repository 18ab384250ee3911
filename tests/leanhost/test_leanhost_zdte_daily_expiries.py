"""Issue 7 item 10: 0DTE only where daily expiries exist, in the LEAN host.

LEAN source: QuantConnect/Lean ``Common/Securities/FutureOption/FuturesOptionsExpiryFunctions.cs``
(``_futuresOptionExpiryFunctions``: ES options expire on ``ThirdFriday`` of the contract month;
MES has no entry and falls back to the future's own expiry), so an ES 0DTE strategy would find
a same-day expiry on a handful of days a year. The host refuses it at start: ``error`` log,
no subscription, no scheduled event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from switches import only

from thetacore.parameters import Parameters


def test_the_default_zero_dte_underlying_is_spxw() -> None:
    assert Parameters().zdte_underlying == "SPXW"


def test_when_zero_dte_is_asked_for_es_then_the_host_refuses_it_at_start(make_algorithm: Callable[..., Any]) -> None:
    algorithm = make_algorithm(**only("zero_dte"), zdte_underlying="ES")

    assert "zero_dte" not in algorithm.strategies
    assert not [e for e in algorithm.schedule.events if e.name.startswith("zero_dte:")]
    assert algorithm.futures == [] and algorithm.future_option_filters == []
    [message] = [e for e in algorithm.errors if "zero_dte not started" in e]
    assert "zdte_underlying=ES" in message and "no daily expiries" in message and "SPXW" in message


def test_when_zero_dte_trades_spxw_by_default_then_it_is_scheduled(make_algorithm: Callable[..., Any]) -> None:
    algorithm = make_algorithm(**only("zero_dte"))

    assert "zero_dte" in algorithm.strategies
    assert any(e.name == "zero_dte:entry" for e in algorithm.schedule.events)
    assert not [e for e in algorithm.errors if "not started" in e]
