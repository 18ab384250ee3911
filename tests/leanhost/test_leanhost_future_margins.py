"""The LEAN host's futures scan range comes from LEAN's margin of the outright future (issue 11;
:mod:`leanhost.future_margins`; docs/strategy-rules.md, "Margin approximations").

LEAN: ``FutureMarginModel.InitialOvernightMarginRequirement`` (``Common/Securities/Future/
FutureMarginModel.cs``, modelled by ``tests/leanhost/stand_in/lean_margins.py``) is the row of
``data/future/cme/margins/ES.csv`` in force on the date of the future's last data: on
2020-01-06 the row of 2019-11-15, initial 6,930 USD (the 2020-01-09 row, 7,260, is not yet in
force). The scan range is 6930 / (50 x the front (March) future's 10:00 ET mid 3225.625) =
4.2968%, the replay's number on the same data (``replay.market.FutureOptionMarket.context``,
computed here side by side); without data LEAN's margin is 0 and the host falls back to the
``futures_scan_range_frac`` parameter (7%) with a logged reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from types import ModuleType
from typing import Any

import pytest
from es_world import DATA, DAY, ENTRY_UTC, EXCHANGE_TZ, relaxed_es_algorithm

from replay.market import FutureOptionMarket

HAND_SCAN = 6930 / (50 * 3225.625)  # 0.0429684...


def _give_futures_data(lean: ModuleType, algorithm: Any) -> None:
    """Each ES future receives its 10:00 ET quote as a real quote bar (LEAN's last data)."""
    for security in list(algorithm.securities.values()):
        if security.symbol.security_type == lean.SecurityType.FUTURE and security.bid_price > 0:
            end = ENTRY_UTC.replace(tzinfo=UTC).astimezone(EXCHANGE_TZ).replace(tzinfo=None)  # 10:00 local
            security.receive(lean.QuoteBar(security.symbol, security.price, end, False,
                                           security.bid_price, security.ask_price))


def _context(algorithm: Any) -> Any:
    market = algorithm.risk.market
    return market.context(market.feeds[("future_option", "ES")], ENTRY_UTC.replace(tzinfo=UTC))


def test_the_lean_host_scans_es_over_the_day_cme_margin_like_the_replay(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = relaxed_es_algorithm(lean, make_algorithm)
    _give_futures_data(lean, algorithm)
    ctx = _context(algorithm)
    assert ctx.future_initial_margin_usd == 6930.0
    assert ctx.underlying_pts == pytest.approx(3225.625)
    scan = ctx.futures_scan_range_frac(50.0, 0.07)
    assert scan == pytest.approx(HAND_SCAN, abs=1e-9)
    assert round(scan, 4) == 0.0430  # not the 7% parameter
    replay_ctx = FutureOptionMarket.load(DATA, "ES", DAY, DAY).context(ctx.time_utc)
    assert replay_ctx.future_initial_margin_usd == 6930.0
    assert replay_ctx.futures_scan_range_frac(50.0, 0.07) == pytest.approx(scan, abs=1e-12)
    assert any(line.startswith("ES futures scan on 2020-01-06: exchange initial margin 6,930 USD per contract")
               for line in algorithm.logs)


def test_without_future_data_lean_has_no_margin_and_the_parameter_is_used_with_a_logged_reason(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = relaxed_es_algorithm(lean, make_algorithm)  # the futures hold no data: LEAN's margin is 0
    ctx = _context(algorithm)
    assert ctx.future_initial_margin_usd != ctx.future_initial_margin_usd  # NaN
    assert ctx.futures_scan_range_frac(50.0, 0.07) == 0.07
    lines = [line for line in algorithm.logs if line.startswith("ES futures scan on 2020-01-06")]
    assert lines == ["ES futures scan on 2020-01-06: no ES future has data yet; scan range from the "
                     "futures_scan_range_frac parameter"]
    _context(algorithm)  # the same day: not logged again
    assert len([line for line in algorithm.logs if line.startswith("ES futures scan")]) == 1
