"""Replay markets on REAL bundled data: SPX index options (minute) and SPY end-of-day chains."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from replay.eod_market import EodOptionMarket
from replay.index_market import IndexOptionMarket
from tests.conftest import DATA


@pytest.fixture(scope="module")
def spxw():
    return IndexOptionMarket.load(DATA, "SPXW", date(2021, 1, 4), date(2021, 1, 8))


def test_spxw_chain_at_1030_et_holds_real_quotes_and_the_spx_level(spxw):
    ctx = spxw.context(datetime(2021, 1, 4, 15, 30, tzinfo=UTC))  # 10:30 ET
    assert ctx.underlying_pts == pytest.approx(3738.81)
    i = ctx.chain.index_of("SPXW 210104P03700000")
    assert (ctx.chain.bid_pts[i], ctx.chain.ask_pts[i]) == (1.2, 1.3)
    assert set(ctx.chain.strike_pts) == {3700.0, 3800.0}
    assert ctx.chain.multiplier_usd_per_pt == 100.0


def test_spxw_days_with_data_and_a_day_without_index_bars_says_so(spxw):
    assert sorted(spxw.data_days()) == [date(2021, 1, d) for d in (4, 5, 6, 7, 8)]
    ctx = spxw.context(datetime(2021, 1, 5, 15, 30, tzinfo=UTC))  # no SPX minute file for 01-05
    assert np.isnan(ctx.underlying_pts) and "no quote" in ctx.chain_problem


def test_eod_chain_is_the_previous_close_never_the_same_day_close():
    m = EodOptionMarket.load(DATA, "SPY", date(2023, 12, 28), date(2024, 1, 10))
    assert min(m.data_days()) == date(2023, 12, 29)  # the 12-28 closes are known from 16:00 on
    ctx = m.context(datetime(2024, 1, 2, 15, 0, tzinfo=UTC))  # 10:00 ET on 2024-01-02
    assert ctx.chain.root == "SPY*eod"  # labelled: closes, not two-sided quotes
    assert str(ctx.chain.quote_time_utc[0]) == "2023-12-29T21:00:00.000"
    assert ctx.underlying_pts == pytest.approx(475.31)
    assert (ctx.chain.bid_pts == ctx.chain.ask_pts).all()
    none = m.context(datetime(2023, 12, 28, 15, 0, tzinfo=UTC))
    assert none.chain is None and "no SPY option quote" in none.chain_problem
