"""Maximum risk per trade (docs/strategy-rules.md, "Risk": 2% of NLV, hard cap 5%).

Risk of one structure unit, USD:

* defined risk: the structure's maximum loss at expiry,
  ``Structure.max_loss_pts(limit) x multiplier`` (the host passes it per unit);
* undefined risk (``max_loss`` is None: net short calls, or several expiries): our
  margin-based stress loss, the buying power of :func:`thetacore.margin.buying_power_pts`
  (Reg-T for index/equity options, the scan-range worst loss for futures options).

Reading of the two numbers (documented choice): ``max_risk_per_trade_frac`` (2%) is the
sizing cap: units = floor(2% x NLV / risk per unit); ``max_risk_per_trade_hard_frac`` (5%)
is the refusal line. When even one unit risks more than 2% but not more than 5%, one unit
is allowed (sizing's "at least 1 contract when 1 contract passes every limit", the hard cap
being the limit) and the verdict notes ``TRADE_RISK_ABOVE_TARGET``; above 5% the order is
refused with ``TRADE_RISK_HARD``.
"""

from __future__ import annotations

import math

from thetacore.decisions import Reason
from thetacore.parameters import Parameters

_EPS = 1e-9


def risk_per_unit_usd(max_loss_usd_per_unit: float | None, bp_usd_per_unit: float) -> tuple[float, str]:
    """``(risk USD per unit, basis text)``: max loss when defined, else the margin stress loss."""
    if max_loss_usd_per_unit is not None:
        return max_loss_usd_per_unit, "max loss"
    return bp_usd_per_unit, "margin stress loss"


def risk_target_units(risk_usd_per_unit: float, nlv_usd: float, p: Parameters) -> int | None:
    """Most units within ``max_risk_per_trade_frac`` of NLV; None for a riskless unit."""
    if risk_usd_per_unit <= 0:
        return None
    return max(0, math.floor(p.max_risk_per_trade_frac * nlv_usd / risk_usd_per_unit + _EPS))


def hard_cap_reason(risk_usd_per_unit: float, basis: str, nlv_usd: float, p: Parameters) -> Reason | None:
    """``TRADE_RISK_HARD`` when one unit risks more than the hard cap of NLV."""
    frac = risk_usd_per_unit / nlv_usd
    if frac <= p.max_risk_per_trade_hard_frac + _EPS:
        return None
    return Reason("TRADE_RISK_HARD", f"1 unit {basis} {risk_usd_per_unit:,.0f} USD = {frac:.2%} of NLV "
                  f"{nlv_usd:,.0f} > hard cap {p.max_risk_per_trade_hard_frac:.2%}")


def risk_cap_reason(asked: int, target: int, risk_usd_per_unit: float, basis: str, nlv_usd: float,
                    p: Parameters) -> Reason:
    """``TRADE_RISK`` (the 2% cap cuts ``asked`` to ``target`` >= 1) or
    ``TRADE_RISK_ABOVE_TARGET`` (``target`` is 0: one unit, above 2% but within the hard cap)."""
    if target == 0:
        frac = risk_usd_per_unit / nlv_usd
        return Reason("TRADE_RISK_ABOVE_TARGET", f"1 unit {basis} {risk_usd_per_unit:,.0f} USD = {frac:.2%} "
                      f"of NLV {nlv_usd:,.0f} > {p.max_risk_per_trade_frac:.2%} target, <= hard cap "
                      f"{p.max_risk_per_trade_hard_frac:.2%}: 1 unit at most")
    over = target + 1
    frac = over * risk_usd_per_unit / nlv_usd
    return Reason("TRADE_RISK", f"asked {asked}, {target} fit: {over} x {basis} {risk_usd_per_unit:,.0f} USD = "
                  f"{frac:.2%} of NLV {nlv_usd:,.0f} > {p.max_risk_per_trade_frac:.2%}")
