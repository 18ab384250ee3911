"""Issue 7 item 9a: a fill-forwarded quote is stale, never fresh.

LEAN source (QuantConnect/Lean): ``Engine/DataFeeds/Enumerators/FillForwardEnumerator.cs``
repeats a contract's last bar with ``BaseData.IsFillForward`` (``Common/Data/BaseData.cs``) and
an end time of now; ``Engine/DataFeeds/TimeSliceFactory.cs`` ``HandleOptionData`` builds the
chain's ``OptionContract`` from that bar (``Common/Data/Market/OptionContract.cs``
``Create(baseData, ...)``: ``Time = baseData.EndTime``), while
``Common/Securities/SecurityCache.cs`` (``AddDataList`` / ``ProcessDataPoint``) caches by type
only real bars, so ``security.cache.get_data(QuoteBar)`` keeps the real quote's end. The
stand-in copies both (``Security.receive``, ``QuoteBar.fill_forward``).

Data: the REAL SPXW chain of 2021-01-04 (tests/leanhost/usa_world.py); one contract's quote is
made 30 minutes old and fill-forwarded to 10:30 ET.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from types import ModuleType
from typing import Any

import numpy as np
from usa_world import CHICAGO, SPX_DAY, install_chain, spxw_real_chain

from strategies.base import MarketContext
from strategies.single_leg import quote_reasons, single_leg
from strategies.zero_dte import ZeroDte
from thetacore.pricing import et_instant_utc
from thetacore.products import product

SPXW_ANY_DAY = {"zdte_underlying": "SPXW", "zdte_entry_weekday": "-1"}
NOW_UTC = et_instant_utc(SPX_DAY, time(10, 30))
REAL_END_UTC = NOW_UTC - timedelta(minutes=30)  # the last REAL quote bar ended 10:00 ET


def _local(t_utc: datetime) -> datetime:
    return t_utc.astimezone(CHICAGO).replace(tzinfo=None)


def _world(lean: ModuleType, make_algorithm: Callable[..., Any]) -> tuple[Any, Any, str]:
    """The algorithm at 10:30 ET with the real chain, one contract of it fill-forwarded."""
    algorithm = make_algorithm(lambda p: [ZeroDte(p)], **SPXW_ANY_DAY)
    real, _ = spxw_real_chain(time(10, 30))
    install_chain(lean, algorithm, real, "SPXW", "SPX")
    [chain] = algorithm.current_slice.option_chains.values()
    contract = chain.contracts[0]
    security = algorithm.securities[contract.symbol]
    bar = lean.QuoteBar(contract.symbol, security.price, _local(REAL_END_UTC), False,
                        contract.bid_price, contract.ask_price)
    security.receive(bar)  # the real bar, at 10:00 ET
    forwarded = bar.fill_forward(_local(NOW_UTC))
    security.receive(forwarded)  # LEAN does not cache it
    contract.time = forwarded.end_time  # the chain row says 10:30
    return algorithm, contract, contract.symbol.value


def test_when_a_chain_row_is_fill_forwarded_then_its_quote_time_is_the_real_bar_end(
        lean: ModuleType, make_algorithm: Callable[..., Any]) -> None:
    algorithm, _, key = _world(lean, make_algorithm)
    read = algorithm.chains.read(algorithm.market.feeds[("index_option", "SPXW")], NOW_UTC)
    snap = read.snapshot
    assert snap is not None
    i = snap.index_of(key)
    assert snap.quote_time_utc[i] == np.datetime64(REAL_END_UTC.replace(tzinfo=None), "ms")
    others = [j for j in range(len(snap)) if j != i]
    assert (snap.quote_time_utc[others] > np.datetime64(REAL_END_UTC.replace(tzinfo=None), "ms")).all()


def test_when_a_quote_is_fill_forwarded_for_30_min_then_the_max_age_rule_refuses_it(
        lean: ModuleType, make_algorithm: Callable[..., Any]) -> None:
    algorithm, _, key = _world(lean, make_algorithm)
    snap = algorithm.chains.read(algorithm.market.feeds[("index_option", "SPXW")], NOW_UTC).snapshot
    assert snap is not None
    ctx = MarketContext(NOW_UTC, SPX_DAY, snap, 0.0)
    stale = single_leg(snap, snap.index_of(key), -1, product("SPXW"))
    [reason] = quote_reasons(stale, snap, ctx, 15)
    assert reason.code == "STALE_QUOTE" and "quote 30 min old > 15 min" in reason.text
    fresh_i = next(j for j in range(len(snap)) if snap.symbol[j] != key and np.isfinite(snap.bid_pts[j])
                   and np.isfinite(snap.ask_pts[j]))
    assert quote_reasons(single_leg(snap, fresh_i, -1, product("SPXW")), snap, ctx, 15) == []


def test_the_stand_in_cache_ignores_fill_forward_as_lean_does(lean: ModuleType) -> None:
    symbol = lean.Symbol.index("SPX")
    security = lean.Security(symbol, lean.SecurityType.INDEX, lean.SymbolProperties(1.0, 0.01))
    real = lean.QuoteBar(symbol, 10.0, datetime(2021, 1, 4, 9, 0), False, 9.9, 10.1)
    security.receive(real)
    security.receive(lean.QuoteBar(symbol, 11.0, datetime(2021, 1, 4, 9, 30), True, 10.9, 11.1))
    assert security.cache.get_data(lean.QuoteBar) is real and security.get_last_data() is real
    assert (security.bid_price, security.ask_price) == (9.9, 10.1)


def test_when_the_close_price_source_is_stale_then_the_risk_desk_quote_is_no_price(
        lean: ModuleType, make_algorithm: Callable[..., Any]) -> None:
    """``RiskDesk.quote`` (flatten / close-losers pricing): a last real quote 30 min old > 15 + 1."""
    algorithm, contract, key = _world(lean, make_algorithm)
    algorithm.chains.read(algorithm.market.feeds[("index_option", "SPXW")], NOW_UTC)  # the contract is known
    bid, ask = algorithm.risk.quote(key)
    assert math.isnan(bid) and math.isnan(ask)
    algorithm.utc_time = (REAL_END_UTC + timedelta(minutes=10)).astimezone(UTC).replace(tzinfo=None)
    assert algorithm.risk.quote(key) == (contract.bid_price, contract.ask_price)


def test_when_the_underlying_index_is_stale_then_its_price_is_unknown(
        lean: ModuleType, make_algorithm: Callable[..., Any]) -> None:
    algorithm, _, _ = _world(lean, make_algorithm)
    spx = algorithm.securities[lean.Symbol.index("SPX")]
    spx.receive(lean.TradeBar(spx.symbol, 3700.0, _local(NOW_UTC - timedelta(minutes=40))))
    read = algorithm.chains.read(algorithm.market.feeds[("index_option", "SPXW")], NOW_UTC)
    assert math.isnan(read.underlying_pts) and "SPX quote older than 16 min or fill-forwarded" in read.problem
    spx.receive(lean.TradeBar(spx.symbol, 3738.81, _local(NOW_UTC)))
    read = algorithm.chains.read(algorithm.market.feeds[("index_option", "SPXW")], NOW_UTC)
    assert read.underlying_pts == 3738.81 and "SPX quote" not in read.problem


def test_when_vix_has_no_real_bar_for_20_minutes_then_its_level_is_unknown(
        lean: ModuleType, make_algorithm: Callable[..., Any]) -> None:
    """VIX's last REAL trade bar (LEAN caches no fill-forward bar) 20 min old > 15 + 1 min: NaN."""
    algorithm, _, _ = _world(lean, make_algorithm)
    vix = algorithm.securities[lean.Symbol.index("VIX")]
    vix.receive(lean.TradeBar(vix.symbol, 22.4, _local(NOW_UTC - timedelta(minutes=20))))
    assert math.isnan(algorithm.market.vix_level())
    vix.receive(lean.TradeBar(vix.symbol, 22.6, _local(NOW_UTC - timedelta(minutes=1))))
    assert algorithm.market.vix_level() == 22.6
