"""Buying power in use re-marked with current margin at every account (NLV) mark.

Rule (docs/strategy-rules.md, "Risk": "BP in use is re-marked with current margin at every
account mark, not frozen at entry"). Each booked position's buying power is recomputed from
the current validated mids of its legs and of their underlyings, by the same formulas as at
entry (:func:`thetacore.chain_margin.chain_buying_power_pts` -> :func:`thetacore.margin.buying_power_pts`;
futures legs get their IV from the current mid, :func:`thetacore.chain_greeks.with_greeks`, so a
VIX spike that lifts premiums lifts the futures scan too). The net price is the structure's
current net mid (LEAN sign: + debit), so a credit spread needs its width less its current
value and a debit spread its current value (Reg-T: a long spread is paid in full).

The mids are the NLV marks' own: validated by :class:`risk.marks.MarkBook` (two-sided,
positive, uncrossed, spread within the cap or floor, at most ``safety_max_quote_age_sec``
old; :meth:`risk.marks.MarkBook.current_mids`), so BP is never re-marked from a quote the NLV
marks reject. A position whose legs or underlying have no validated mid now keeps its last
good buying power (not the legs' last good mids): a missing quote is not zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime

import numpy as np

from thetacore.chain import ChainSnapshot
from thetacore.chain_greeks import expiry_years, with_greeks
from thetacore.chain_margin import chain_buying_power_pts, margin_settings
from thetacore.enums import Right
from thetacore.margin import covered_short_call_bp_pts
from thetacore.parameters import Parameters
from thetacore.products import product
from thetacore.structures import Structure, StructureKind, UnderlyingKind


def mark_symbols(structures: Iterable[Structure]) -> list[str]:
    """Every leg symbol and underlying symbol the marks of ``structures`` read, sorted."""
    return sorted({s for st in structures for leg in st.legs for s in (leg.symbol, leg.underlying_symbol)})


def remark_chain(structure: Structure, root: str, mids: Mapping[str, float], now_utc: datetime) -> ChainSnapshot:
    """A snapshot of ``structure``'s legs quoted at their mids (bid = ask = mid) at ``now_utc``.

    Raises:
        ValueError: naming the first leg or underlying without a finite positive mid.
    """
    for leg in structure.legs:
        for s in (leg.symbol, leg.underlying_symbol):
            m = mids.get(s, math.nan)
            if not (math.isfinite(m) and m > 0):
                raise ValueError(f"no validated mid for {s}")
    prod = product(root)
    legs = structure.legs
    px = np.array([mids[leg.symbol] for leg in legs], dtype=np.float64)
    stamp = np.datetime64(now_utc.replace(tzinfo=None), "ms")
    return ChainSnapshot(
        root=root, time_utc=now_utc, multiplier_usd_per_pt=structure.multiplier_usd_per_pt, style=prod.style,
        settlement=prod.settlement, symbol=np.array([leg.symbol for leg in legs], dtype=object),
        underlying_symbol=np.array([leg.underlying_symbol for leg in legs], dtype=object),
        underlying_pts=np.array([mids[leg.underlying_symbol] for leg in legs], dtype=np.float64),
        strike_pts=np.array([leg.strike_pts for leg in legs], dtype=np.float64),
        expiry=np.array([leg.expiry for leg in legs], dtype="datetime64[D]"),
        right=np.array([int(leg.right) for leg in legs], dtype=np.int8),
        bid_pts=px, ask_pts=px.copy(), quote_time_utc=np.full(len(legs), stamp))


def bp_usd_per_unit(structure: Structure, root: str, chain: ChainSnapshot, *, net_price_pts: float,
                    now_utc: datetime, rate_frac: float, scan_range_frac: float,
                    cover_strike_pts: float | None = None, params: Parameters | None = None) -> float:
    """Buying power of one unit of ``structure`` on ``chain`` in USD, as at entry
    (:meth:`risk.gate_session.GateSession.review`); a short call covered by a long call
    (``cover_strike_pts``: the long's strike) by :func:`thetacore.margin.covered_short_call_bp_pts`.

    ``params``: the margin parameters (:func:`thetacore.chain_margin.margin_settings`; None:
    their defaults).

    Raises:
        ValueError, KeyError: for missing data (no IV, no quote).
    """
    prod = product(root)
    if cover_strike_pts is not None and is_single_short_call(structure):
        leg = structure.legs[0]
        i = chain.index_of(leg.symbol)
        pts = covered_short_call_bp_pts(structure.underlying_kind, leg.strike_pts, cover_strike_pts,
                                        float(chain.underlying_pts[i]), float(chain.mid_pts[i]))
        return pts * -leg.ratio * structure.multiplier_usd_per_pt
    if structure.underlying_kind is UnderlyingKind.FUTURE:
        chain = with_greeks(chain, model=prod.model, rate_frac=rate_frac, yield_frac=0.0,
                            expiry_time_et=prod.expiry_time_et)
    t = expiry_years(min(leg.expiry for leg in structure.legs), now_utc, prod.expiry_time_et)
    pts = chain_buying_power_pts(structure, chain, net_price_pts=net_price_pts, scan_range_frac=scan_range_frac,
                                 t_years=t, rate_frac=rate_frac, **(margin_settings(params) if params else {}))
    return pts * structure.multiplier_usd_per_pt


def is_single_short_call(structure: Structure) -> bool:
    """One short call leg on an index or equity (a futures short call is SPAN-margined)."""
    return (structure.kind is StructureKind.SINGLE and len(structure.legs) == 1
            and structure.legs[0].right is Right.CALL and structure.legs[0].ratio < 0
            and structure.underlying_kind is not UnderlyingKind.FUTURE)
