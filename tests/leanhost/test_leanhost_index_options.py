"""Index options through the host: the REAL SPXW chain of 2021-01-04 as LEAN's slice presents
it, the 0DTE strategy declining on it (no order), the 0DTE strategy and LT112 on MODELLED
SPXW/SPX chains around the REAL SPX price through the risk gate (0DTE resized 4 -> 1; LT112
refused in a 100,000 USD account, sent in a GIVEN larger one), and expiry settlement in cash
with the gate's realized P&L."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest
from es_world import fire
from gate_world import give_vix
from usa_world import DATA, SPX_DAY, install_chain, modelled_chain, spxw_real_chain

from replay.lean_data import read_equity_daily, read_index_daily
from strategies.base import PositionState
from strategies.lt112 import Lt112
from strategies.zero_dte import ZeroDte
from thetacore.enums import ExerciseStyle, Settlement
from thetacore.pricing import et_instant_utc

SPXW_ANY_DAY = {"zdte_underlying": "SPXW", "zdte_entry_weekday": "-1"}
VIX = 25.0  # GIVEN, as in tests/strategies/test_zero_dte.py: no VIX series is in data/
VIX_PREV_CLOSE, PREV_SESSION = 22.75, date(2020, 12, 31)  # GIVEN, for the risk gate


def _frame(day: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray) -> pd.DataFrame:
    ends = pd.to_datetime(day) + pd.Timedelta(days=1)  # LEAN daily bars end at midnight
    index = pd.MultiIndex.from_arrays([["SPX"] * len(day), ends], names=["symbol", "time"])
    return pd.DataFrame({"high": high, "low": low, "close": close}, index=index)


def spx_daily_frame() -> pd.DataFrame:
    """REAL SPX daily bars (``index/usa/daily/spx.zip``: 2021-01-04 and 2021-01-14 only)."""
    b = read_index_daily(DATA, "spx")
    return _frame(b.day, b.high, b.low, b.close)


def spy_proxy_frame() -> pd.DataFrame:
    """PROXY, not SPX (as tests/strategies/test_zero_dte.py): REAL SPY daily bars before
    2021-01-04 scaled by SPX / SPY at the 2021-01-04 open (3764.61 / 375.30)."""
    spy = read_equity_daily(DATA, "spy")
    before = spy.day < np.datetime64(SPX_DAY)
    ratio = 3764.61 / float(spy.open[np.flatnonzero(spy.day == np.datetime64(SPX_DAY))[0]])
    return _frame(spy.day[before], spy.high[before] * ratio, spy.low[before] * ratio, spy.close[before] * ratio)


def _by_contract(snap: Any) -> dict[tuple[str, int, float], tuple[float, float, str]]:
    return {(str(snap.expiry[i]), int(snap.right[i]), float(snap.strike_pts[i])):
            (float(snap.bid_pts[i]), float(snap.ask_pts[i]), str(snap.quote_time_utc[i])) for i in range(len(snap))}


def _vix(algorithm: Any, level: float) -> None:
    give_vix(algorithm, PREV_SESSION, level, VIX_PREV_CLOSE)


GATE_WIDENED = {"safety_max_spread_frac_of_mid": "0.6", "safety_max_notional_usd": "2000000"}
"""Two gate limits widened so that the MODELLED 0DTE entry reaches sizing: the spread cap from
0.50 to 0.60 of mid (the 3680 wing's spread is 0.545 x its mid 0.275) and the fat-finger
notional from 1,000,000 to 2,000,000 USD (4 x 3,738.81 x 100 = 1,495,524)."""


def _zero_dte(make_algorithm: Callable[..., Any], history: pd.DataFrame) -> Any:
    """The 0DTE strategy on SPXW after its 09:31 move-start rule read the REAL SPX price."""
    algorithm = make_algorithm(lambda p: [ZeroDte(p)], **SPXW_ANY_DAY, **GATE_WIDENED)
    algorithm.history_frame = history
    return algorithm


def _move_start(lean: ModuleType, algorithm: Any) -> None:
    snap, _ = spxw_real_chain(time(9, 31))
    install_chain(lean, algorithm, snap, "SPXW", "SPX")
    fire(algorithm, "zero_dte:move_start")


def test_when_the_slice_holds_the_real_spxw_chain_then_the_snapshot_is_its_twelve_contracts(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """REAL chain at 10:30 ET 2021-01-04."""
    algorithm = make_algorithm(lambda p: [ZeroDte(p)], **SPXW_ANY_DAY)
    real, spot = spxw_real_chain(time(10, 30))
    install_chain(lean, algorithm, real, "SPXW", "SPX")
    at = et_instant_utc(SPX_DAY, time(10, 30))

    read = algorithm.chains.read(algorithm.market.feeds[("index_option", "SPXW")], at)

    snap = read.snapshot
    assert read.problem == "" and snap is not None and len(snap) == 12
    assert read.underlying_pts == spot == 3738.81  # SPX close of the 10:29-10:30 bar
    assert (snap.root, snap.multiplier_usd_per_pt, snap.min_tick_pts) == ("SPXW", 100.0, 0.05)
    assert (snap.style, snap.settlement) == (ExerciseStyle.EUROPEAN, Settlement.CASH)
    assert set(snap.strike_pts) == {3700.0, 3800.0} and set(snap.underlying_symbol) == {"SPX"}
    assert [str(e) for e in snap.expiries()] == ["2021-01-04", "2021-01-06", "2021-01-08"]
    assert _by_contract(snap) == _by_contract(real)  # quotes, and Chicago bar ends back to UTC
    assert (snap.quote_time_utc <= np.datetime64(at.replace(tzinfo=None), "ms")).all()
    assert all(algorithm.chains.symbols[s].id.symbol == "SPXW" for s in snap.symbol)


def test_when_zero_dte_meets_the_real_thin_chain_then_it_declines_and_nothing_is_sent(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """REAL chain and SPX price; SPX ATR from the SPY PROXY daily bars; VIX GIVEN."""
    algorithm = _zero_dte(make_algorithm, spy_proxy_frame())
    _move_start(lean, algorithm)
    install_chain(lean, algorithm, spxw_real_chain(time(10, 30))[0], "SPXW", "SPX")
    _vix(algorithm, VIX)

    fire(algorithm, "zero_dte:entry")

    [decision] = algorithm.journal.decisions()
    assert decision.action == "DECLINED"
    assert decision.codes == ("SHORT_DELTA_OUT_OF_BAND", "NO_WING_STRIKE")
    assert "spot 3738.81 - 0.7 x ATR 40.85" in decision.text
    assert algorithm.combo_orders == [] and algorithm.limit_orders == []


def test_when_spx_has_only_two_daily_bars_then_zero_dte_declines_for_the_atr(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """REAL chain, REAL SPX daily file (2 bars): the host hands over what LEAN has."""
    algorithm = _zero_dte(make_algorithm, spx_daily_frame())
    _move_start(lean, algorithm)
    install_chain(lean, algorithm, spxw_real_chain(time(10, 30))[0], "SPXW", "SPX")
    _vix(algorithm, VIX)

    fire(algorithm, "zero_dte:entry")

    [decision] = algorithm.journal.decisions()
    assert decision.action == "DECLINED" and "ATR_UNAVAILABLE" in decision.codes
    assert algorithm.combo_orders == []


def test_when_vix_has_no_data_then_zero_dte_declines_for_vix(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _zero_dte(make_algorithm, spy_proxy_frame())
    _move_start(lean, algorithm)
    install_chain(lean, algorithm, spxw_real_chain(time(10, 30))[0], "SPXW", "SPX")

    fire(algorithm, "zero_dte:entry")

    [decision] = algorithm.journal.decisions()
    assert decision.codes[0] == "VIX_UNAVAILABLE" and algorithm.combo_orders == []


def _modelled_entry(lean: ModuleType, make_algorithm: Callable[..., Any]) -> Any:
    """MODELLED SPXW 0DTE chain (31% ATM IV, strikes every 5) around the REAL SPX 3738.81."""
    algorithm = _zero_dte(make_algorithm, spy_proxy_frame())
    _move_start(lean, algorithm)
    at = et_instant_utc(SPX_DAY, time(10, 30))
    chain = modelled_chain("SPXW", at, 3738.81, [SPX_DAY], 5.0, 40, atm_iv_frac=0.31)
    install_chain(lean, algorithm, chain, "SPXW", "SPX")
    _vix(algorithm, VIX)
    fire(algorithm, "zero_dte:entry")
    return algorithm


def test_when_zero_dte_enters_on_a_modelled_chain_then_the_gate_resizes_the_put_credit_spread_combo(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _modelled_entry(lean, make_algorithm)

    [decision] = algorithm.journal.decisions()
    assert decision.action == "ENTERED" and "x4 SPXW" in decision.text  # phase 4 at NLV 100,000: 4
    [verdict] = algorithm.journal.verdicts()
    assert (verdict.action, verdict.codes) == ("RESIZE", ("TRADE_RISK_ABOVE_TARGET",))
    assert "1 unit max loss 2,780 USD = 2.78% of NLV 100,000 > 2.00% target" in verdict.text
    [order] = algorithm.combo_orders
    legs = sorted((leg.symbol.id.strike_price, leg.symbol.id.option_right.name, leg.quantity) for leg in order.legs)
    assert legs == [(3680.0, "PUT", 1), (3710.0, "PUT", -1)]  # short nearest 3710.21, wing 30 points
    assert order.quantity == 1 and order.limit_price < 0  # the gate's size, not the asked 4
    assert {leg.symbol.id.date.date() for leg in order.legs} == {SPX_DAY}
    [position] = algorithm.strategies["zero_dte"].positions.values()
    assert position.quantity == 1 and position.notes == ["resized by the risk gate: 4 -> 1"]

    short, wing = sorted(order.tickets, key=lambda t: t.quantity)
    algorithm.fill(short, 2.10)
    algorithm.fill(wing, 0.60)
    [position] = algorithm.strategies["zero_dte"].positions.values()
    assert position.state is PositionState.OPEN and position.entry_net_pts == pytest.approx(-2.10 + 0.60)


def test_when_the_spread_expires_in_the_money_then_the_strategy_is_settled_in_cash(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """Settlement at a GIVEN SPX close of 3700.00 (between the 3680 wing and the 3710 short)."""
    algorithm = _modelled_entry(lean, make_algorithm)
    short, wing = sorted(algorithm.combo_orders[0].tickets, key=lambda t: t.quantity)
    algorithm.fill(short, 2.10)
    algorithm.fill(wing, 0.60)
    spx = next(s for s in algorithm.securities.values() if s.symbol.value == "SPX")
    spx.price = 3700.0
    algorithm.utc_time = datetime(2021, 1, 4, 21, 15)

    algorithm.exercise(short.symbol, in_the_money=True)
    [position] = algorithm.strategies["zero_dte"].positions.values()
    assert position.state is PositionState.OPEN  # one leg settled, the wing's event is coming
    algorithm.exercise(wing.symbol, in_the_money=False)

    assert position.state is PositionState.CLOSED and position.exit_net_pts == pytest.approx(10.0)
    assert [e.action for e in algorithm.journal.entries if e.kind == "order"][-4:] == [
        "ASSIGNED", "EXPIRED", "SETTLED", "REALIZED"]
    # the gate's exit P&L: -(-1.50 + 10.00) x 1 x 100 less 2 x 1.75 USD opening fees (SPXW)
    assert algorithm.journal.entries[-1].text.startswith("zero_dte-20210104T1530Z: -853.50 USD after 3.50 USD fees")
    assert algorithm.risk.session.stats["zero_dte"].losses == 1
    assert any("ALERT ASSIGNED" in e for e in algorithm.errors)  # a short ITM leg is an assignment


def _lt112_spx(lean: ModuleType, make_algorithm: Callable[..., Any], nlv_usd: float, **gate: str) -> Any:
    """MODELLED SPX chain (18% ATM IV, strikes every 5) around the REAL SPX 3738.81, with the
    SPX monthlies 2021-04-16 (102 DTE) and 2021-05-21 (137 DTE); any weekday allowed and the
    DTE window widened to 140 (no monthly lies within 105-135 DTE of 2021-01-04). The account
    value ``nlv_usd`` is GIVEN."""
    algorithm = make_algorithm(lambda p: [Lt112(p)], lt112_underlying="SPX", lt112_entry_weekday="-1",
                               lt112_entry_nth_weekday="0", lt112_dte_max="140", **gate)
    [(option, root, _)] = algorithm.option_universes
    assert root == "SPX" and option.symbol.underlying.value == "SPX"
    at = et_instant_utc(SPX_DAY, time(10, 0))
    chain = modelled_chain("SPX", at, 3738.81, [date(2021, 4, 16), date(2021, 5, 21)], 5.0, 120)
    install_chain(lean, algorithm, chain, "SPX", "SPX")
    algorithm.history_frame = spy_proxy_frame()
    _vix(algorithm, VIX)
    algorithm.portfolio.total_portfolio_value = nlv_usd
    fire(algorithm, "lt112:entry")
    return algorithm


def test_when_lt112_on_spx_meets_the_gate_in_a_100k_account_then_it_is_refused_and_nothing_is_sent(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _lt112_spx(lean, make_algorithm, 100_000.0)

    [verdict] = algorithm.journal.verdicts()
    assert (verdict.action, verdict.codes) == ("REFUSE", ("FAT_FINGER_NOTIONAL", "BP_LIMIT", "TRADE_RISK_HARD"))
    assert "notional 1,121,643 USD (1 x 3 x 3,738.81 pts x 100) > 1,000,000" in verdict.text
    # LT112 is undefined risk (two naked puts): the gate measures it by its margin stress loss
    assert "1 unit margin stress loss 76,145 USD = 76.14% of NLV 100,000 > hard cap 5.00%" in verdict.text
    assert algorithm.combo_orders == [] and algorithm.limit_orders == []


def test_when_lt112_trades_spx_monthlies_then_one_three_leg_ratio_combo_is_sent(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """A GIVEN 20,000,000 USD account and a 2,000,000 USD notional cap: one SPX LT112 risks
    644,920 USD to zero (3.2% of it) and needs 76,145 USD of buying power."""
    algorithm = _lt112_spx(lean, make_algorithm, 20_000_000.0, safety_max_notional_usd="2000000")

    [decision] = algorithm.journal.decisions()
    assert decision.action == "ENTERED", decision.text
    [verdict] = algorithm.journal.verdicts()
    assert verdict.action == "APPROVE", verdict.text
    [order] = algorithm.combo_orders
    legs = sorted((leg.symbol.id.strike_price, leg.quantity) for leg in order.legs)
    assert legs == [(3290.0, -2), (3425.0, -1), (3475.0, 1)]  # 12% / 7% below 3738.81, 50 points apart
    assert {leg.symbol.id.date.date() for leg in order.legs} == {date(2021, 5, 21)}
    assert order.quantity == 1
