"""The strategies read MODELLED chains unchanged: LEAP puts on the SPY family, the futures
strangle and LT112 on the ES family, each deciding by its own rules on a day of the REAL path
(default parameters except the strangle's IV-rank filter, which needs a year of its own IV
readings that a single test day does not have)."""

from __future__ import annotations

from datetime import date

import numpy as np

from modelled.chains import SPX_PER_SPY, ModelledChain
from strategies.base import MarketContext
from strategies.futures_strangle import FuturesStrangle
from strategies.leap_puts import LeapPuts
from strategies.lt112 import Lt112
from tests.modelled.world import full_market
from thetacore.enums import Action, Right
from thetacore.market_stats import DailyBars
from thetacore.parameters import load_parameters


def _context(day: date, chain: ModelledChain, scale: float) -> MarketContext:
    """The close of ``day``: completed daily closes before it (x ``scale``), the chain, the
    MODELLED VIX."""
    path = full_market().path
    i = path.index_of(day)
    close = path.close_pts[:i] * scale
    return MarketContext(time_utc=chain.snapshot.time_utc, today_et=day, chain=chain.snapshot,
                         rate_frac=chain.rate_frac, underlying_daily=DailyBars(path.day[:i], close, close, close),
                         underlying_pts=float(chain.snapshot.underlying_pts[0]), vix_level=chain.vix)


def test_leap_put_rung_on_the_modelled_spy_chain() -> None:
    day = date(2019, 6, 3)  # a Monday
    d = LeapPuts(load_parameters({})).rung_decision(_context(day, full_market().equity_chain(day), 1.0))
    assert d.action is Action.ENTERED and d.intent is not None
    [leg] = d.intent.structure.legs
    assert leg.symbol.startswith("SPY*MODELLED ") and (leg.right, leg.ratio) == (Right.PUT, -1)
    assert 0.12 <= d.details["put_abs_delta"] <= 0.14 and 300 <= d.details["dte_days"] <= 430


def test_strangle_and_lt112_on_the_modelled_es_chain() -> None:
    strangle_day, lt112_day = date(2019, 10, 8), date(2019, 10, 2)  # 2nd Tuesday, 1st Wednesday
    es = full_market().es_chain(strangle_day)
    d = FuturesStrangle(load_parameters({"strangle_iv_rank_min_frac": "0"})).entry_decision(
        _context(strangle_day, es, SPX_PER_SPY))
    assert d.action is Action.ENTERED and d.intent is not None
    assert all(leg.symbol.startswith("ES*MODELLED ") and leg.underlying_symbol == "ES20H20*MODELLED"
               for leg in d.intent.structure.legs)
    assert "101 DTE" in d.reason_text  # the 2020-01-17 serial on the March future
    es = full_market().es_chain(lt112_day)
    d = Lt112(load_parameters({})).entry_decision(_context(lt112_day, es, SPX_PER_SPY))
    assert d.action is Action.ENTERED and d.intent is not None
    strikes = sorted(leg.strike_pts for leg in d.intent.structure.legs)
    assert len(strikes) == 3 and np.isclose(strikes[2] - strikes[1], 50.0)  # the spread 50 points wide
