"""LT112: a put debit spread plus two naked puts, about 120 days out (docs/strategy-rules.md, "LT112").

Entry: on the first Wednesday of the month (``lt112_entry_weekday``/``_nth_weekday``) at
``lt112_entry_time_et``, on the expiry nearest 120 DTE inside ``[lt112_dte_min,
lt112_dte_max]``, one ratio spread (ONE combo, ratios +1 / -1 / -2):

* long put at the listed strike nearest ``lt112_long_put_otm_frac`` (7%) below the
  underlying (the future the expiry is written on, or the index/ETF);
* short put at the listed strike nearest ``lt112_spread_width_pts`` (50) below the long;
* two naked short puts at the listed strike nearest ``lt112_naked_put_otm_frac`` (12%) below
  the underlying (about 5 delta; their delta is recorded, not required).

"Listed" means quoted on both sides at the expiry; a target outside the quoted strikes is a
refusal with its numbers, never a silent substitute. No second LT112 on an expiry already
held (``DUPLICATE_EXPIRY``); for equity underlyings (SPY) no entry across a listed event
(``EVENT_IN_SPAN``). The first Wednesday is taken literally: when it is an exchange holiday
(2020-01-01) the entry schedule does not fire that day and the month has no entry.

Management: buy back the naked puts alone when ``lt112_naked_take_profit_frac`` (90%) of
their credit is captured, keeping the debit spread as the hedge; never roll (this module has
no roll logic at all); from 21 DTE :mod:`strategies.defense` decides for what remains.

Book-keeping for hosts: the naked close is a ``CLOSE`` intent of the same ``position_id``
holding the naked leg only (ratio +1, quantity ``2 x units``). When it fills, the position's
``structure`` becomes the remaining debit spread and its ``entry_net_pts`` becomes the entry
plus the buy-back (``E + 2 x fill``), so ``-(entry + exit) x quantity x multiplier`` stays
the whole trade's realized P&L and the legs held always equal ``structure x quantity``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import numpy as np

from risk.account_phase import account_phase
from risk.phase_products import traded_root
from strategies.base import MarketContext, PositionState, Strategy, StrategyPosition, Subscription
from strategies.combo_limits import combo_limit
from strategies.defense import defense_review
from strategies.entry_calendar import entry_day_reason
from thetacore.chain import ChainSnapshot
from thetacore.chain_greeks import expiry_rows, expiry_rows_greeks, expiry_years
from thetacore.chain_margin import chain_buying_power_pts, margin_settings
from thetacore.decisions import Decision, OrderIntent, Reason
from thetacore.durable_state import Fields, StateError
from thetacore.enums import Action, IntentPurpose, Right
from thetacore.events import first_event_between
from thetacore.legs import OptionLeg
from thetacore.parameters import Parameters
from thetacore.pricing_limits import limit_on_tick
from thetacore.products import OptionProduct, product
from thetacore.schedule import DailyAt, EveryMinutes, ScheduleRule
from thetacore.selection import StrikeChoice, choose_expiry
from thetacore.structures import QuoteError, Structure, StructureKind, UnderlyingKind

NAKED_RATIO = 2  # the rule's structure: 1 / -1 / -2 (docs/strategy-rules.md), not a tunable
ENTRY = "entry"
MANAGE = "manage"
_SUBSCRIPTION_KIND = {UnderlyingKind.FUTURE: "future_option", UnderlyingKind.INDEX: "index_option",
                      UnderlyingKind.EQUITY: "equity_option"}


@dataclass
class NakedLine:
    """The naked short puts of one LT112 position, closed on their own.

    Attributes:
        leg: the naked put as entered (ratio ``-NAKED_RATIO``).
        credit_pts: credit per contract in points: the put's mid at the entry decision
            (hosts report one net fill per combo, not per-leg fills).
        state: OPENING until the entry fills, then OPEN, CLOSING, CLOSED.
        exit_pts: buy-back price per contract when closed on their own.
        close_intent: the working naked-close intent, if any.
    """

    leg: OptionLeg
    credit_pts: float
    state: PositionState = PositionState.OPENING
    exit_pts: float | None = None
    close_intent: OrderIntent | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: the leg, credit and exit in points per contract, state by value,
        the working close intent (or null)."""
        return {"leg": self.leg.to_dict(), "credit_pts": self.credit_pts, "state": self.state.value,
                "exit_pts": self.exit_pts,
                "close_intent": self.close_intent.to_dict() if self.close_intent else None}

    @classmethod
    def from_dict(cls, f: Fields) -> NakedLine:
        """The line :meth:`to_dict` wrote. Raises: StateError naming the bad key path."""
        intent = f.raw("close_intent")
        return cls(OptionLeg.from_dict(f.raw("leg"), f.at("leg")), f.number("credit_pts"),
                   f.enum("state", PositionState), f.opt_number("exit_pts"),
                   None if intent is None else OrderIntent.from_dict(intent, f.at("close_intent")))


