"""Issue 7 item 11: the dashboard's figures, charts and statistics.

LEAN source (QuantConnect/Lean): ``Algorithm/QCAlgorithm.Plotting.cs`` (``Plot`` with its
reserved charts, ``SetRuntimeStatistic``, ``SetSummaryStatistic`` refusing "0".."100"), copied
by the stand-in. Chain: MODELLED SPXW (flat 20% smile, zero rate) so that the expected delta is
the closed-form Black-Scholes one computed here with scipy, independently of the project's
pricing code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, time
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest
from scipy.stats import norm

from replay.model_chain import SmileModel, model_chain, strike_grid
from risk.gate_session import GateSession
from strategies.base import MarketContext, PositionState, Strategy, StrategyPosition
from thetacore.enums import Right
from thetacore.legs import OptionLeg
from thetacore.parameters import Parameters
from thetacore.pricing import et_instant_utc
from thetacore.products import product
from thetacore.structures import Structure, StructureKind, UnderlyingKind

DAY, EXPIRY, SPOT, SIGMA = date(2021, 1, 4), date(2021, 1, 15), 3700.0, 0.20
NOW = et_instant_utc(DAY, time(15, 45))


class _Book(Strategy):
    name = "book"


def _world(lean: ModuleType, host: Callable[[str], ModuleType]) -> tuple[Any, Any, Any, StrategyPosition]:
    chain = model_chain(product("SPXW"), NOW, SPOT, [EXPIRY], strike_grid(SPOT, 50, 4), multiplier_usd_per_pt=100.0,
                        rate_frac=0.0, smile=SmileModel(atm_iv_frac=SIGMA, skew=0.0, spread_frac=0.02),
                        underlying_symbol="SPX")
    legs = []
    for strike, ratio in ((3650.0, -1), (3600.0, 1)):
        [i] = np.flatnonzero((chain.strike_pts == strike) & (chain.right == int(Right.PUT)))
        legs.append(OptionLeg(str(chain.symbol[i]), "SPX", Right.PUT, strike, EXPIRY, ratio))
    structure = Structure(StructureKind.VERTICAL, tuple(legs), 100.0, UnderlyingKind.INDEX)
    pos = StrategyPosition("book-1", structure, 2, PositionState.OPEN, entry_net_pts=-5.0)
    book = _Book()
    book.positions[pos.position_id] = pos
    algorithm = lean.QCAlgorithm()
    session = GateSession.create(Parameters())
    session.records["book-1"] = SimpleNamespace(position=SimpleNamespace(strategy="book"), bp_usd=9_000.0)

    def quote(key: str) -> tuple[float, float]:
        i = chain.index_of(key)
        return float(chain.bid_pts[i]), float(chain.ask_pts[i])

    dashboard = host("dashboard").Dashboard(algorithm, {"book": book}, session, {}, quote, lambda: 21.5)
    dashboard.saw("book", MarketContext(NOW, DAY, chain, 0.0))
    return algorithm, dashboard, chain, pos


def _bs_put_delta(strike: float) -> float:
    expiry_utc = et_instant_utc(EXPIRY, time(16, 0))
    t = (expiry_utc - NOW).total_seconds() / (365.0 * 86400.0)
    d1 = (math.log(SPOT / strike) + 0.5 * SIGMA**2 * t) / (SIGMA * math.sqrt(t))
    return float(norm.cdf(d1)) - 1.0


def test_figures_of_an_open_put_spread(lean: ModuleType, host: Callable[[str], ModuleType]) -> None:
    _, dashboard, chain, pos = _world(lean, host)
    f = dashboard.figures("book")
    mids = {leg.strike_pts: float(chain.mid_pts[chain.index_of(leg.symbol)]) for leg in pos.structure.legs}
    exit_pts = mids[3650.0] - mids[3600.0]  # buy back the short 3650, sell the long 3600
    assert f.pnl_usd == pytest.approx(-(-5.0 + exit_pts) * 2 * 100.0)
    assert f.realized_usd == 0.0 and f.bp_in_use_usd == 9_000.0 and f.open_positions == 1
    expected = (-_bs_put_delta(3650.0) + _bs_put_delta(3600.0)) * 2 * 100.0
    assert expected > 0  # a short put spread is long delta
    assert f.net_delta_usd_per_pt == pytest.approx(expected, rel=2e-3)


def test_update_plots_once_a_day_after_1545_et_and_sets_the_banner(lean: ModuleType,
                                                                  host: Callable[[str], ModuleType]) -> None:
    algorithm, dashboard, _, _ = _world(lean, host)
    dashboard.update(et_instant_utc(DAY, time(15, 30)))
    assert algorithm.plots == [] and algorithm.runtime_statistics["Open positions"] == "1"
    assert algorithm.runtime_statistics["BP in use"] == "$9,000" and algorithm.runtime_statistics["Trips"] == "0"
    dashboard.update(NOW)
    dashboard.update(et_instant_utc(DAY, time(16, 0)))  # same day: no second point
    assert [(c, s) for c, s, _, _ in algorithm.plots] == [
        ("Strategy book", "P&L USD"), ("Strategy book", "BP in use USD"), ("Strategy book", "Net delta USD/pt"),
        ("Market", "VIX")]
    assert algorithm.plots[-1][2] == 21.5
    dashboard.update(et_instant_utc(date(2021, 1, 5), time(15, 45)).astimezone(UTC))
    assert len(algorithm.plots) == 8


def test_a_leg_without_a_quote_leaves_the_pnl_unplotted(lean: ModuleType, host: Callable[[str], ModuleType]) -> None:
    algorithm, dashboard, _, _ = _world(lean, host)
    dashboard.quote = lambda key: (math.nan, math.nan)
    dashboard.update(NOW)
    assert "P&L USD" not in {s for _, s, _, _ in algorithm.plots}
    assert algorithm.runtime_statistics["P&L book"] == "unknown"


def test_summary_statistics_at_the_end(lean: ModuleType, host: Callable[[str], ModuleType]) -> None:
    algorithm, dashboard, _, pos = _world(lean, host)
    pos.state, pos.exit_net_pts = PositionState.CLOSED, 1.5  # closed: paid 1.50 back on a 5.00 credit
    dashboard.fees_usd = {("book", "book-1"): 4.0}
    dashboard.summarize()
    assert algorithm.summary_statistics["book realized P&L"] == f"${(5.0 - 1.5) * 2 * 100 - 4.0:,.0f}"
    assert algorithm.summary_statistics["book closed positions"] == "1"
    assert algorithm.summary_statistics["Gate trips"] == "0"
    with pytest.raises(ValueError, match="reserved"):
        algorithm.set_summary_statistic("7", "x")  # as LEAN: the stand-in refuses reserved names
