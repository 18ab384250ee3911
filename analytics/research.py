"""Helpers of ``research.ipynb`` (pure: arrays and data frames in, data frames out).

* :func:`iv_table`: the project's implied volatility and delta from prices
  (:func:`thetacore.pricing.implied_vol`, :func:`thetacore.pricing.greeks`) next to stored
  values (a LEAN universe file's, or QuantBook's), per contract;
* :func:`atm_term_structure` and :func:`smile`: views of that table;
* :func:`decisions_table`: the strategies' :class:`~thetacore.decisions.Decision` objects
  (the ones the algorithm journals) as rows with their reason codes and numbers;
* :func:`chain_from_frame`: a :class:`~thetacore.chain.ChainSnapshot` from a chain data frame
  with LEAN's ``OptionChain.data_frame`` column names (QuantBook ``option_chain(symbol,
  flatten=True).data_frame``: ``expiry``, ``strike``, ``right``, ``bidprice``, ``askprice``,
  ``underlyinglastprice``). Written for QuantConnect's research; not run on this machine.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from thetacore.chain import ChainSnapshot
from thetacore.decisions import Decision
from thetacore.enums import ExerciseStyle, Right, Settlement
from thetacore.pricing import PricingModel, greeks, implied_vol


def iv_table(*, expiry: np.ndarray, strike_pts: np.ndarray, right: np.ndarray, price_pts: np.ndarray,
             underlying_pts: float, t_years: np.ndarray, rate_frac: float, yield_frac: float,
             model: PricingModel, stored_iv_frac: np.ndarray, stored_delta: np.ndarray) -> pd.DataFrame:
    """One row per contract: ``our_iv_frac``/``our_delta`` from ``price_pts`` beside
    ``stored_iv_frac``/``stored_delta`` and their differences (all ``(n,)`` arrays in)."""
    iv = implied_vol(model, price_pts, underlying_pts, strike_pts, t_years, rate_frac, yield_frac, right)
    g = greeks(model, underlying_pts, strike_pts, t_years, rate_frac, yield_frac, iv, right)
    return pd.DataFrame({
        "expiry": expiry, "strike_pts": strike_pts, "right": np.where(right > 0, "call", "put"),
        "price_pts": price_pts, "t_years": t_years, "our_iv_frac": iv, "stored_iv_frac": stored_iv_frac,
        "iv_diff_frac": iv - stored_iv_frac, "our_delta": g.delta, "stored_delta": stored_delta,
        "delta_diff": g.delta - stored_delta,
    })


def smile(table: pd.DataFrame, expiry: object, underlying_pts: float) -> pd.DataFrame:
    """The out-of-the-money smile of one expiry: puts below the underlying, calls above,
    ``strike_pts`` -> ``our_iv_frac``/``stored_iv_frac``."""
    one = table[table["expiry"] == expiry]
    otm = one[((one["right"] == "put") & (one["strike_pts"] <= underlying_pts))
              | ((one["right"] == "call") & (one["strike_pts"] > underlying_pts))]
    return otm.sort_values("strike_pts")[["strike_pts", "right", "our_iv_frac", "stored_iv_frac"]]


def atm_term_structure(table: pd.DataFrame, underlying_pts: float) -> pd.DataFrame:
    """At-the-money IV per expiry: the out-of-the-money contract with the strike nearest the
    underlying (``t_years``, ``strike_pts``, ``our_iv_frac``, ``stored_iv_frac``)."""
    rows = []
    for expiry, one in table.groupby("expiry"):
        otm = one[((one["right"] == "put") & (one["strike_pts"] <= underlying_pts))
                  | ((one["right"] == "call") & (one["strike_pts"] > underlying_pts))]
        otm = otm[np.isfinite(otm["our_iv_frac"])]
        if otm.empty:
            continue
        near = otm.iloc[int(np.argmin(np.abs(otm["strike_pts"].to_numpy() - underlying_pts)))]
        rows.append({"expiry": expiry, "t_years": near["t_years"], "strike_pts": near["strike_pts"],
                     "our_iv_frac": near["our_iv_frac"], "stored_iv_frac": near["stored_iv_frac"]})
    return pd.DataFrame(rows)


def decisions_table(decisions: list[Decision]) -> pd.DataFrame:
    """Decisions as rows: time (UTC), strategy, action, reason codes, the reasons' text, and
    the intent's structure and limit when there is one."""
    return pd.DataFrame([{
        "time_utc": d.time_utc, "strategy": d.strategy, "action": d.action.value, "codes": ", ".join(d.codes),
        "reasons": d.reason_text,
        "structure": d.intent.structure.describe() if d.intent else "",
        "limit_pts": d.intent.limit_pts if d.intent else np.nan,
    } for d in decisions])


def chain_from_frame(frame: pd.DataFrame, *, root: str, time_utc: datetime, multiplier_usd_per_pt: float,
                     style: ExerciseStyle, settlement: Settlement, underlying_symbol: str) -> ChainSnapshot:
    """A chain snapshot from an ``OptionChain.data_frame``-like frame (see the module docstring).

    Symbols are built OSI-like (``SPXW 230623C04400000``); a missing bid or ask stays NaN.

    Raises:
        KeyError: naming a missing column.
    """
    need = ["expiry", "strike", "right", "bidprice", "askprice", "underlyinglastprice"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise KeyError(f"chain frame lacks column(s) {', '.join(missing)}")
    expiry = pd.to_datetime(frame["expiry"]).to_numpy().astype("datetime64[D]")
    right = np.array([Right.CALL if str(r).lower().startswith(("c", "1")) and str(r) != "-1" else Right.PUT
                      for r in frame["right"]], dtype=np.int8)
    strike = frame["strike"].to_numpy(dtype=float)
    symbols = np.array([f"{root} {pd.Timestamp(e):%y%m%d}{'C' if r > 0 else 'P'}{round(k * 1000):08d}"
                        for e, r, k in zip(expiry, right, strike, strict=True)])
    n = len(frame)
    stamp = np.datetime64(time_utc.replace(tzinfo=None), "ms")
    return ChainSnapshot(
        root, time_utc, multiplier_usd_per_pt, style, settlement, symbols, np.full(n, underlying_symbol),
        frame["underlyinglastprice"].to_numpy(dtype=float), strike, expiry, right,
        frame["bidprice"].to_numpy(dtype=float), frame["askprice"].to_numpy(dtype=float), np.full(n, stamp))
