"""Buying power of a structure on a snapshot, computed once per snapshot and inputs.

A strategy reports the buying power of its entry and the gate recomputes it from the same
rows (:mod:`risk.gate_session`): :func:`thetacore.margin.buying_power_pts` reads a chain only
through the structure's own leg symbols (quotes, IVs, underlying prices), so two snapshots
holding the same rows for those symbols give the same number. The gate's legs rows
(:func:`risk.gate_session.legs_chain`) share the memo of the per-expiry snapshot they were
cut from, so the second computation is a dictionary lookup of the first one's result.
"""

from __future__ import annotations

from typing import Any

from thetacore.chain import ChainSnapshot
from thetacore.margin import REG_T_DEFAULT, RegTRates, buying_power_pts
from thetacore.parameters import Parameters
from thetacore.span_margin import DEFAULT_SHORT_MINIMUM_FRAC, DEFAULT_VOL_SCAN_FRAC
from thetacore.structures import Structure

__all__ = ["MEMO_KEY", "chain_buying_power_pts"]

MEMO_KEY = "buying_power_pts"
"""Key of the memo dict in :attr:`ChainSnapshot.derived`."""


def chain_buying_power_pts(
    structure: Structure,
    chain: ChainSnapshot,
    *,
    net_price_pts: float,
    scan_range_frac: float,
    t_years: float,
    rate_frac: float,
    vol_scan_frac: float = DEFAULT_VOL_SCAN_FRAC,
    short_minimum_frac: float = DEFAULT_SHORT_MINIMUM_FRAC,
    reg_t: RegTRates = REG_T_DEFAULT,
) -> float:
    """:func:`thetacore.margin.buying_power_pts` (points per unit), remembered on ``chain``.

    The memo key is every argument but the chain (whose rows never change); a computation
    that raises is not remembered and raises again on the next call.

    Raises:
        ValueError: as :func:`thetacore.margin.buying_power_pts`.
    """
    memo = chain.derived.setdefault(MEMO_KEY, {})
    assert isinstance(memo, dict)
    key = (structure, net_price_pts, scan_range_frac, t_years, rate_frac, vol_scan_frac, short_minimum_frac, reg_t)
    hit = memo.get(key)
    if isinstance(hit, float):
        return hit
    out = float(buying_power_pts(structure, chain, net_price_pts=net_price_pts, scan_range_frac=scan_range_frac,
                                 t_years=t_years, rate_frac=rate_frac, vol_scan_frac=vol_scan_frac,
                                 short_minimum_frac=short_minimum_frac, reg_t=reg_t))
    memo[key] = out
    return out


def margin_settings(p: Parameters) -> dict[str, Any]:
    """The margin keywords of :func:`chain_buying_power_pts` that come from parameters
    (``futures_vol_scan_frac``, ``futures_short_option_minimum_frac``, the ``regt_*`` rates), so
    that a strategy, the gate's review and the gate's BP re-marks margin alike."""
    return {"vol_scan_frac": p.futures_vol_scan_frac, "short_minimum_frac": p.futures_short_option_minimum_frac,
            "reg_t": RegTRates.from_parameters(p)}
