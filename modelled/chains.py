"""One day's MODELLED whole-universe chain as a :class:`thetacore.chain.ChainSnapshot`.

On trading day ``t`` at the 16:00 ET close, from data up to ``t`` only:

* underlying: the REAL close of ``t`` (:mod:`modelled.paths`); for the ES family the S&P 500
  level is ``SPY close x`` :data:`SPX_PER_SPY` (10.03, the ratio of the SPX and SPY closes of
  2021-01-04 and 2021-01-14, the two days ``data/index/usa/daily/spx.zip`` holds) and each
  quarterly future ``F = SPX exp((r - q) T_future)`` (cost of carry; Hull, *Options, Futures,
  and Other Derivatives*, ch. 5), ``r`` LEAN's rate series, ``q`` SPY's trailing dividend yield
  from the factor file;
* listings and strikes: :mod:`modelled.calendar`;
* IV: :mod:`modelled.vol` ATM level per expiry x :mod:`modelled.surface` smile;
* prices: the project's own Black-Scholes (SPY: spot, ``r``, ``q``) or Black-76 (ES options on
  their future), :func:`thetacore.pricing.price`, to the product's expiry time
  (:mod:`thetacore.products`), both rights at every strike;
* quotes (:class:`QuoteRule`): ``half = max(tick, c x vega)`` with ``vega`` per vol point and
  ``tick`` the product's tick at the model price; ``bid = floor((theo - half) / tick) x tick``,
  ``ask = ceil((theo + half) / tick) x tick``; a bid below one tick is no bid (NaN: far
  out-of-the-money options quote nothing to sell into). So ``bid < theo < ask`` always. ``c``
  is a documented assumption (0.05 vol points: a 30-day ATM SPY option quoted ~5 cents wide,
  a 90-day ATM ES option ~0.75 points wide), not fitted: ``data/`` has no real bid/ask of a
  daily chain to fit it on.

Every object is labelled: root ``SPY*MODELLED`` / ``ES*MODELLED``, symbols start with it,
underlying symbols end with ``*MODELLED``, :attr:`ModelledChain.label`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from modelled import LABEL, ROOT_SUFFIX
from modelled.calendar import EquityCalendar, FutureListing, FuturesCalendar, Listing, Series, strike_grid
from modelled.paths import RateCurve, UnderlyingPath
from modelled.surface import CALIBRATED, SmileShape
from modelled.vol import VolPath
from thetacore.chain import ChainSnapshot
from thetacore.enums import Right
from thetacore.market_stats import DailyBars
from thetacore.pricing import PricingModel, et_instant_utc, greeks, price, time_to_expiry_years
from thetacore.products import OptionProduct, product

CLOSE_ET = time(16, 0)
SPX_PER_SPY = 10.03


@dataclass(frozen=True)
class QuoteRule:
    """Bid/ask rule (module doc): ``half = max(tick, vega_half_spread_vol_pts x vega)``."""

    vega_half_spread_vol_pts: float = 0.05


@dataclass(frozen=True, eq=False)
class ModelledChain:
    """A MODELLED chain and the model numbers behind it, arrays ``(n,)`` row-aligned with
    ``snapshot``: ``theo_pts`` (model price), ``model_iv_frac``, ``forward_pts``, ``t_years``,
    ``series`` (:class:`modelled.calendar.Series` values as str); scalars ``rate_frac``,
    ``yield_frac``, ``vix`` (the MODELLED VIX of the day), ``notes`` (approximations in force,
    e.g. a backfilled rate), ``label`` ``"MODELLED"``."""

    snapshot: ChainSnapshot
    theo_pts: np.ndarray
    model_iv_frac: np.ndarray
    forward_pts: np.ndarray
    t_years: np.ndarray
    series: np.ndarray
    rate_frac: float
    yield_frac: float
    vix: float
    notes: tuple[str, ...]
    label: str = LABEL


class _Expiry(NamedTuple):
    """One listed expiry of a day's chain: its strikes and model inputs."""

    expiry: date
    strikes: np.ndarray
    under_pts: float
    under_symbol: str
    t_years: float
    series: str
    atm_frac: float


