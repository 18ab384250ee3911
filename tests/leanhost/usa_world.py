"""Builders of the leanhost tests for index and equity options: a chain snapshot put into the
fake LEAN world the way LEAN presents it to a scheduled event.

* REAL: :func:`spxw_real_chain` reads the SPXW chain of 2021-01-04
  (``data/indexoption/usa/minute/spxw/20210104_quote_european.zip``: strikes 3700 and 3800
  only, expiring 2021-01-04, -06 and -08) and the SPX price
  (``data/index/usa/minute/spx/20210104_trade.zip``) as of a decision time: each quote is the
  close of the last minute bar that ENDED by then (no look-ahead), NaN when older than 15 min.
* MODELLED: :func:`modelled_chain` prices a chain with :func:`replay.model_chain.model_chain`
  (root suffix ``*model``) around a REAL underlying price; labelled as such wherever used.

:func:`install_chain` makes any snapshot LEAN-shaped: the underlying (index or equity) as a
security with its price, every contract as a security of the option type with its quotes, and
either one ``OptionChain`` in the current slice (chain feeds) or, with ``contracts=True``,
what ``option_chain()`` lists plus a factory giving each subscribed contract its quotes
(single-contract feeds).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from replay.lean_data import read_equity_daily, read_index_minute, read_option_minute
from replay.lean_data.symbol_properties import SymbolProperties
from replay.model_chain import SmileModel, model_chain, strike_grid
from thetacore.chain import ChainSnapshot
from thetacore.enums import Right
from thetacore.pricing import et_instant_utc
from thetacore.products import product

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
SPX_DAY = date(2021, 1, 4)
CHICAGO = ZoneInfo("America/Chicago")  # exchange time zone of SPX and its options (market hours)
NEW_YORK = ZoneInfo("America/New_York")  # exchange time zone of SPY and its options
MAX_AGE = timedelta(minutes=15)


def _ms(t_utc: datetime) -> np.datetime64:
    return np.datetime64(t_utc.astimezone(UTC).replace(tzinfo=None), "ms")


def _last_closed(times_utc: np.ndarray, at_utc: datetime) -> int | None:
    """Index of the last bar that ended by ``at_utc`` within ``MAX_AGE``, else None."""
    ends = times_utc + np.timedelta64(1, "m")
    i = int(np.searchsorted(ends, _ms(at_utc), side="right")) - 1
    if i < 0 or _ms(at_utc) - ends[i] > np.timedelta64(MAX_AGE):
        return None
    return i


def spx_price_at(at_utc: datetime) -> float:
    """REAL SPX last trade close visible at ``at_utc`` on 2021-01-04."""
    bars = read_index_minute(DATA, "spx", SPX_DAY)
    i = _last_closed(bars.time_utc, at_utc)
    assert i is not None, f"no SPX bar ended by {at_utc}"
    return float(bars.close[i])


def spxw_real_chain(clock_et: time) -> tuple[ChainSnapshot, float]:
    """REAL SPXW chain and SPX price at ``clock_et`` New York on 2021-01-04."""
    at = et_instant_utc(SPX_DAY, clock_et)
    spot = spx_price_at(at)
    quotes = read_option_minute(DATA, "indexoption", "usa", "spxw", SPX_DAY, "quote")
    rows = []
    for key, bars in sorted(quotes.items()):
        i = _last_closed(bars.time_utc, at)
        if i is not None:
            end = bars.time_utc[i] + np.timedelta64(1, "m")
            rows.append((key, float(bars.bid_close[i]), float(bars.ask_close[i]), end))
    n = len(rows)
    snap = ChainSnapshot(
        "SPXW", at, 100.0, product("SPXW").style, product("SPXW").settlement,
        np.array([f"SPXW {k.expiry:%y%m%d}{'C' if k.right is Right.CALL else 'P'}{k.strike_pts:g}" for k, *_ in rows],
                 dtype=object),
        np.full(n, "SPX", dtype=object), np.full(n, spot), np.array([k.strike_pts for k, *_ in rows]),
        np.array([np.datetime64(k.expiry, "D") for k, *_ in rows]), np.array([int(k.right) for k, *_ in rows],
                                                                             dtype=np.int8),
        np.array([r[1] for r in rows]), np.array([r[2] for r in rows]),
        np.array([r[3] for r in rows], dtype="datetime64[ms]"), min_tick_pts=0.05,
    )
    return snap, spot


def modelled_chain(root: str, at_utc: datetime, spot_pts: float, expiries: list[date], step_pts: float,
                   count_each_side: int, *, atm_iv_frac: float = 0.18, rate_frac: float = 0.0009) -> ChainSnapshot:
    """MODELLED chain of ``root`` (``replay.model_chain``: skew 2, ``atm_iv_frac`` at the
    money) around ``spot_pts``, strikes every ``step_pts``, 100 USD per point."""
    return model_chain(product(root), at_utc, spot_pts, expiries, strike_grid(spot_pts, step_pts, count_each_side),
                       multiplier_usd_per_pt=100.0, rate_frac=rate_frac, smile=SmileModel(atm_iv_frac=atm_iv_frac))


def spy_close(day: date) -> float:
    """REAL SPY close of ``day`` (``data/equity/usa/daily/spy.zip``, raw prices)."""
    bars = read_equity_daily(DATA, "spy")
    [i] = np.flatnonzero(bars.day == np.datetime64(day, "D"))
    return float(bars.close[i])


def spy_history_frame(before: date) -> pd.DataFrame:
    """REAL SPY daily bars before ``before`` shaped as LEAN's ``history`` DataFrame
    (index ``symbol``/``time`` with the bar end at midnight after the session)."""
    bars = read_equity_daily(DATA, "spy")
    keep = bars.day < np.datetime64(before, "D")
    ends = pd.to_datetime(bars.day[keep]) + pd.Timedelta(days=1)
    index = pd.MultiIndex.from_arrays([["SPY"] * int(keep.sum()), ends], names=["symbol", "time"])
    return pd.DataFrame({"open": bars.open[keep], "high": bars.high[keep], "low": bars.low[keep],
                         "close": bars.close[keep]}, index=index)


# ----- into the fake LEAN world -----------------------------------------------------------------
def _underlying(lean: ModuleType, algorithm: Any, ticker: str, price: float, tz: ZoneInfo, local_end: datetime) -> Any:
    existing = next((s for s in algorithm.securities.values() if s.symbol.value == ticker), None)
    index = ticker in ("SPX", "VIX")
    if existing is None:
        symbol = lean.Symbol.index(ticker) if index else lean.Symbol.equity(ticker)
        kind = lean.SecurityType.INDEX if index else lean.SecurityType.EQUITY
        existing = algorithm.add_security(lean.Security(symbol, kind, lean.SymbolProperties(1.0, 0.01)))
    existing.price = price
    existing.exchange.time_zone = str(tz)
    existing.last_data = lean.BaseData(existing.symbol, price, local_end)
    return existing


def install_chain(lean: ModuleType, algorithm: Any, snap: ChainSnapshot, root: str, underlying_ticker: str,
                  *, contracts: bool = False) -> Any:
    """Put ``snap`` into ``algorithm`` (see the module docstring); returns the underlying security.
    The algorithm's clock moves to ``snap.time_utc``."""
    tz = CHICAGO if underlying_ticker == "SPX" else NEW_YORK
    local = snap.time_utc.astimezone(tz).replace(tzinfo=None)
    spot = float(np.nanmedian(snap.underlying_pts))
    under = _underlying(lean, algorithm, underlying_ticker, spot, tz, local)
    kind = "indexoption" if underlying_ticker == "SPX" else "option"
    props = SymbolProperties.from_data_root(DATA).get("usa", root, kind)
    option_props = lean.SymbolProperties(props.multiplier, props.minimum_price_variation)
    canonical = lean.Symbol.canonical_usa_option(under.symbol, root)
    securities, listed = {}, []
    for i in range(len(snap)):
        right = lean.OptionRight.CALL if int(snap.right[i]) == int(Right.CALL) else lean.OptionRight.PUT
        expiry = datetime.combine(snap.expiry[i].astype(object), datetime.min.time())
        symbol = lean.Symbol.usa_option(under.symbol, root, right, float(snap.strike_pts[i]), expiry)
        bid, ask = (float(v) if np.isfinite(v) else 0.0 for v in (snap.bid_pts[i], snap.ask_pts[i]))
        quoted = not np.isnat(snap.quote_time_utc[i])
        end = (snap.quote_time_utc[i].astype(datetime).replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
               if quoted else local)
        security = lean.Security(symbol, canonical.security_type, option_props, bid, ask, (bid + ask) / 2)
        security.exchange.time_zone = str(tz)
        security.last_data = lean.BaseData(symbol, (bid + ask) / 2, end) if quoted else None
        securities[symbol] = security
        listed.append(lean.OptionContract(symbol, float(snap.strike_pts[i]), expiry, right, bid, ask, end))
    for symbol, fresh in securities.items():
        held = algorithm.securities.get(symbol)
        if held is not None:  # subscribed earlier: new quotes, same holding
            held.bid_price, held.ask_price, held.price, held.last_data = (
                fresh.bid_price, fresh.ask_price, fresh.price, fresh.last_data)
        elif not contracts:
            algorithm.add_security(fresh)
    if contracts:
        algorithm.chains_by_underlying[under.symbol] = lean.OptionChain(canonical, lean.BaseData(under.symbol, spot),
                                                                        listed)
        algorithm.contract_factory = securities.__getitem__
    else:
        chains = lean.OptionChains()
        chains[canonical] = lean.OptionChain(canonical, lean.BaseData(under.symbol, spot), listed)
        algorithm.current_slice = lean.Slice(snap.time_utc.replace(tzinfo=None), chains)
    algorithm.utc_time = snap.time_utc.astimezone(UTC).replace(tzinfo=None)
    return under
