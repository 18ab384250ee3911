"""with_greeks: IV and greeks of a chain snapshot from its own mids, on a synthetic chain and
on a real ES futures-option chain (Black-76) from LEAN's minute quotes of 2020-01-06."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, time
from pathlib import Path

import numpy as np
import pytest

from thetacore.chain import ChainSnapshot
from thetacore.chain_greeks import time_to_expiry_years, with_greeks
from thetacore.enums import ExerciseStyle, Right, Settlement
from thetacore.pricing import PricingModel, price

DATA = Path(__file__).resolve().parents[2] / "data"
ES_OPTIONS = DATA / "futureoption/cme/minute/es/202003/20200106_quote_american.zip"
ES_FUTURES = DATA / "future/cme/minute/es/20200106_quote.zip"
BAR_ENDING_15_UTC_MS = 14 * 3_600_000 + 59 * 60_000  # LEAN stamps bars with their start
PRIMARY_CREDIT_2020_01_06 = 0.0225  # data/alternative/interest-rate: 2.25 % from 2019-10-31
ES_EXPIRY_TIME_ET = time(9, 30)  # quarterly ES options settle at the opening quotation


def _chain(strikes: list[float], rights: list[int], bids: list[float], asks: list[float],
           underlying: float, expiry: str = "2024-02-16") -> ChainSnapshot:
    n = len(strikes)
    return ChainSnapshot(
        root="SPX", time_utc=datetime(2024, 1, 5, 21, 0, tzinfo=UTC),
        multiplier_usd_per_pt=100.0, style=ExerciseStyle.EUROPEAN, settlement=Settlement.CASH,
        symbol=np.array([f"c{i}" for i in range(n)], dtype=object),
        underlying_symbol=np.array(["SPX"] * n, dtype=object),
        underlying_pts=np.full(n, underlying), strike_pts=np.array(strikes, dtype=float),
        expiry=np.full(n, np.datetime64(expiry, "D")), right=np.array(rights, dtype=np.int8),
        bid_pts=np.array(bids, dtype=float), ask_pts=np.array(asks, dtype=float),
        quote_time_utc=np.full(n, np.datetime64("2024-01-05T21:00", "ms")),
    )


def test_when_quotes_priced_at_known_vol_then_iv_and_greeks_are_recovered() -> None:
    strikes, rights = [4500.0, 4700.0, 4800.0, 4900.0], [-1, -1, 1, 1]
    chain = _chain(strikes, rights, [0.0] * 4, [0.0] * 4, underlying=4700.0)
    t = time_to_expiry_years(chain.expiry, chain.time_utc, time(16, 0))
    mid = price(PricingModel.BLACK_SCHOLES, 4700.0, chain.strike_pts, t, 0.055, 0.014, 0.15,
                chain.right)
    chain = replace(chain, bid_pts=mid - 0.05, ask_pts=mid + 0.05)
    out = with_greeks(chain, model=PricingModel.BLACK_SCHOLES, rate_frac=0.055,
                      yield_frac=0.014, expiry_time_et=time(16, 0))
    assert np.allclose(out.iv_frac, 0.15, atol=1e-10)
    assert (np.sign(out.delta) == chain.right).all()
    assert (out.gamma > 0).all() and (out.vega_pts_per_vol_pt > 0).all()
    assert (out.theta_pts_per_day < 0).all()
    assert np.isnan(chain.iv_frac).all(), "input snapshot unchanged (a copy is returned)"


def test_when_no_mid_or_no_solution_then_nan_everywhere_for_that_contract() -> None:
    # no bid / crossed / below intrinsic (4600 call worth >= 100) / fine
    chain = _chain([4700.0, 4700.0, 4600.0, 4800.0], [1, 1, 1, 1],
                   [np.nan, 60.0, 50.0, 40.0], [55.0, 50.0, 51.0, 41.0], underlying=4700.0)
    out = with_greeks(chain, model=PricingModel.BLACK_SCHOLES, rate_frac=0.05, yield_frac=0.0,
                      expiry_time_et=time(16, 0))
    for name in ("iv_frac", "delta", "gamma", "theta_pts_per_day", "vega_pts_per_vol_pt"):
        values = getattr(out, name)
        assert np.isnan(values[:3]).all() and np.isfinite(values[3]), name


def _es_quote_close(member: bytes) -> tuple[float, float]:
    """(bid close, ask close) of the minute bar ending 15:00 UTC; NaN for an empty side."""
    rows = np.genfromtxt(io.BytesIO(member), delimiter=",", dtype=float).reshape(-1, 11)
    hit = rows[rows[:, 0] == BAR_ENDING_15_UTC_MS]
    return (float(hit[0, 4]), float(hit[0, 9])) if len(hit) else (np.nan, np.nan)


def _es_chain_at_15_utc() -> ChainSnapshot:
    with zipfile.ZipFile(ES_FUTURES) as z:
        bid, ask = _es_quote_close(z.read("20200106_es_minute_quote_202003.csv"))
    future_mid = (bid + ask) / 2.0
    contracts = []
    with zipfile.ZipFile(ES_OPTIONS) as z:
        for name in z.namelist():
            m = re.search(r"_(call|put)_(\d+)_(\d{8})\.csv$", name)
            assert m, name
            right = Right.CALL if m[1] == "call" else Right.PUT
            expiry = np.datetime64(f"{m[3][:4]}-{m[3][4:6]}-{m[3][6:]}", "D")
            contracts.append((name, int(right), int(m[2]) / 10_000, expiry,
                              *_es_quote_close(z.read(name))))
    n = len(contracts)
    col = list(zip(*contracts, strict=True))
    return ChainSnapshot(
        root="ES", time_utc=datetime(2020, 1, 6, 15, 0, tzinfo=UTC),
        multiplier_usd_per_pt=50.0, style=ExerciseStyle.AMERICAN, settlement=Settlement.PHYSICAL,
        symbol=np.array(col[0], dtype=object), underlying_symbol=np.array(["ES20H20"] * n,
                                                                          dtype=object),
        underlying_pts=np.full(n, future_mid), strike_pts=np.array(col[2], dtype=float),
        expiry=np.array(col[3], dtype="datetime64[D]"), right=np.array(col[1], dtype=np.int8),
        bid_pts=np.array(col[4], dtype=float), ask_pts=np.array(col[5], dtype=float),
        quote_time_utc=np.full(n, np.datetime64("2020-01-06T15:00", "ms")),
    )


@pytest.fixture(scope="module")
def es_chain() -> ChainSnapshot:
    chain = _es_chain_at_15_utc()
    return with_greeks(chain, model=PricingModel.BLACK_76, rate_frac=PRIMARY_CREDIT_2020_01_06,
                       yield_frac=0.0, expiry_time_et=ES_EXPIRY_TIME_ET)


def test_when_es_put_3000_march_at_15_utc_then_black76_iv_and_delta_are_sensible(
    es_chain: ChainSnapshot,
) -> None:
    assert es_chain.underlying_pts[0] == pytest.approx(3225.625)  # ESH20 mid 3225.50/3225.75
    i = es_chain.index_of("20200106_es_minute_quote_american_put_30000000_20200320.csv")
    assert (es_chain.bid_pts[i], es_chain.ask_pts[i]) == (29.0, 29.25)
    assert 0.12 <= es_chain.iv_frac[i] <= 0.20  # ES implied vol in January 2020
    assert 0.10 <= -es_chain.delta[i] <= 0.20
    assert es_chain.iv_frac[i] == pytest.approx(0.1898, abs=5e-4)
    assert es_chain.delta[i] == pytest.approx(-0.185, abs=2e-3)


def test_when_es_call_and_put_share_a_strike_then_their_ivs_agree(
    es_chain: ChainSnapshot,
) -> None:
    # Black-76 put-call parity on mids: same strike, same IV within half a vol point.
    key = {(k, int(w)): iv for k, w, iv in
           zip(es_chain.strike_pts, es_chain.right, es_chain.iv_frac, strict=True)}
    pairs = [(key[(k, 1)], key[(k, -1)]) for k, w in key if w == 1 and (k, -1) in key]
    calls, puts = np.array(pairs).T
    ok = np.isfinite(calls) & np.isfinite(puts)
    assert ok.sum() >= 20
    assert np.max(np.abs(calls[ok] - puts[ok])) < 0.005


def test_when_es_smile_then_put_skew_is_monotone_below_the_money(es_chain: ChainSnapshot) -> None:
    puts = (es_chain.right == -1) & (es_chain.strike_pts < es_chain.underlying_pts)
    puts &= np.isfinite(es_chain.iv_frac)
    order = np.argsort(es_chain.strike_pts[puts])
    assert (np.diff(es_chain.iv_frac[puts][order]) < 0).all()