@dataclass(frozen=True)
class _Rows:
    expiry: np.ndarray
    strike: np.ndarray
    right: np.ndarray
    under: np.ndarray
    under_symbol: np.ndarray
    t: np.ndarray
    series: np.ndarray
    atm: np.ndarray


def _expand(per: list[_Expiry]) -> _Rows:
    """Rows for every (expiry, strike, right): puts then calls per expiry (np.repeat, no
    per-row Python)."""
    n = np.array([len(e.strikes) for e in per], dtype=np.int64)
    rows2 = 2 * n

    def each(values: list[object], dtype: object) -> np.ndarray:
        return np.repeat(np.array(values, dtype=dtype), rows2)

    strikes = np.concatenate([np.concatenate((e.strikes, e.strikes)) for e in per]) if per else np.empty(0)
    right = np.repeat(np.tile(np.array([Right.PUT, Right.CALL], dtype=np.int8), len(per)), np.repeat(n, 2))
    return _Rows(each([np.datetime64(e.expiry, "D") for e in per], "datetime64[D]"), strikes, right,
                 each([e.under_pts for e in per], np.float64), each([e.under_symbol for e in per], object),
                 each([e.t_years for e in per], np.float64), each([e.series for e in per], object),
                 each([e.atm_frac for e in per], np.float64))


def _quotes(theo: np.ndarray, vega: np.ndarray, prod: OptionProduct, rule: QuoteRule
            ) -> tuple[np.ndarray, np.ndarray]:
    tick = np.where(theo <= prod.small_tick_below_pts, prod.small_tick_pts, prod.tick_pts)
    half = np.maximum(tick, rule.vega_half_spread_vol_pts * vega)
    bid = np.round(np.floor((theo - half) / tick + 1e-9) * tick, 10)
    ask = np.round(np.ceil((theo + half) / tick - 1e-9) * tick, 10)
    return np.where(bid >= tick, bid, np.nan), ask


@lru_cache(maxsize=65536)
def _strike_code(strike_pts: float) -> str:
    return f"{round(strike_pts * 1000):08d}"


def _symbols(root: str, per_expiry: list[_Expiry]) -> np.ndarray:
    """OSI-like ids ``ROOT yymmddP00350000`` in :func:`_expand`'s row order (puts, then calls,
    per expiry); strike codes cached across days (a day's ~3,000 ids in ~1 ms)."""
    out: list[str] = []
    for exp, strikes, *_ in per_expiry:
        codes = [_strike_code(k) for k in strikes.tolist()]
        stem = f"{root} {exp:%y%m%d}"
        out += [stem + "P" + c for c in codes]
        out += [stem + "C" + c for c in codes]
    return np.array(out, dtype=object)


Held = Mapping[date, Sequence[float]]
"""Strikes to keep listed, per expiry date (:meth:`ModelledMarket.equity_chain`)."""


def _strikes(grid: np.ndarray | None, held: Held | None, expiry: date) -> np.ndarray:
    """Today's grid (or none) with the held strikes of ``expiry`` added, sorted, unique."""
    extra = np.asarray((held or {}).get(expiry, ()), dtype=np.float64)
    if grid is None:
        return np.unique(extra)
    return np.unique(np.concatenate((grid, extra))) if extra.size else grid


DteWindows = tuple[tuple[int, int], ...]
"""``((min, max), ...)`` calendar days to expiry: an expiry inside any range is listed."""


def _listed(expiry: date, day: date, held: Held | None, windows: DteWindows | None) -> bool:
    """An expiry inside one of the DTE windows, or one with held strikes."""
    dte = (expiry - day).days
    return windows is None or any(lo <= dte <= hi for lo, hi in windows) or bool((held or {}).get(expiry))


@lru_cache(maxsize=8)
def equity_listings(calendar: EquityCalendar, day: date, holidays: frozenset[date]) -> list[Listing]:
    """A day's equity listings, kept for the day's other chain builds (do not mutate)."""
    return calendar.listings(day, holidays)


@lru_cache(maxsize=8)
def futures_listings(calendar: FuturesCalendar, day: date, holidays: frozenset[date]) -> list[FutureListing]:
    """A day's ES listings, kept for the day's other chain builds (do not mutate)."""
    return calendar.listings(day, holidays)