class Lt112(Strategy):
    """LT112 ratio spread; see the module docstring for the rules."""

    name = "lt112"

    def __init__(self, params: Parameters) -> None:
        super().__init__()
        self.p = params
        # MES below lt112_es_min_phase, from the phase of the starting cash (issue 11;
        # risk.phase_products.traded_root); the gate refuses LT112 below lt112_min_phase
        phase = account_phase(params.starting_cash_usd, params)
        self.product = product(traded_root(self.name, params.lt112_underlying, phase, params))
        self.naked: dict[str, NakedLine] = {}
        self.reviewed: set[str] = set()

    # ----- durable state ----------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        """``naked``: position id -> its naked line (:meth:`NakedLine.to_dict`); ``reviewed``:
        ids whose defense review already ran."""
        return {"naked": {pid: line.to_dict() for pid, line in self.naked.items()},
                "reviewed": sorted(self.reviewed)}

    def read_extra_state(self, extra: Fields, positions: dict[str, StrategyPosition]) -> Callable[[], None]:
        """Check and apply :meth:`extra_state`; a naked line of an unknown position is an error."""
        lines = extra.obj("naked")
        naked = {pid: NakedLine.from_dict(lines.obj(pid)) for pid in lines.names()}
        for pid in naked:
            if pid not in positions:
                raise StateError(lines.at(pid), f"naked line of a position not in the book: {pid!r}")
        reviewed = set(extra.strings("reviewed"))

        def apply() -> None:
            self.naked, self.reviewed = naked, reviewed
        return apply

    # ----- host-facing declarations ----------------------------------------------------
    def schedules(self) -> list[ScheduleRule]:
        return [DailyAt(ENTRY, self.p.lt112_entry_time_et),
                EveryMinutes(MANAGE, self.p.lt112_manage_interval_min, self.p.lt112_manage_start_et,
                             self.p.lt112_manage_end_et)]

    def subscription(self) -> Subscription:
        return Subscription(self.product.root, _SUBSCRIPTION_KIND[self.product.underlying_kind], 0,
                            self.p.lt112_dte_max, self.p.lt112_filter_strike_range_frac)

    def handlers(self) -> dict[str, Callable[[MarketContext], list[Decision]]]:
        return {ENTRY: lambda ctx: [self.entry_decision(ctx)], MANAGE: self.manage}

    # ----- entry -----------------------------------------------------------------------
    def entry_decision(self, ctx: MarketContext) -> Decision:
        """Evaluate every entry rule at ``ctx`` and return one decision with all reasons."""
        p, reasons = self.p, []
        details: dict[str, object] = {}
        day_reason = entry_day_reason(ctx.today_et, p.lt112_entry_weekday, p.lt112_entry_nth_weekday)
        if day_reason:
            reasons.append(day_reason)
        if ctx.chain is None or len(ctx.chain) == 0:
            reasons.append(Reason("NO_CHAIN", ctx.chain_problem or "no option chain"))
            return self._decide(ctx, reasons, details)
        exp = choose_expiry(ctx.chain, ctx.today_et, p.lt112_dte_target, p.lt112_dte_min, p.lt112_dte_max)
        if exp is None:
            reasons.append(Reason("NO_EXPIRY", "chain holds no unexpired contract"))
            return self._decide(ctx, reasons, details)
        # every rule below reads the chosen expiry only, and picks its puts by strike from the
        # quotes: IV and greeks of the picked puts alone (issue 10; _choose_strikes)
        chain = expiry_rows(ctx.chain, exp.expiry)
        details.update(expiry=exp.expiry.isoformat(), dte_days=exp.dte_days)
        if not exp.in_window:
            reasons.append(Reason("NO_EXPIRY_IN_WINDOW", f"no expiry within {p.lt112_dte_min}-"
                                  f"{p.lt112_dte_max} DTE; nearest {exp.expiry.isoformat()} at "
                                  f"{exp.dte_days} DTE (checked below for information)"))
        reasons += self._concentration_reasons(exp.expiry) + self._event_reasons(ctx, exp.expiry)
        picks, strike_reasons, legs = self._choose_strikes(chain, exp.expiry, ctx, details)
        reasons += strike_reasons
        if picks is None:
            return self._decide(ctx, reasons, details)
        structure = self._ratio_spread(chain, picks, exp.expiry)
        try:
            limit = combo_limit(structure, legs, self.product, p.order_limit_toward_far_frac, details)
            reasons += self._risk_details(structure, legs, limit, ctx, exp.expiry, details)
        except QuoteError as exc:
            reasons.append(Reason("QUOTE_INVALID", str(exc)))
            return self._decide(ctx, reasons, details)
        if reasons:
            return self._decide(ctx, reasons, details)
        return self._enter(ctx, structure, limit, picks, details)

    def _decide(self, ctx: MarketContext, reasons: list[Reason], details: dict[str, object]) -> Decision:
        return Decision(ctx.time_utc, self.name, Action.DECLINED, tuple(reasons), None, details)

    def _enter(self, ctx: MarketContext, structure: Structure, limit: float, picks: tuple[StrikeChoice, ...],
               details: dict[str, object]) -> Decision:
        qty, (long, short, naked) = self.p.lt112_contracts, picks
        pid = f"{self.name}-{ctx.time_utc:%Y%m%dT%H%M}"
        intent = OrderIntent(self.name, IntentPurpose.OPEN, structure, qty, limit, pid, tag=f"{pid} open")
        self.positions[pid] = StrategyPosition(pid, structure, qty, PositionState.OPENING)
        naked_leg = next(leg for leg in structure.legs if leg.ratio == -NAKED_RATIO)
        self.naked[pid] = NakedLine(naked_leg, float(details["naked_credit_pts"]))  # type: ignore[arg-type]
        text = (f"open {structure.describe()} {details['dte_days']} DTE: long {long.strike_pts:g}P, short "
                f"{short.strike_pts:g}P, {NAKED_RATIO} naked {naked.strike_pts:g}P at {naked.abs_delta:.3f} "
                f"delta; limit {limit:+.2f} pts")
        return Decision(ctx.time_utc, self.name, Action.ENTERED, (Reason("ENTRY", text),), intent, details)

    def _concentration_reasons(self, expiry: date) -> list[Reason]:
        held = [pos.position_id for pos in self.open_positions() if pos.structure.legs[0].expiry == expiry]
        if not held:
            return []
        return [Reason("DUPLICATE_EXPIRY", f"LT112 {', '.join(held)} already holds the {expiry.isoformat()} "
                       "expiry; no two LT112 on the same expiry")]

    def _event_reasons(self, ctx: MarketContext, expiry: date) -> list[Reason]:
        if not self.p.event_avoidance_enabled or self.product.underlying_kind is not UnderlyingKind.EQUITY:
            return []
        hit = first_event_between(ctx.today_et, expiry, ctx.event_dates)
        if hit is None:
            return []
        return [Reason("EVENT_IN_SPAN", f"{self.p.lt112_underlying} event on {hit.isoformat()} between "
                       f"{ctx.today_et.isoformat()} and the {expiry.isoformat()} expiry")]

    def _underlying_pts(self, chain: ChainSnapshot, expiry: date, ctx: MarketContext) -> float:
        u = chain.underlying_pts[chain.expiry == np.datetime64(expiry, "D")]
        u = u[np.isfinite(u)]
        if not u.size:
            return float(ctx.underlying_pts)
        lo, hi = float(u.min()), float(u.max())
        return lo if lo == hi else float(np.median(u))  # the median of equal numbers is the number

    def _choose_strikes(self, chain: ChainSnapshot, expiry: date, ctx: MarketContext, details: dict[str, object]
                        ) -> tuple[tuple[StrikeChoice, ...] | None, list[Reason], ChainSnapshot]:
        """``(long, short, naked)`` put choices, or ``None`` with the reasons why not; and the
        picked puts' rows greeked (:func:`_greek_picks`; ``chain`` is the expiry's rows)."""
        p = self.p
        under = self._underlying_pts(chain, expiry, ctx)
        name = "future" if self.product.underlying_kind is UnderlyingKind.FUTURE else "underlying"
        if not np.isfinite(under):
            return None, [Reason("NO_UNDERLYING_PRICE", f"no {name} price for the {expiry.isoformat()} expiry")], chain
        details["underlying_pts"] = round(under, 4)
        long, r_long = _pick(chain, expiry, "long", under * (1 - p.lt112_long_put_otm_frac),
                             f"{p.lt112_long_put_otm_frac:.0%} below the {name} {under:.2f}", details)
        short, r_short = (None, None) if r_long or long is None else _pick(
            chain, expiry, "short", long.strike_pts - p.lt112_spread_width_pts,
            f"{p.lt112_spread_width_pts:g} pts below the long {long.strike_pts:g}", details)
        naked, r_naked = _pick(chain, expiry, "naked", under * (1 - p.lt112_naked_put_otm_frac),
                               f"{p.lt112_naked_put_otm_frac:.0%} below the {name} {under:.2f}", details)
        (long, short, naked), legs = self._greek_picks(ctx, chain, expiry, (long, short, naked), details)
        # a pick with a reason is recorded (and greeked) but not usable
        long, short, naked = (None if r else c for c, r in ((long, r_long), (short, r_short), (naked, r_naked)))
        reasons = [r for r in (r_long, r_short, r_naked) if r is not None]
        if long is None or short is None or naked is None:
            return None, reasons, legs
        if not long.strike_pts > short.strike_pts > naked.strike_pts:
            return None, [Reason("STRIKES_NOT_ORDERED", f"need long > short > naked; got {long.strike_pts:g} / "
                                 f"{short.strike_pts:g} / {naked.strike_pts:g}")], legs
        return (long, short, naked), reasons, legs

    def _greek_picks(self, ctx: MarketContext, chain: ChainSnapshot, expiry: date,
                     picks: tuple[StrikeChoice | None, ...], details: dict[str, object]
                     ) -> tuple[tuple[StrikeChoice | None, ...], ChainSnapshot]:
        """The picks with their |delta|, recorded in ``details`` (``<role>_put_abs_delta``, in
        the place :func:`_pick` kept for it), and their rows greeked: IV and greeks of the
        picked rows only, in one solver call (:func:`thetacore.chain_greeks.expiry_rows_greeks`:
        each row gets the numbers the whole expiry's greeks give it)."""
        positions = tuple(sorted({c.index for c in picks if c is not None}))
        if not positions:
            return picks, chain
        assert ctx.chain is not None
        legs = expiry_rows_greeks(ctx.chain, expiry, positions, model=self.product.model, rate_frac=ctx.rate_frac,
                                  yield_frac=0.0, expiry_time_et=self.product.expiry_time_et)
        out: list[StrikeChoice | None] = []
        for role, c in zip(("long", "short", "naked"), picks, strict=True):
            if c is not None:
                c = StrikeChoice(c.index, c.symbol, c.strike_pts, float(abs(legs.delta[positions.index(c.index)])),
                                 c.in_band)
                details[f"{role}_put_abs_delta"] = round(c.abs_delta, 4)
            out.append(c)
        return tuple(out), legs

    def _ratio_spread(self, chain: ChainSnapshot, picks: tuple[StrikeChoice, ...], expiry: date) -> Structure:
        legs = tuple(OptionLeg(c.symbol, str(chain.underlying_symbol[c.index]), Right.PUT, c.strike_pts, expiry, r)
                     for c, r in zip(picks, (1, -1, -NAKED_RATIO), strict=True))
        return Structure(StructureKind.RATIO_SPREAD, legs, chain.multiplier_usd_per_pt, self.product.underlying_kind)

    def _risk_details(self, structure: Structure, chain: ChainSnapshot, limit: float, ctx: MarketContext,
                      expiry: date, details: dict[str, object]) -> list[Reason]:
        """Record credit, naked credit, max loss, breakevens and buying power; reasons for a
        zero net price or a buying power that cannot be computed."""
        p, usd = self.p, chain.multiplier_usd_per_pt * self.p.lt112_contracts
        bid, ask = structure.leg_quotes(chain)
        j = next(i for i, leg in enumerate(structure.legs) if leg.ratio == -NAKED_RATIO)
        details["naked_credit_pts"] = round(float((bid[j] + ask[j]) / 2), 4)
        details["net_credit_pts"] = round(-limit, 4)
        max_loss = structure.max_loss_pts(limit)
        assert max_loss is not None  # puts only: the payoff floors at underlying 0
        details.update(max_loss_pts=round(max_loss, 2), max_loss_usd=round(max_loss * usd, 2),
                       breakevens_pts=[round(b, 2) for b in structure.breakevens_pts(limit)])
        reasons = []
        if limit == 0:
            reasons.append(Reason("NET_PRICE_ZERO", "combo limit 0.00 pts is neither a credit nor a debit"))
        t_years = expiry_years(expiry, ctx.time_utc, self.product.expiry_time_et)
        scan = ctx.futures_scan_range_frac(chain.multiplier_usd_per_pt, p.futures_scan_range_frac)
        try:
            bp = chain_buying_power_pts(structure, chain, net_price_pts=limit, scan_range_frac=scan, t_years=t_years,
                                        rate_frac=ctx.rate_frac, **margin_settings(p))
        except ValueError as exc:
            return [*reasons, Reason("BUYING_POWER_UNAVAILABLE", str(exc))]
        details["buying_power_usd"] = round(bp * usd, 2)
        return reasons

    # ----- management --------------------------------------------------------------------
    def manage(self, ctx: MarketContext) -> list[Decision]:
        """For every open position: the 21-DTE defence first (closes all that remains),
        then the naked puts' take profit."""
        out: list[Decision] = []
        for pos in [q for q in self.open_positions() if q.state is PositionState.OPEN]:
            pid = pos.position_id
            verdict = defense_review(pos, ctx, self.p, reviewed=pid in self.reviewed)
            if verdict is not None and verdict.close:
                out.append(self._close(pos, ctx, verdict.reason))
                continue
            if verdict is not None:
                if verdict.reason.code == "DEFENSE_REVIEW":
                    self.reviewed.add(pid)
                out.append(self.held(ctx, pos, (verdict.reason,)))
            naked = self._naked_decision(pos, ctx)
            if naked is not None:
                out.append(naked)
        return out

    def on_moved(self, intent: OrderIntent, moved: OrderIntent, quantity: int) -> None:
        """As :meth:`Strategy.on_moved`; the naked line follows its put onto the micro's
        contract (same right, strike and expiry; credit per contract in points unchanged)."""
        super().on_moved(intent, moved, quantity)
        line = self.naked.get(intent.position_id)
        if line is not None:
            key = (line.leg.right, line.leg.strike_pts, line.leg.expiry, line.leg.ratio)
            line.leg = next(leg for leg in moved.structure.legs
                            if (leg.right, leg.strike_pts, leg.expiry, leg.ratio) == key)

    def _naked_decision(self, pos: StrategyPosition, ctx: MarketContext) -> Decision | None:
        line = self.naked.get(pos.position_id)
        if line is None or line.state is not PositionState.OPEN:
            return None
        details: dict[str, object] = {"position_id": pos.position_id, "partial": "naked puts"}
        bought = _buy_back(ctx, line.leg.symbol, self.product, self.p.order_limit_toward_far_frac)
        if isinstance(bought, str):
            return Decision(ctx.time_utc, self.name, Action.HELD, (Reason("NO_QUOTES", f"cannot value the naked "
                            f"puts of {pos.position_id}: {bought}"),), None, details)
        cost, limit = bought
        captured = (line.credit_pts - cost) / line.credit_pts if line.credit_pts > 0 else 0.0
        if captured < self.p.lt112_naked_take_profit_frac:
            return None
        n = NAKED_RATIO * pos.quantity
        reason = Reason("NAKED_TAKE_PROFIT", f"naked {n} x {line.leg.strike_pts:g}P captured {captured:.0%} of "
                        f"their {line.credit_pts:.2f} pt credit (cost to close {cost:.2f} pts) >= "
                        f"{self.p.lt112_naked_take_profit_frac:.0%}; the debit spread stays as the hedge")
        closing = Structure(StructureKind.SINGLE, (replace(line.leg, ratio=1),), pos.structure.multiplier_usd_per_pt,
                            pos.structure.underlying_kind)
        intent = OrderIntent(self.name, IntentPurpose.CLOSE, closing, n, limit, pos.position_id,
                             tag=f"{pos.position_id} close naked NAKED_TAKE_PROFIT")
        line.state, line.close_intent, pos.state = PositionState.CLOSING, intent, PositionState.CLOSING
        return Decision(ctx.time_utc, self.name, Action.EXITED, (reason,), intent, details)

    def _close(self, pos: StrategyPosition, ctx: MarketContext, reason: Reason) -> Decision:
        """Close everything the position still holds, as one combo."""
        closing = Structure(pos.structure.kind, tuple(
            OptionLeg(leg.symbol, leg.underlying_symbol, leg.right, leg.strike_pts, leg.expiry, -leg.ratio)
            for leg in pos.structure.legs), pos.structure.multiplier_usd_per_pt, pos.structure.underlying_kind)
        details: dict[str, object] = {"position_id": pos.position_id}
        chain = ctx.chain_for(leg.symbol for leg in pos.structure.legs)  # ES, or MES when moved (issue 11)
        if chain is None:
            return Decision(ctx.time_utc, self.name, Action.HELD, (reason, Reason(
                "NO_QUOTES", f"exit due but no chain to price the closing order: {ctx.chain_problem}")), None, details)
        try:
            limit = combo_limit(closing, chain, self.product, self.p.order_limit_toward_far_frac, details)
        except QuoteError as exc:
            return Decision(ctx.time_utc, self.name, Action.HELD, (reason, Reason("QUOTE_INVALID", str(exc))),
                            None, details)
        pos.state, pos.exit_reason = PositionState.CLOSING, reason.code
        intent = OrderIntent(self.name, IntentPurpose.CLOSE, closing, pos.quantity, limit, pos.position_id,
                             tag=f"{pos.position_id} close {reason.code}")
        return Decision(ctx.time_utc, self.name, Action.EXITED, (reason,), intent, details)

    # ----- order events --------------------------------------------------------------------
    def on_filled(self, intent: OrderIntent, fill_net_pts: float, time_utc: datetime) -> None:
        line = self.naked.get(intent.position_id)
        if line is not None and line.close_intent is not None and intent == line.close_intent:
            self._naked_filled(self.positions[intent.position_id], line, fill_net_pts, time_utc)
            return
        super().on_filled(intent, fill_net_pts, time_utc)
        if line is not None and line.state is not PositionState.CLOSED:
            line.state = PositionState.OPEN if intent.purpose is IntentPurpose.OPEN else PositionState.CLOSED

    def _naked_filled(self, pos: StrategyPosition, line: NakedLine, fill_pts: float, time_utc: datetime) -> None:
        entry = pos.entry_net_pts or 0.0
        line.state, line.exit_pts, line.close_intent = PositionState.CLOSED, fill_pts, None
        spread = tuple(leg for leg in pos.structure.legs if leg.symbol != line.leg.symbol)
        pos.structure = Structure(StructureKind.VERTICAL, spread, pos.structure.multiplier_usd_per_pt,
                                  pos.structure.underlying_kind)
        pos.entry_net_pts = entry + NAKED_RATIO * fill_pts
        pos.state = PositionState.OPEN
        pos.notes.append(f"NAKED_CLOSED {time_utc:%Y-%m-%d %H:%M}Z: {NAKED_RATIO * pos.quantity} x "
                         f"{line.leg.strike_pts:g}P bought back at {fill_pts:.2f} pts (credit {line.credit_pts:.2f}); "
                         f"the spread's basis is entry {entry:+.2f} + {NAKED_RATIO} x {fill_pts:.2f} = "
                         f"{pos.entry_net_pts:+.2f} pts per unit")

    def on_unfilled(self, intent: OrderIntent, reason: str) -> None:
        line = self.naked.get(intent.position_id)
        if line is not None and line.close_intent is not None and intent == line.close_intent:
            pos = self.positions[intent.position_id]
            pos.notes.append(f"naked close order not filled: {reason}")
            line.state, line.close_intent, pos.state = PositionState.OPEN, None, PositionState.OPEN
            return
        super().on_unfilled(intent, reason)
        if line is not None and intent.purpose is IntentPurpose.OPEN:
            line.state = PositionState.CLOSED

    def on_settled(self, position_id: str, settle_net_pts: float, time_utc: datetime) -> None:
        super().on_settled(position_id, settle_net_pts, time_utc)
        if position_id in self.naked and self.naked[position_id].state is not PositionState.CLOSED:
            self.naked[position_id].state = PositionState.CLOSED


def _buy_back(ctx: MarketContext, symbol: str, prod: OptionProduct, toward_far_frac: float) -> tuple[float, float] | str:
    """``(cost_pts, limit_pts)`` to buy back one contract, or the problem. The cost is the
    mid; with no bid (a far out-of-the-money option) the ask is both cost and limit."""
    chain = ctx.chain_for([symbol])
    if chain is None:
        return ctx.chain_problem or "no option chain"
    try:
        i = chain.index_of(symbol)
    except KeyError as exc:
        return str(exc)
    bid, ask = float(chain.bid_pts[i]), float(chain.ask_pts[i])
    if not (np.isfinite(ask) and ask > 0):
        return f"{symbol}: no ask (bid={bid} ask={ask})"
    if not (np.isfinite(bid) and bid > 0):
        return ask, ask
    if ask < bid:
        return f"{symbol}: crossed quote bid {bid:g} > ask {ask:g}"
    mid = (bid + ask) / 2
    return mid, limit_on_tick(mid + toward_far_frac * (ask - mid), ask, prod.leg_tick_pts(mid))


def _pick(chain: ChainSnapshot, expiry: date, role: str, target_pts: float, how: str,
          details: dict[str, object]) -> tuple[StrikeChoice | None, Reason | None]:
    """The put for ``role`` (long/short/naked) nearest ``target_pts``, recorded in
    ``details``, and ``None`` or the reason it cannot be used (the chain has none near it;
    the choice is then ``None`` too when there is no quoted put at all)."""
    choice = choose_put_near(chain, expiry, target_pts)
    details[f"{role}_put_target_pts"] = round(target_pts, 2)
    if choice is not None:
        details[f"{role}_put_strike_pts"] = choice.strike_pts
        details[f"{role}_put_abs_delta"] = round(choice.abs_delta, 4)  # NaN on rows not greeked: set again then
    return choice, out_of_chain_reason(role, choice, chain, expiry, target_pts, how)


def _quoted_puts(chain: ChainSnapshot, expiry: date) -> np.ndarray:
    """Chain rows of the puts at ``expiry`` with a valid mid, ordered by strike (read-only;
    found once per snapshot and expiry: every pick and its reason reads the same list)."""
    key = ("lt112_quoted_puts", expiry)
    out = chain.derived.get(key)
    if out is None:
        m = (chain.expiry == np.datetime64(expiry, "D")) & (chain.right == int(Right.PUT)) & np.isfinite(chain.mid_pts)
        idx = np.flatnonzero(m)
        out = idx[np.argsort(chain.strike_pts[idx], kind="stable")]
        out.flags.writeable = False
        chain.derived[key] = out
    assert isinstance(out, np.ndarray)
    return out


def _reach_pts(k: np.ndarray) -> tuple[float, float]:
    """Lowest and highest prices a sorted strike list reaches: half a strike step beyond
    its end strikes (a target there is nearer the end strike than any unlisted one)."""
    lo_step = (k[1] - k[0]) / 2 if k.size > 1 else 0.0
    hi_step = (k[-1] - k[-2]) / 2 if k.size > 1 else 0.0
    return float(k[0] - lo_step), float(k[-1] + hi_step)


def choose_put_near(chain: ChainSnapshot, expiry: date, target_pts: float) -> StrikeChoice | None:
    """The quoted put (two-sided, valid mid) at ``expiry`` whose strike is nearest
    ``target_pts`` (ties: the lower strike). ``in_band`` is False when the target lies more
    than half a strike step beyond the quoted strikes (the chain does not reach it).
    ``None`` when no put of that expiry is quoted."""
    idx = _quoted_puts(chain, expiry)
    if idx.size == 0:
        return None
    k = chain.strike_pts[idx]
    best = int(idx[np.argmin(np.abs(k - target_pts))])
    lo, hi = _reach_pts(k)
    return StrikeChoice(best, str(chain.symbol[best]), float(chain.strike_pts[best]),
                        float(abs(chain.delta[best])), bool(lo <= target_pts <= hi))


def out_of_chain_reason(role: str, choice: StrikeChoice | None, chain: ChainSnapshot, expiry: date,
                        target_pts: float, how: str) -> Reason | None:
    """Why no put can take ``role`` (long/short/naked): none quoted, or the target lies
    beyond the quoted strikes; ``None`` when ``choice`` is usable."""
    if choice is None:
        return Reason(f"NO_{role.upper()}_PUT", f"no quoted put at {expiry.isoformat()}")
    if choice.in_band:
        return None
    k = chain.strike_pts[_quoted_puts(chain, expiry)]
    lo, hi = _reach_pts(k)
    side = (f"below the lowest quoted put {k[0]:g} (reach {lo:g})" if target_pts < lo
            else f"above the highest quoted put {k[-1]:g} (reach {hi:g})")
    return Reason(f"{role.upper()}_PUT_OUT_OF_CHAIN", f"{role} put target {target_pts:.2f} ({how}) is {side} "
                  f"at {expiry.isoformat()}; nearest {choice.strike_pts:g} is "
                  f"{abs(choice.strike_pts - target_pts):.2f} pts away")


