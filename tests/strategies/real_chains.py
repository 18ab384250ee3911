"""REAL SPXW chain snapshots and SPX prices from LEAN minute files (``data/``).

Sources (LEAN sample data, see data/PROVENANCE.md):

* ``indexoption/usa/minute/spxw/<day>_quote_european.zip``: one CSV per contract, times in
  the index-option data time zone (America/New_York), prices x 10,000 (the reader divides).
  On 2021-01-04 it holds strikes 3700 and 3800 only, expiring 2021-01-04, 01-06 and 01-08.
* ``index/usa/minute/spx/<day>_trade.zip``: SPX trade bars, times in the index data time
  zone (America/Chicago: ``30600000`` ms = 08:30 CT = 09:30 ET), plain prices.
* ``index/usa/daily/spx.zip``: SPX daily bars; it holds 2021-01-04 and 2021-01-14 only.

Time convention (as ``replay.market`` and LEAN): a minute bar is emitted at its end, so at
``t`` a snapshot sees the bars that started at or before ``t - 1 min``; the quote is that
bar's bid/ask close, missing (NaN) when older than ``max_age_min``. The index has no quote:
its price is the last trade close (bid = ask = last).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import numpy as np

from replay.lean_data import SymbolProperties, read_index_daily, read_index_minute, read_option_minute
from replay.lean_data.bars import TradeBars
from replay.lean_data.interest_rate import interest_rate_path, read_interest_rates
from thetacore.chain import ChainSnapshot
from thetacore.market_stats import DailyBars
from thetacore.pricing import et_instant_utc
from thetacore.products import product

DATA = Path(__file__).resolve().parents[2] / "data"
_BAR = np.timedelta64(60_000, "ms")


def _ms(t_utc: datetime) -> np.datetime64:
    return np.datetime64(t_utc.astimezone(UTC).replace(tzinfo=None), "ms")


def spx_price_at(day: date, clock_et: time, max_age_min: int = 15) -> float:
    """SPX last trade close visible at ``clock_et`` New York (bar ended at or before it);
    NaN when none ended within ``max_age_min`` minutes."""
    bars: TradeBars = read_index_minute(DATA, "spx", day)
    t = _ms(et_instant_utc(day, clock_et))
    end = bars.time_utc + _BAR
    i = int(np.searchsorted(end, t, side="right")) - 1
    if i < 0 or t - end[i] > np.timedelta64(max_age_min * 60_000, "ms"):
        return float("nan")
    return float(bars.close[i])


def spx_daily() -> DailyBars:
    """Every SPX daily bar of ``index/usa/daily/spx.zip`` (2021-01-04 and 2021-01-14)."""
    b = read_index_daily(DATA, "spx")
    return DailyBars(b.day, np.asarray(b.high), np.asarray(b.low), np.asarray(b.close))


def rate_on(day: date) -> float:
    """LEAN's risk-free rate series on ``day`` (fraction)."""
    return read_interest_rates(interest_rate_path(DATA)).rate_on(day)


def spxw_chain_at(day: date, clock_et: time, max_age_min: int = 15) -> ChainSnapshot:
    """The REAL SPXW chain of ``day`` as of ``clock_et`` New York (every contract of the
    day's quote file with a quote bar ended within ``max_age_min`` minutes), underlying = SPX
    last trade at the same moment. Symbols ``SPXW 210104P03700000`` (OSI-like)."""
    t_utc = et_instant_utc(day, clock_et)
    t, age = _ms(t_utc), np.timedelta64(max_age_min * 60_000, "ms")
    spot = spx_price_at(day, clock_et, max_age_min)
    rows = []
    for key, q in sorted(read_option_minute(DATA, "indexoption", "usa", "spxw", day, "quote").items()):
        end = q.time_utc + _BAR
        i = int(np.searchsorted(end, t, side="right")) - 1
        if i < 0 or t - end[i] > age:
            continue
        sym = f"SPXW {key.expiry:%y%m%d}{'C' if key.right > 0 else 'P'}{round(key.strike_pts * 1000):08d}"
        rows.append((sym, key, float(q.bid_close[i]), float(q.ask_close[i]), end[i]))
    props = SymbolProperties.from_data_root(DATA).get("usa", "SPXW", "indexoption")
    prod, n = product("SPXW"), len(rows)
    return ChainSnapshot(
        "SPXW", t_utc, props.multiplier, prod.style, prod.settlement,
        np.array([r[0] for r in rows], dtype=object), np.full(n, "SPX", dtype=object), np.full(n, spot),
        np.array([r[1].strike_pts for r in rows]), np.array([np.datetime64(r[1].expiry, "D") for r in rows]),
        np.array([int(r[1].right) for r in rows], dtype=np.int8), np.array([r[2] for r in rows]),
        np.array([r[3] for r in rows]), np.array([r[4] for r in rows], dtype="datetime64[ms]"),
        min_tick_pts=props.minimum_price_variation,
    )
