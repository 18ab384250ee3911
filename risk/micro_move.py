"""A 1-contract entry under the drawdown halve step, moved to the micro product.

Rule (docs/strategy-rules.md, "Risk", drawdown row): "-10%: halve new position sizes (a
1-contract entry moves to the micro product where one exists, else it is refused)". The
micro of ES is MES (:func:`risk.sizing.micro_root`): the same strikes and expiry, a tenth of
the multiplier (CME: ES options 50 USD per point, MES options 5 USD per point).

:func:`micro_intent` builds the micro entry from the micro's chain: every leg's right, strike
and expiry must be quoted there (else None: the gate's ``DRAWDOWN_HALVE_MICRO`` refusal
stands). It asks ``multiplier / micro multiplier`` units (10 MES for 1 ES), so that the gate's
halving gives half the ES exposure (5 MES) and every other limit is checked on the micro
entry itself. :func:`review_on_micro` is the host-independent step a host runs after such a
refusal when it has the micro's chain: the moved entry through the gate, with Kelly's
one-unit minimum counted in ES units (``unit_scale`` 10).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import numpy as np

from risk.gate import GateAction, GateVerdict
from risk.gate_session import GateSession
from strategies.base import MarketContext
from thetacore.chain import ChainSnapshot
from thetacore.decisions import Decision, OrderIntent


def micro_intent(intent: OrderIntent, micro_chain: ChainSnapshot) -> OrderIntent | None:
    """``intent`` on ``micro_chain`` (same rights, strikes, expiries; same limit in points),
    asking ``intent.quantity x multiplier / micro multiplier`` units; None when a leg has no
    row in ``micro_chain`` or the multipliers are not a whole ratio."""
    s = intent.structure
    ratio = s.multiplier_usd_per_pt / micro_chain.multiplier_usd_per_pt
    if ratio < 1 or abs(ratio - round(ratio)) > 1e-9:
        return None
    legs = []
    for leg in s.legs:
        hit = np.flatnonzero((micro_chain.right == int(leg.right)) & (micro_chain.strike_pts == leg.strike_pts)
                             & (micro_chain.expiry == np.datetime64(leg.expiry, "D")))
        if len(hit) == 0:
            return None
        i = int(hit[0])
        legs.append(replace(leg, symbol=str(micro_chain.symbol[i]),
                            underlying_symbol=str(micro_chain.underlying_symbol[i])))
    micro = replace(s, legs=tuple(legs), multiplier_usd_per_pt=micro_chain.multiplier_usd_per_pt)
    return replace(intent, structure=micro, quantity=intent.quantity * round(ratio))


def review_on_micro(session: GateSession, decision: Decision, verdict: GateVerdict, ctx: MarketContext,
                    micro_chain: ChainSnapshot | None, *, micro_margin_usd: float, vix_prev_close: float,
                    now_utc: datetime, nlv_usd: float | None = None) -> tuple[Decision, GateVerdict] | None:
    """The gate's verdict on ``decision``'s entry moved to the micro, when ``verdict`` refused
    it only because the halve step cut its 1 unit to 0 (``DRAWDOWN_HALVE_MICRO``); None when
    it did not, or when ``micro_chain`` is None or lacks a leg (the refusal stands).

    The micro entry (:func:`micro_intent`: 10 MES for 1 ES) is reviewed as an entry of its
    own (:meth:`risk.gate_session.GateSession.review`: every limit on the micro's own quotes,
    buying power and risk, booked when approved) in a context of the micro's chain, its
    underlying (the first leg's future) and its exchange margin ``micro_margin_usd`` (USD per
    micro future, NaN: the scan parameter); ``unit_scale`` is the ratio, so that Kelly's one
    unit before ``kelly_min_trades`` is one ES's worth (10 MES) and the halve step gives
    ``floor(10 / 2)`` = 5 MES, half the ES exposure (rule: docs/strategy-rules.md, "Loss
    limits and drawdown"). Returns the moved decision (same position id) and its verdict.
    """
    intent = decision.intent
    if intent is None or verdict.action is not GateAction.REFUSE or verdict.codes != ("DRAWDOWN_HALVE_MICRO",):
        return None
    moved = micro_intent(intent, micro_chain) if micro_chain is not None else None
    if moved is None or micro_chain is None:
        return None
    row = micro_chain.symbol_index()[moved.structure.legs[0].symbol]
    micro_ctx = MarketContext(ctx.time_utc, ctx.today_et, micro_chain, ctx.rate_frac, "", ctx.underlying_daily,
                              float(micro_chain.underlying_pts[row]), ctx.vix_level, ctx.nlv_usd, ctx.event_dates,
                              ctx.vix_daily, micro_margin_usd)
    moved_decision = replace(decision, intent=moved)
    scale = moved.quantity // intent.quantity
    return moved_decision, session.review(moved_decision, micro_ctx, vix_prev_close=vix_prev_close, now_utc=now_utc,
                                          nlv_usd=nlv_usd, unit_scale=scale)
