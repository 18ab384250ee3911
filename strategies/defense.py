"""The 21-DTE defensive rule for every undefined-risk or multi-week position.

Rule (docs/strategy-rules.md, "Defensive rule for every undefined-risk or multi-week
position"): at ``defense_dte`` (21) days to expiry, close the position if it is profitable,
close it if a short strike is threatened (tested), otherwise review it (an alert) and close
it by ``defense_close_by_dte`` (14, a project default).

Checked in this order once the position is at or below ``defense_dte``:

1. ``DEFENSE_PROFIT`` (close): mark-to-mid P&L per unit > 0, i.e. the structure's net mid
   now minus its entry net price (LEAN sign) is positive;
2. ``DEFENSE_TESTED`` (close): the underlying of a short leg is at or through its strike or
   within ``defense_tested_frac`` of it (put: ``u <= K x (1 + frac)``; call:
   ``u >= K x (1 - frac)``);
3. ``DEFENSE_CLOSE_BY`` (close): at or below ``defense_close_by_dte`` whatever the P&L;
4. ``DEFENSE_UNPRICED`` (hold, every check): the P&L or the underlying cannot be read, so
   the review cannot conclude; missing data never passes as "kept";
5. ``DEFENSE_REVIEW`` (hold, alert once): neither profitable nor tested; kept, with the date
   by which it will be closed. Once a position has been reviewed (``reviewed=True``) the
   rule returns ``None`` until a closing condition appears.

The function is pure: it reads a :class:`StrategyPosition` and a :class:`MarketContext` and
returns a verdict; the caller owns the order and remembers which positions it reviewed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from strategies.base import MarketContext, StrategyPosition
from thetacore.decisions import Reason
from thetacore.enums import Right
from thetacore.legs import OptionLeg
from thetacore.parameters import Parameters
from thetacore.structures import QuoteError, UnderlyingKind

CLOSE_CODES = ("DEFENSE_PROFIT", "DEFENSE_TESTED", "DEFENSE_CLOSE_BY")


@dataclass(frozen=True)
class DefenseVerdict:
    """What the defensive rule says about one position.

    Attributes:
        reason: the rule that fired, with its numbers.
        close: True to close everything that remains now; False for an alert (hold).
        pnl_pts: mark-to-mid P&L per unit in points, NaN when it cannot be read.
    """

    reason: Reason
    close: bool
    pnl_pts: float = float("nan")


def position_dte(pos: StrategyPosition, today: date) -> int:
    """Calendar days from ``today`` to the position's (earliest) expiry."""
    return (min(leg.expiry for leg in pos.structure.legs) - today).days


def mark_pnl_pts(pos: StrategyPosition, ctx: MarketContext) -> tuple[float, str]:
    """``(P&L per unit in points, problem)``: net mid now minus the entry net (LEAN sign);
    NaN with the problem when there is no chain, no entry price or no usable quote."""
    if pos.entry_net_pts is None:
        return float("nan"), f"{pos.position_id} has no entry price"
    chain = ctx.chain_for(leg.symbol for leg in pos.structure.legs)  # ES, or MES when moved (issue 11)
    if chain is None:
        return float("nan"), ctx.chain_problem or "no option chain"
    try:
        return pos.structure.net_mid_pts(chain) - pos.entry_net_pts, ""
    except QuoteError as exc:
        return float("nan"), str(exc)


def leg_underlying_pts(leg: OptionLeg, ctx: MarketContext) -> float:
    """The price of what ``leg`` is written on: its chain row's underlying (the future of a
    futures option), else the context's underlying price; NaN when neither is known."""
    chain = ctx.chain_for([leg.symbol])
    if chain is not None:
        try:
            u = float(chain.underlying_pts[chain.index_of(leg.symbol)])
        except KeyError:
            u = float("nan")
        if math.isfinite(u):
            return u
    return float(ctx.underlying_pts)


