"""Model-priced option chains for tests and research where the real sample is too thin.

MODELLED, NOT MARKET DATA. Every chain built here says so in its ``root`` suffix
(``"SPXW*model"``) so that a test, a journal row or a summary can never pass it off as real.

Model (documented, deliberately simple):

* Prices: Black-Scholes (European, spot with dividend yield) or Black-76 (options on
  futures), :mod:`thetacore.pricing`, per the product's model.
* Volatility smile: a skew linear in log-moneyness, floored:
  ``sigma(K) = max(floor, atm_iv x (1 - skew x ln(K / F)))`` where ``F`` is the forward
  (``spot x exp((r - q) t)`` for Black-Scholes, the future for Black-76). With the default
  ``skew = 2.0`` a strike 10% below the forward carries about 21% more IV than the money,
  the order of the S&P 500's put skew (Cboe SKEW literature; Gatheral, *The Volatility
  Surface*, ch. 3).
* Quotes: ``bid/ask = model price -/+ half spread``, spread ``max(min_spread_pts,
  spread_frac x price)``, each side on the product's tick grid (bid rounded down, ask up). A
  model price below one tick has no bid (NaN): far out-of-the-money options are not given a
  fictitious bid.
* Underlying path: supplied by the caller, normally REAL bars from ``data/`` (the
  generator does not invent the underlying), so a lifecycle replays a real day's moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np

from thetacore.chain import ChainSnapshot
from thetacore.enums import Right
from thetacore.pricing import PricingModel, price, time_to_expiry_years
from thetacore.products import OptionProduct

MODEL_SUFFIX = "*model"


@dataclass(frozen=True)
class SmileModel:
    """Parameters of the modelled smile and quotes (fractions and points)."""

    atm_iv_frac: float = 0.18
    skew: float = 2.0
    floor_iv_frac: float = 0.05
    spread_frac: float = 0.04
    min_spread_pts: float = 0.10

    def iv(self, strike_pts: np.ndarray, forward_pts: float) -> np.ndarray:
        """``(n,)`` IV per strike (fraction)."""
        return np.maximum(self.floor_iv_frac, self.atm_iv_frac * (1.0 - self.skew * np.log(strike_pts / forward_pts)))


def strike_grid(center_pts: float, step_pts: float, count_each_side: int) -> np.ndarray:
    """Strikes on multiples of ``step_pts`` around ``center_pts`` (``2 n + 1`` strikes)."""
    mid = round(center_pts / step_pts) * step_pts
    return mid + step_pts * np.arange(-count_each_side, count_each_side + 1, dtype=float)


def model_chain(
    prod: OptionProduct,
    time_utc: datetime,
    underlying_pts: float,
    expiries: list[date],
    strikes_pts: np.ndarray,
    *,
    multiplier_usd_per_pt: float,
    rate_frac: float,
    yield_frac: float = 0.0,
    smile: SmileModel | None = None,
    underlying_symbol: str | None = None,
    expiry_time_et: time | None = None,
) -> ChainSnapshot:
    """A MODELLED chain: every strike x expiry x right, priced by the module's model.

    Args:
        prod: product facts (model, style, settlement, ticks, settle time).
        time_utc: snapshot time (aware UTC).
        underlying_pts: the underlying's price (spot, or the future for Black-76), points.
        expiries: expiry dates to include (expired ones are skipped).
        strikes_pts: ``(k,)`` strikes used for every expiry.
        multiplier_usd_per_pt: contract multiplier.
        rate_frac, yield_frac: risk-free rate and dividend yield (fractions).
        smile: smile and quote model (defaults as documented).
        underlying_symbol: what the options are written on (default: the product root).
        expiry_time_et: settle time override (default: the product's).

    Raises:
        ValueError: for a non-positive or non-finite underlying price.
    """
    if not (math.isfinite(underlying_pts) and underlying_pts > 0):
        raise ValueError(f"model_chain needs a positive underlying price, got {underlying_pts}")
    smile = smile or SmileModel()
    settle = expiry_time_et or prod.expiry_time_et
    rows: list[tuple[date, int, float]] = [
        (e, int(r), float(k)) for e in sorted(expiries) for r in (Right.PUT, Right.CALL) for k in strikes_pts
    ]
    exp = np.array([np.datetime64(e, "D") for e, _, _ in rows])
    t = time_to_expiry_years(exp, time_utc, settle)
    live = t > 0
    rows = [r for r, ok in zip(rows, live, strict=True) if ok]
    exp, t = exp[live], t[live]
    right = np.array([r for _, r, _ in rows], dtype=np.int8)
    strike = np.array([k for _, _, k in rows])
    carry = 0.0 if prod.model is PricingModel.BLACK_76 else rate_frac - yield_frac
    forward = underlying_pts * np.exp(carry * t)
    sigma = smile.iv(strike, forward)
    theo = price(prod.model, underlying_pts, strike, t, rate_frac, yield_frac, sigma, right)
    bid, ask = _quotes(theo, prod, smile)
    n = len(rows)
    under = underlying_symbol or prod.root
    symbols = np.array([f"{under} {e:%y%m%d}{'C' if r > 0 else 'P'}{round(k * 1000):08d}" for e, r, k in rows],
                       dtype=object)
    return ChainSnapshot(
        prod.root + MODEL_SUFFIX, time_utc, multiplier_usd_per_pt, prod.style, prod.settlement, symbols,
        np.full(n, under, dtype=object), np.full(n, float(underlying_pts)), strike, exp, right, bid, ask,
        np.full(n, np.datetime64(time_utc.replace(tzinfo=None), "ms")),
    )


def _quotes(theo: np.ndarray, prod: OptionProduct, smile: SmileModel) -> tuple[np.ndarray, np.ndarray]:
    half = np.maximum(smile.min_spread_pts, smile.spread_frac * theo) / 2.0
    tick = np.where(theo <= prod.small_tick_below_pts, prod.small_tick_pts, prod.tick_pts)
    bid = np.floor((theo - half) / tick + 1e-9) * tick
    ask = np.ceil((theo + half) / tick - 1e-9) * tick
    bid = np.where(bid >= tick, bid, np.nan)
    return np.round(bid, 10), np.round(ask, 10)
