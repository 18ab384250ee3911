"""NO LOOK-AHEAD: every MODELLED value on a day t depends only on data up to t.

Two checks over the REAL SPY path: (1) cutting the data after t leaves every value on days
<= t identical (volatility state, parameters, VIX, whole chains of both families); (2) changing
the returns after t changes the values after t (so the comparison can fail) and none before.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import lru_cache

import numpy as np

from modelled.chains import ModelledChain, ModelledMarket
from tests.modelled.world import full_market, market_on, spy_path

CUT = date(2008, 10, 15)  # mid-crisis, between two refit days
BEFORE = (date(2008, 10, 14), CUT)


@lru_cache(maxsize=1)
def cut_market() -> ModelledMarket:
    return market_on(spy_path().truncated(CUT))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fM"))


def _same_chain(a: ModelledChain, b: ModelledChain) -> bool:
    sa, sb = a.snapshot, b.snapshot
    arrays = ("strike_pts", "bid_pts", "ask_pts", "underlying_pts", "expiry", "right", "symbol")
    return (len(sa) > 0 and all(_same(getattr(sa, k), getattr(sb, k)) for k in arrays)
            and _same(a.theo_pts, b.theo_pts) and _same(a.model_iv_frac, b.model_iv_frac) and a.vix == b.vix)


def test_truncated_data_gives_identical_volatility_up_to_the_cut() -> None:
    full, cut = full_market().vol, cut_market().vol
    n = len(cut.day)
    assert cut.day[-1] == np.datetime64(CUT) and len(full.day) > n
    for name in ("var_next_pct2", "omega", "alpha", "beta"):
        assert _same(getattr(full, name)[:n], getattr(cut, name)), name
    assert _same(full.fit_day[:n], cut.fit_day)
    assert np.isfinite(cut.var_next_pct2[252:]).all()


def test_truncated_data_gives_identical_vix_and_chains_up_to_the_cut() -> None:
    full, cut = full_market(), cut_market()
    n = len(cut.vol.day)
    assert _same(full.vol.vix_series()[:n], cut.vol.vix_series())
    bars_full, bars_cut = full.vix_daily(CUT), cut.vix_daily(CUT)
    assert _same(bars_full.close_pts, bars_cut.close_pts) and bars_cut.day[-1] == np.datetime64("2008-10-14")
    for day in BEFORE:
        assert full.vix(day) == cut.vix(day)
        assert _same_chain(full.equity_chain(day), cut.equity_chain(day))
        assert _same_chain(full.es_chain(day), cut.es_chain(day))


def test_changed_future_returns_change_only_later_values() -> None:
    path = spy_path().truncated(date(2009, 3, 31))
    i = path.index_of(CUT)
    shocked = path.log_return.copy()
    shocked[i + 1:] *= 3.0
    a = market_on(path)
    b = market_on(replace(path, log_return=shocked))
    assert _same(a.vol.var_next_pct2[: i + 1], b.vol.var_next_pct2[: i + 1])
    assert _same_chain(a.equity_chain(CUT), b.equity_chain(CUT))
    assert not np.allclose(a.vol.var_next_pct2[i + 1:], b.vol.var_next_pct2[i + 1:])
    later = date(2008, 12, 1)
    assert a.vix(later) != b.vix(later)