def tested_short(pos: StrategyPosition, ctx: MarketContext, tested_frac: float) -> tuple[Reason | None, str]:
    """``(DEFENSE_TESTED reason or None, problem)`` over the position's short legs, the
    short nearest the money first; ``problem`` names a short leg with no underlying price."""
    name = "future" if pos.structure.underlying_kind is UnderlyingKind.FUTURE else "underlying"
    problem = ""
    for leg in sorted((x for x in pos.structure.legs if x.is_short), key=lambda x: int(x.right) * x.strike_pts):
        u = leg_underlying_pts(leg, ctx)
        if not math.isfinite(u):
            problem = f"no {name} price for short {_strike(leg)}"
            continue
        if leg.right is Right.PUT:
            line = leg.strike_pts * (1 + tested_frac)
            hit, side = u <= line, "at or below"
        else:
            line = leg.strike_pts * (1 - tested_frac)
            hit, side = u >= line, "at or above"
        if hit:
            return Reason("DEFENSE_TESTED", f"short {_strike(leg)} tested, {name} {u:.2f} within "
                          f"{tested_frac:.1%} of the strike or beyond ({side} {line:.2f})"), ""
    return None, problem


def defense_review(pos: StrategyPosition, ctx: MarketContext, p: Parameters, *,
                   reviewed: bool = False) -> DefenseVerdict | None:
    """Apply the defensive rule to ``pos`` at ``ctx`` (see the module docstring).

    Args:
        pos: an open position (its ``structure`` is what remains held).
        ctx: the market now; the chain values the legs and gives each leg's underlying.
        p: parameters ``defense_dte``, ``defense_close_by_dte``, ``defense_tested_frac``.
        reviewed: True when this position already had its ``DEFENSE_REVIEW`` alert.

    Returns:
        ``None`` before ``defense_dte`` (or when already reviewed and nothing changed),
        else a :class:`DefenseVerdict`.
    """
    dte = position_dte(pos, ctx.today_et)
    if dte > p.defense_dte:
        return None
    at = f"{dte} DTE <= {p.defense_dte}"
    pnl, pnl_problem = mark_pnl_pts(pos, ctx)
    if np.isfinite(pnl) and pnl > 0:
        return DefenseVerdict(Reason("DEFENSE_PROFIT", f"{at}: {pos.position_id} profitable by {pnl:+.2f} "
                                     f"pts per unit (entry {pos.entry_net_pts:+.2f}, mid now "
                                     f"{pnl + (pos.entry_net_pts or 0.0):+.2f}) at {dte} DTE"), True, pnl)
    tested, under_problem = tested_short(pos, ctx, p.defense_tested_frac)
    if tested is not None:
        return DefenseVerdict(tested, True, pnl)
    pnl_text = f"P&L {pnl:+.2f} pts per unit" if np.isfinite(pnl) else f"P&L unknown ({pnl_problem})"
    if dte <= p.defense_close_by_dte:
        return DefenseVerdict(Reason("DEFENSE_CLOSE_BY", f"{dte} DTE <= close-by {p.defense_close_by_dte}: "
                                     f"closing {pos.position_id}, {pnl_text}"), True, pnl)
    if pnl_problem or under_problem:
        return DefenseVerdict(Reason("DEFENSE_UNPRICED", f"{at}: cannot review {pos.position_id}: "
                                     f"{pnl_problem or under_problem}"), False, pnl)
    if reviewed:
        return None
    by = ctx.today_et + timedelta(days=dte - p.defense_close_by_dte)
    return DefenseVerdict(Reason("DEFENSE_REVIEW", f"{at}: {pos.position_id} neither profitable ({pnl_text}) "
                                 f"nor tested; kept, close by {p.defense_close_by_dte} DTE "
                                 f"({by.isoformat()})"), False, pnl)


def _strike(leg: OptionLeg) -> str:
    return f"{leg.strike_pts:g}{'C' if leg.right is Right.CALL else 'P'}"
