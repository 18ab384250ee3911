"""LEAP put ladder on SPY (docs/strategy-rules.md, "LEAP puts").

Rung: each Monday (``leap_put_weekday``) at ``leap_put_time_et`` SELL one put (ratio -1; a
LEAP put is never bought) of the expiry nearest 365 DTE within 300-430 DTE, at the strike
whose |delta| is nearest 0.13 within 0.12-0.14. Rules checked, each refusal a reason with
its numbers:

* at most ``leap_put_max_rungs`` (10) rungs open or pending (``MAX_RUNGS``); one weekly rung
  per calendar week (``ALREADY_THIS_WEEK``: a host that re-runs Monday's decision does not
  sell twice);
* concentration: rungs may share an expiry (the same-expiry rule is about LT112s only) and
  the ladder counts as ONE bullish program in the gate's cap (:mod:`risk.concentration`);
* event avoidance (reference "Event avoidance"): no new rung when a listed SPY event falls
  today or within the next ``event_avoid_trading_days`` (2) trading days
  (``EVENT_IN_WINDOW``); events later in the rung's year do not block it;
* equity options trade 09:30-16:00 ET; quotes older than ``max_quote_age_min`` are stale.

Exits, checked in this order at each management check:

* roll at 150 DTE (``leap_put_roll_dte``) whatever the P&L: the rung is closed (the P&L at mid
  is in the decision, the realised P&L in :attr:`LeapPuts.realized_pnl_pts` and the
  position's notes) and, once the close has filled, the next management check sells a
  replacement rung by the same rules (minus the Monday and once-a-week rules); a declined
  replacement is not retried, the ladder refills through the Monday rule;
* take profit once 30% of the credit is captured (cost to close at mid <= 70% of credit).

Pricing: IV and greeks from mids with Black-Scholes (European) and a constant dividend yield;
SPY options are American, and a deep in-the-money put's early-exercise value is ignored (the
rungs are 12-14 delta, far out of the money, where the difference is small).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import numpy as np

from strategies.base import MarketContext, PositionState, Strategy, StrategyPosition, Subscription
from strategies.combo_limits import combo_limit
from strategies.single_leg import (
    buyback_cost_pts,
    close_decision,
    quote_reasons,
    session_reasons,
    single_leg,
    spot_pts,
)
from thetacore.chain import ChainSnapshot
from thetacore.chain_greeks import expiry_greeks
from thetacore.decisions import Decision, OrderIntent, Reason
from thetacore.durable_state import Fields, StateError, nan_to_null
from thetacore.enums import Action, IntentPurpose, Right
from thetacore.events import entry_event_block
from thetacore.margin import RegTRates, buying_power_pts
from thetacore.parameters import Parameters
from thetacore.products import product
from thetacore.schedule import DailyAt, EveryMinutes, ScheduleRule
from thetacore.selection import choose_by_delta, choose_expiry
from thetacore.structures import QuoteError

RUNG = "rung"
MANAGE = "manage"
RUNG_CONTRACTS = 1  # rules: one put per rung


class LeapPuts(Strategy):
    """Ladder of short LEAP puts; see the module docstring for the rules."""

    name = "leap_puts"

    def __init__(self, params: Parameters, *, dividend_yield_frac: float | None = None) -> None:
        super().__init__()
        self.p = params
        self.product = product(params.leap_put_underlying)
        self.yield_frac = params.leap_put_dividend_yield_frac if dividend_yield_frac is None else dividend_yield_frac
        self.weekly_rung_week: dict[str, tuple[int, int]] = {}
        self.pending_rolls: list[str] = []
        self.realized_pnl_pts: dict[str, float] = {}

    # ----- durable state ----------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        """``weekly_rung_week``: rung id -> [ISO year, ISO week] it was sold in;
        ``pending_rolls``: rolled rung ids waiting for their replacement, in order;
        ``realized_pnl_pts``: closed rung id -> realized P&L per contract (points)."""
        return {"weekly_rung_week": {pid: list(w) for pid, w in self.weekly_rung_week.items()},
                "pending_rolls": list(self.pending_rolls), "realized_pnl_pts": nan_to_null(self.realized_pnl_pts)}

    def read_extra_state(self, extra: Fields, positions: dict[str, StrategyPosition]) -> Callable[[], None]:
        """Check and apply :meth:`extra_state`."""
        weeks_in = extra.obj("weekly_rung_week")
        weeks: dict[str, tuple[int, int]] = {}
        for pid in weeks_in.names():
            pair = weeks_in.items(pid)
            if len(pair) != 2 or not all(isinstance(x, int) and not isinstance(x, bool) for x in pair):
                raise StateError(weeks_in.at(pid), f"expected [ISO year, ISO week], got {pair!r}")
            weeks[pid] = (pair[0], pair[1])
        rolls, realized = extra.strings("pending_rolls"), extra.number_map("realized_pnl_pts", null_is_nan=True)

        def apply() -> None:
            self.weekly_rung_week, self.pending_rolls, self.realized_pnl_pts = weeks, rolls, realized
        return apply

    # ----- host-facing declarations ----------------------------------------------------
    def schedules(self) -> list[ScheduleRule]:
        return [DailyAt(RUNG, self.p.leap_put_time_et),
                EveryMinutes(MANAGE, self.p.leap_put_manage_interval_min, self.p.leap_put_manage_start_et,
                             self.p.leap_put_manage_end_et)]

    def subscription(self) -> Subscription:
        """Single LEAP contracts at hour resolution (the host keeps held rungs subscribed
        after they leave the entry window)."""
        return Subscription(self.p.leap_put_underlying, "equity_option", self.p.leap_put_dte_min,
                            self.p.leap_put_dte_max, self.p.leap_put_filter_strike_range_frac,
                            resolution="hour", contracts_only=True)

    def handlers(self) -> dict[str, Callable[[MarketContext], list[Decision]]]:
        return {RUNG: lambda ctx: [self.rung_decision(ctx)], MANAGE: self.manage}

    # ----- entry -----------------------------------------------------------------------
    def rung_decision(self, ctx: MarketContext, replacing: str | None = None) -> Decision:
        """Sell one rung (a roll's replacement when ``replacing`` names the rolled rung), or
        decline with every unmet rule and its numbers."""
        p = self.p
        reasons: list[Reason] = [] if replacing else self._calendar_reasons(ctx.today_et)
        details: dict[str, object] = {"replaces": replacing} if replacing else {}
        live = self.open_positions()
        if len(live) >= p.leap_put_max_rungs:
            reasons.append(Reason("MAX_RUNGS", f"{len(live)} rungs open or pending >= {p.leap_put_max_rungs}"))
        reasons += session_reasons(ctx)
        if ctx.chain is None or len(ctx.chain) == 0:
            return self._decide(ctx, reasons + [Reason("NO_CHAIN", ctx.chain_problem or "no option chain")], details)
        expiry = self._expiry(ctx.chain, ctx.today_et, reasons, details)
        if expiry is None:
            return self._decide(ctx, reasons, details)
        # every rule below reads the chosen expiry only: its greeks alone (issue 10)
        chain = expiry_greeks(ctx.chain, expiry, model=self.product.model, rate_frac=ctx.rate_frac,
                              yield_frac=self.yield_frac, expiry_time_et=self.product.expiry_time_et)
        # reference "Event avoidance": only events within the next trading days block a
        # one-year rung, not events later in its life
        event = entry_event_block(ctx.today_et, expiry, ctx.event_dates, trading_days=p.event_avoid_trading_days,
                                  short_dte_days=p.event_avoid_short_dte_days) if p.event_avoidance_enabled else None
        if event is not None:
            reasons.append(Reason("EVENT_IN_WINDOW", f"event on {event.isoformat()} within "
                                  f"{p.event_avoid_trading_days} trading days of {ctx.today_et.isoformat()}"))
        put = choose_by_delta(chain, expiry, Right.PUT, p.leap_put_delta_target, p.leap_put_delta_min,
                              p.leap_put_delta_max)
        if put is None:
            return self._decide(ctx, reasons + [Reason("NO_PUT_DELTA", f"no put with a computable delta at "
                                                       f"{expiry.isoformat()}")], details)
        details.update(put_strike_pts=put.strike_pts, put_abs_delta=round(put.abs_delta, 4))
        if not put.in_band:
            reasons.append(Reason("NO_PUT_IN_BAND", f"no put within {p.leap_put_delta_min:.2f}-"
                                  f"{p.leap_put_delta_max:.2f} delta at {expiry.isoformat()}; nearest "
                                  f"{put.strike_pts:g} at {put.abs_delta:.2f} delta"))
        structure = single_leg(chain, put.index, -1, self.product)
        reasons += quote_reasons(structure, chain, ctx, p.max_quote_age_min)
        if reasons:
            return self._decide(ctx, reasons, details)
        limit = combo_limit(structure, chain, self.product, p.order_limit_toward_far_frac, details)
        if limit >= 0:
            return self._decide(ctx, [Reason("NO_CREDIT", f"net price {limit:+.2f} pts is not a credit")], details)
        bp_pts = buying_power_pts(structure, chain, net_price_pts=limit, scan_range_frac=p.futures_scan_range_frac,
                                  t_years=0.0, rate_frac=ctx.rate_frac, reg_t=RegTRates.from_parameters(p))
        details["buying_power_usd"] = round(bp_pts * chain.multiplier_usd_per_pt * RUNG_CONTRACTS, 2)
        pid = f"{self.name}-{ctx.time_utc:%Y%m%dT%H%M}"
        intent = OrderIntent(self.name, IntentPurpose.OPEN, structure, RUNG_CONTRACTS, limit, pid, tag=f"{pid} open")
        self.positions[pid] = StrategyPosition(pid, structure, RUNG_CONTRACTS, PositionState.OPENING)
        if replacing is None:
            self.weekly_rung_week[pid] = ctx.today_et.isocalendar()[:2]
        what = f"replace rolled {replacing}: " if replacing else ""
        text = (f"{what}sell {structure.describe()} {details['dte_days']} DTE at {put.abs_delta:.3f} delta "
                f"({details['expiry_criterion']}); limit {limit:+.2f} pts")
        return Decision(ctx.time_utc, self.name, Action.ENTERED, (Reason("ENTRY", text),), intent, details)

    def _calendar_reasons(self, today: date) -> list[Reason]:
        """The Monday rule and the once-a-week rule (weekly rungs only, not roll replacements)."""
        wd, out = self.p.leap_put_weekday, []
        if wd >= 0 and today.weekday() != wd:
            out.append(Reason("NOT_RUNG_DAY", f"{today.isoformat()} is a {today:%A}; rungs are sold on weekday "
                              f"{wd} (0=Mon)"))
        week = today.isocalendar()[:2]
        same = [pid for pid, w in self.weekly_rung_week.items()
                if w == week and not self.positions[pid].exit_reason.startswith("never opened")]
        if same:
            out.append(Reason("ALREADY_THIS_WEEK", f"rung {same[0]} already sold in ISO week {week[0]}-W{week[1]:02d}"))
        return out

    def _expiry(self, chain: ChainSnapshot, today: date, reasons: list[Reason],
                details: dict[str, object]) -> date | None:
        """Expiry nearest the DTE target in the window (rungs may share it)."""
        p = self.p
        exp = choose_expiry(chain, today, p.leap_put_dte_target, p.leap_put_dte_min, p.leap_put_dte_max)
        if exp is None:
            reasons.append(Reason("NO_EXPIRY", "chain holds no unexpired contract"))
            return None
        window = f"{p.leap_put_dte_min}-{p.leap_put_dte_max} DTE"
        if not exp.in_window:
            reasons.append(Reason("NO_EXPIRY_IN_WINDOW", f"no expiry within {window}; nearest "
                                  f"{exp.expiry.isoformat()} at {exp.dte_days} DTE"))
            return None
        # rungs may share an expiry (issue 11: the same-expiry rule is about LT112s only)
        criterion = f"nearest {p.leap_put_dte_target} DTE in {window}"
        expiry = exp.expiry
        details.update(expiry=expiry.isoformat(), dte_days=(expiry - today).days, expiry_criterion=criterion)
        return expiry

    # ----- management --------------------------------------------------------------------
    def manage(self, ctx: MarketContext) -> list[Decision]:
        """Roll at 150 DTE, take profit at 30%; then replacements of rungs rolled since."""
        far = self.p.order_limit_toward_far_frac
        out = self.exit_decisions(ctx, lambda pos: self._exit_reason(pos, ctx),
                                  lambda pos, reason: close_decision(self.name, pos, ctx, reason, far, self.product))
        while self.pending_rolls:
            out.append(self.rung_decision(ctx, replacing=self.pending_rolls.pop(0)))
        return out

    def _exit_reason(self, pos: StrategyPosition, ctx: MarketContext) -> Reason | None:
        p, leg = self.p, pos.structure.legs[0]
        dte = (leg.expiry - ctx.today_et).days
        try:
            cost, basis = buyback_cost_pts(pos.structure, ctx.chain) if ctx.chain is not None else (np.nan, "")
        except QuoteError:
            cost, basis = float("nan"), ""
        pnl = pos.credit_pts - cost
        if dte <= p.leap_put_roll_dte:
            money = (f"P&L at {basis} {pnl:+.2f} pts (${pnl * pos.structure.multiplier_usd_per_pt:+,.0f}): "
                     f"credit {pos.credit_pts:.2f}, cost to close {cost:.2f}") if np.isfinite(cost) else \
                "P&L unknown (no quote)"
            return Reason("ROLL", f"{dte} DTE <= {p.leap_put_roll_dte}: rolling whatever the P&L; {money}")
        if not np.isfinite(cost):
            return Reason("NO_QUOTES", f"cannot value {pos.position_id}: {ctx.chain_problem or 'no quote'} "
                          f"(spot {spot_pts(ctx, ctx.chain):.2f})")
        captured = pnl / pos.credit_pts if pos.credit_pts > 0 else 0.0
        if captured >= p.leap_put_take_profit_frac:
            return Reason("TAKE_PROFIT", f"captured {captured:.0%} of the {pos.credit_pts:.2f} pt credit (cost to "
                          f"close {cost:.2f} pts at {basis}) >= {p.leap_put_take_profit_frac:.0%}")
        return None

    def on_filled(self, intent: OrderIntent, fill_net_pts: float, time_utc: datetime) -> None:
        """Book-keeping of the base class, plus the realised P&L of a close and the roll's
        replacement request once a rolled rung's close has filled."""
        super().on_filled(intent, fill_net_pts, time_utc)
        if intent.purpose is not IntentPurpose.CLOSE:
            return
        pos = self.positions[intent.position_id]
        pnl = pos.credit_pts - fill_net_pts
        self.realized_pnl_pts[pos.position_id] = pnl
        pos.notes.append(f"closed {pos.exit_reason}: P&L {pnl:+.2f} pts "
                         f"(${pnl * pos.structure.multiplier_usd_per_pt * pos.quantity:+,.2f})")
        if pos.exit_reason == "ROLL":
            self.pending_rolls.append(pos.position_id)

    def _decide(self, ctx: MarketContext, reasons: list[Reason], details: dict[str, object]) -> Decision:
        return Decision(ctx.time_utc, self.name, Action.DECLINED, tuple(reasons), None, details)