def _within(listings: list[Listing], day: date, held: Held | None, window: DteWindows | None
            ) -> list[Listing]:
    return [x for x in listings if _listed(x.expiry, day, held, window)]


@dataclass(frozen=True, eq=False)
class ModelledMarket:
    """Everything needed to build the MODELLED chains of one underlying path.

    Attributes:
        path: the REAL daily path (SPY drives both the SPY and the ES families).
        vol: the volatility model built on ``path`` (:func:`modelled.vol.build_vol_path`).
        rates: LEAN's rate series.
        holidays: exchange holidays (LEAN's market-hours database, equity/usa).
        shape: the smile (default: the calibrated one).
        equity_calendar, futures_calendar: listing rules.
        quote_rule: bid/ask rule.
        multiplier_usd_per_pt: ``{"SPY": 100, "QQQ": 100, "ES": 50}``, LEAN's symbol properties
            (``data/symbol-properties``: equity options 100, ES 50).
    """

    path: UnderlyingPath
    vol: VolPath
    rates: RateCurve
    holidays: frozenset[date]
    shape: SmileShape = CALIBRATED
    equity_calendar: EquityCalendar = EquityCalendar()
    futures_calendar: FuturesCalendar = FuturesCalendar()
    quote_rule: QuoteRule = QuoteRule()
    multiplier_usd_per_pt: tuple[tuple[str, float], ...] = (("SPY", 100.0), ("QQQ", 100.0), ("ES", 50.0))

    def _day_inputs(self, day: date, at_et: time = CLOSE_ET) -> tuple[int, float, float, float, datetime, list[str]]:
        i = self.path.index_of(day)
        self.vol.index_of(np.datetime64(day, "D"))  # KeyError before the first fit
        r = self.rates.rate_frac(day)
        q = float(self.path.dividend_yield_frac[i])
        notes = [f"rate backfilled with the series' first value {r:.4f}"] if self.rates.is_backfilled(day) else []
        return i, float(self.path.close_pts[i]), r, q, et_instant_utc(day, at_et), notes

    def vix(self, day: date) -> float:
        """The MODELLED VIX of ``day`` (:meth:`modelled.vol.VolPath.vix`)."""
        return self.vol.vix(self.vol.index_of(np.datetime64(day, "D")))

    def vix_daily(self, day: date) -> DailyBars:
        """Completed daily bars of the MODELLED VIX before ``day`` (for
        ``MarketContext.vix_daily``): the model's close only (high = low = close), from the first
        fitted day; no value of ``day`` or later."""
        series = self.vol.vix_series()
        keep = (self.vol.day < np.datetime64(day, "D")) & np.isfinite(series)
        close = series[keep]
        return DailyBars(self.vol.day[keep], close, close, close)

    def equity_chain(self, day: date, held: Held | None = None, *, grid: bool = True,
                     dte_window: DteWindows | None = None, at_et: time = CLOSE_ET) -> ModelledChain:
        """The MODELLED chain of the path's own options (SPY) at ``day``'s close: every listed
        expiry (empty before the options' launch, with a note).

        Args:
            day: a trading day of the path on or after the first fit.
            held: strikes to list whatever today's grid is, per expiry (contracts listed earlier
                stay listed until they expire, as on an exchange; the grid moves with the
                underlying). Expiries not listed on ``day`` are ignored.
            grid: ``False`` prices only ``held`` (marking open positions, a few rows).
            dte_window: ``((min, max), ...)`` calendar days to expiry of the expiries to list
                (as LEAN subscription filters, ``Subscription.dte_min``/``dte_max``, one range
                per subscription); an expiry with held strikes is listed whatever its DTE.
                ``None``: every expiry.
            at_et: the chain's time (ET; default the close): the close's spot, rate and
                volatility priced with the time to expiry left at ``at_et`` -- a contract
                expiring at today's close is listed only before it (the daily path has one
                price a day: the close stands for the price of an earlier time that day).

        Raises:
            KeyError: ``day`` is not a path day or is before the first fit.
        """
        i, spot, r, q, now, notes = self._day_inputs(day, at_et)
        prod = product(self.path.ticker)
        listings = _within(equity_listings(self.equity_calendar, day, self.holidays), day, held, dte_window)
        if not listings:
            notes.append(f"{self.path.ticker} options not listed before {self.equity_calendar.launch} (approx.)")
        exp = np.array([np.datetime64(x.expiry, "D") for x in listings], dtype="datetime64[D]")
        t = time_to_expiry_years(exp, now, prod.expiry_time_et)
        atm = self.vol.atm_iv_frac(self.vol.index_of(np.datetime64(day, "D")), t)
        fwd = spot * np.exp((r - q) * t)
        per = []
        for x, f, a, tt in zip(listings, fwd.tolist(), atm.tolist(), t.tolist(), strict=True):
            fine = 1.0 if tt <= 1.0 and x.series is not Series.LEAP else 5.0
            strikes = _strikes(strike_grid(f, a, tt, fine, 5.0) if grid and tt > 0 else None, held, x.expiry)
            if tt > 0 and strikes.size:
                per.append(_Expiry(x.expiry, strikes, spot, self.path.ticker + ROOT_SUFFIX, tt, x.series.value, a))
        return self._build(prod, per, now, r, q, PricingModel.BLACK_SCHOLES, notes=notes, day=day)

    def es_chain(self, day: date, held: Held | None = None, *, grid: bool = True,
                 dte_window: DteWindows | None = None, at_et: time = CLOSE_ET) -> ModelledChain:
        """The MODELLED ES options at ``day``'s close on futures over ``SPY x SPX_PER_SPY``
        (arguments and errors as :meth:`equity_chain`)."""
        i, spot, r, q, now, notes = self._day_inputs(day, at_et)
        prod = product("ES")
        spx = spot * SPX_PER_SPY
        listings = [x for x in futures_listings(self.futures_calendar, day, self.holidays)
                    if _listed(x.listing.expiry, day, held, dte_window)]
        exp = np.array([np.datetime64(x.listing.expiry, "D") for x in listings], dtype="datetime64[D]")
        fut = np.array([np.datetime64(x.future_expiry, "D") for x in listings], dtype="datetime64[D]")
        t = time_to_expiry_years(exp, now, prod.expiry_time_et)
        f = spx * np.exp((r - q) * time_to_expiry_years(fut, now, prod.expiry_time_et))
        atm = self.vol.atm_iv_frac(self.vol.index_of(np.datetime64(day, "D")), t)
        per = []
        for x, ff, a, tt in zip(listings, f.tolist(), atm.tolist(), t.tolist(), strict=True):
            strikes = _strikes(strike_grid(ff, a, tt, 5.0, 25.0) if grid and tt > 0 else None, held,
                               x.listing.expiry)
            if tt > 0 and strikes.size:
                per.append(_Expiry(x.listing.expiry, strikes, ff, x.future_symbol + ROOT_SUFFIX, tt,
                                   x.listing.series.value, a))
        return self._build(prod, per, now, r, q, PricingModel.BLACK_76, notes=notes, day=day)

    def _build(self, prod: OptionProduct, per: list[_Expiry], now: datetime, r: float, q: float,
               model: PricingModel, *, notes: list[str], day: date) -> ModelledChain:
        rows = _expand(per)
        carry_t = r - q if model is PricingModel.BLACK_SCHOLES else 0.0
        fwd = rows.under * np.exp(carry_t * rows.t)
        iv = self.shape.iv_frac(rows.atm, rows.strike, fwd, rows.t)
        theo = price(model, rows.under, rows.strike, rows.t, r, q, iv, rows.right)
        vega = greeks(model, rows.under, rows.strike, rows.t, r, q, iv, rows.right).vega_pts_per_vol_pt
        bid, ask = _quotes(theo, vega, prod, self.quote_rule)
        root = prod.root + ROOT_SUFFIX
        n = len(rows.t)
        mult = dict(self.multiplier_usd_per_pt)[prod.root]
        snap = ChainSnapshot(
            root, now, mult, prod.style, prod.settlement, _symbols(root, per), rows.under_symbol,
            rows.under.astype(np.float64), rows.strike, rows.expiry, rows.right, bid, ask,
            np.full(n, np.datetime64(now.replace(tzinfo=None), "ms")), min_tick_pts=prod.small_tick_pts)
        return ModelledChain(snap, theo, iv, fwd, rows.t, rows.series, r, q, self.vix(day), tuple(notes))
