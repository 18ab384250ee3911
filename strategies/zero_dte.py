"""0DTE Friday trade (docs/strategy-rules.md, "0DTE (Friday)").

Move read: the underlying's price (``ctx.underlying_pts``) is recorded by the ``move_start``
rule one minute after ``zdte_move_start_et`` (10:00 ET by default, M1 reads the move over
10:00-10:30; so the reading is at 10:01), i.e. the close of the first one-minute bar wholly
inside the read window (10:00-10:01). Set to the open (09:30), the same rule reads the close
of the session's first bar (09:31), the first price any host can report at or after the open:
at 09:30 itself LEAN's slice holds nothing new for an index (its price is still the previous
close) and the replay marks that close stale. No recorded price (or NaN)
is the reason ``MOVE_UNAVAILABLE``, never a guess. The move is ``price at entry / recorded
price - 1``.

Entry at ``zdte_entry_time_et`` (10:30 ET, never earlier) on the entry weekday (Friday):
move > +0.5% sells a call credit spread (fade the rally), move < -0.5% a put credit spread,
otherwise an iron condor. Each short is the listed strike of today's expiry nearest
``spot -/+ mult x ATR`` (0.5 for the condor, 0.7 for a single spread; ATR = Wilder's 14-day
ATR of the completed daily bars, :mod:`thetacore.atr`) and its |delta| must be within
15-25; each long is the listed strike nearest ``short -/+ wing`` (30 points x scale) beyond
the short. No entry with VIX >= 40; VIX, NLV, the move or the ATR unknown is a reason.
Contracts by account phase; on ES, phase 1 trades MES (micros only) and SPXW is refused.

Exits, checked every ``zdte_manage_interval_min`` from entry until the flatten: time stop
at 15:00 ET whatever the P&L (also its own rule, so it fires at 15:00 whatever the
interval); the time-stop and flatten rules are ``before_close`` rules
(:class:`thetacore.schedule.DailyAt`; LEAN ``time_rules.before_market_close``), so on an
early-close day (13:00 ET) both fire as long before that close as on a full day, and the
time stop then applies from the minute its rule fired; stop when the cost to close at mid reaches 2x the credit; take profit at 50% of
the credit. Final flatten at 15:30 ET closes everything still open at the natural price,
re-sending a close that is still working (the host replaces it) or came back unfilled. Long
wings nobody bids for are left to expire worthless (:func:`zero_dte_rules.closing_structure`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np

from risk.account_phase import account_phase, zdte_contracts
from strategies.base import MarketContext, PositionState, Strategy, StrategyPosition, Subscription
from strategies.zero_dte_rules import EntryEvaluator, closing_structure, net_prices_pts
from thetacore.decisions import Decision, OrderIntent, Reason
from thetacore.durable_state import Fields, StateError, iso, nan_to_null
from thetacore.enums import Action, IntentPurpose
from thetacore.parameters import Parameters
from thetacore.pricing import NEW_YORK
from thetacore.pricing_limits import limit_on_tick
from thetacore.products import PRODUCTS, OptionProduct
from thetacore.schedule import DailyAt, EveryMinutes, ScheduleRule
from thetacore.structures import QuoteError, UnderlyingKind

MOVE_START = "move_start"
ENTRY = "entry"
MANAGE = "manage"
TIME_STOP = "time_stop"
FLATTEN = "flatten"

FLATTEN_TOWARD_FAR_FRAC = 1.0
"""The final flatten crosses every spread (buys at the ask, sells at the bid) so it fills."""
_BAR = timedelta(minutes=1)


def et_minute(t_utc: datetime) -> time:
    """New York wall-clock minute of ``t_utc``."""
    return t_utc.astimezone(NEW_YORK).time().replace(second=0, microsecond=0)


class ZeroDte(Strategy):
    """Friday 0DTE credit spread or iron condor; see the module docstring for the rules."""

    name = "zero_dte"

    def __init__(self, params: Parameters) -> None:
        super().__init__()
        self.p = params
        self.move_start_pts: dict[date, float] = {}
        self.traded_days: dict[date, str] = {}
        self._products: dict[str, OptionProduct] = {}
        self._close_tags: dict[str, str] = {}
        self.time_stop_on: date | None = None  # the day the time_stop rule last fired
        self.flatten_on: date | None = None  # the day the flatten rule last fired

    # ----- durable state ----------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        """``move_start_pts``: ISO date -> the underlying at the move-start bar (points; null:
        no price then);
        ``traded_days``: ISO date -> the position id entered that day; ``products``: position
        id -> option root it trades; ``close_tags``: position id -> tag of its working close;
        ``time_stop_on``/``flatten_on``: the day each rule last fired (or null)."""
        return {"move_start_pts": nan_to_null({d.isoformat(): v for d, v in self.move_start_pts.items()}),
                "traded_days": {d.isoformat(): v for d, v in self.traded_days.items()},
                "products": {pid: p.root for pid, p in self._products.items()},
                "close_tags": dict(self._close_tags),
                "time_stop_on": iso(self.time_stop_on), "flatten_on": iso(self.flatten_on)}

    def read_extra_state(self, extra: Fields, positions: dict[str, StrategyPosition]) -> Callable[[], None]:
        """Check and apply :meth:`extra_state`; an unknown product root is an error."""
        moves_in, days_in = extra.obj("move_start_pts"), extra.obj("traded_days")
        moves = {d: moves_in.number_or_nan(d.isoformat()) for d in extra.date_map("move_start_pts")}
        days = {d: days_in.string(d.isoformat()) for d in extra.date_map("traded_days")}
        roots = extra.obj("products")
        products = {}
        for pid in roots.names():
            root = roots.string(pid)
            if root not in PRODUCTS:
                raise StateError(roots.at(pid), f"unknown option root {root!r}; known: {', '.join(PRODUCTS)}")
            products[pid] = PRODUCTS[root]
        tags_in = extra.obj("close_tags")
        tags = {pid: tags_in.string(pid) for pid in tags_in.names()}
        stop_on, flatten_on = extra.opt_day("time_stop_on"), extra.opt_day("flatten_on")

        def apply() -> None:
            self.move_start_pts, self.traded_days, self._products, self._close_tags = moves, days, products, tags
            self.time_stop_on, self.flatten_on = stop_on, flatten_on
        return apply

    # ----- host-facing declarations ----------------------------------------------------
    def schedules(self) -> list[ScheduleRule]:
        p = self.p
        first_bar_end = (datetime.combine(date.min, p.zdte_move_start_et) + _BAR).time()
        return [
            DailyAt(MOVE_START, first_bar_end),
            DailyAt(ENTRY, p.zdte_entry_time_et),
            DailyAt(TIME_STOP, p.zdte_time_stop_et, before_close=True),
            DailyAt(FLATTEN, p.zdte_flatten_et, before_close=True),
            EveryMinutes(MANAGE, p.zdte_manage_interval_min, p.zdte_entry_time_et, p.zdte_flatten_et),
        ]

    def start_refusal(self) -> str | None:
        """A 0DTE trade needs an expiry every trading day: an underlying whose product has
        none (ES, MES: one expiry per futures contract month in LEAN, see
        :mod:`thetacore.products`) is refused at start."""
        root = self.p.zdte_underlying
        if PRODUCTS[root].daily_expiries:
            return None
        daily = ", ".join(r for r, f in PRODUCTS.items() if f.daily_expiries)
        return (f"zdte_underlying={root}: {root} options have no daily expiries (one per futures contract "
                f"month in LEAN), so there is no same-day expiry to trade; use {daily}")

    def subscription(self) -> Subscription:
        """Today's expiry only, strikes within the filter range, and VIX. The root follows
        the phase of ``starting_cash_usd`` (the only NLV known before the first decision):
        MES below phase 2 on the ES underlying; entries re-check the phase from the live NLV
        and decline ``PRODUCT_MISMATCH`` if the subscribed product no longer fits."""
        phase = account_phase(self.p.starting_cash_usd, self.p)
        root = self.root_for_phase(phase) or self.p.zdte_underlying
        kind = "index_option" if PRODUCTS[root].underlying_kind is UnderlyingKind.INDEX else "future_option"
        return Subscription(root, kind, 0, 0, self.p.zdte_filter_strike_range_frac, needs_vix=True)

    def root_for_phase(self, phase: int) -> str | None:
        """Option root traded in ``phase``: MES in phase 1 on ES; ``None`` for SPXW in phase
        1 (micros only: docs/strategy-rules.md, "account phases")."""
        if self.p.zdte_underlying == "ES":
            return "MES" if phase == 1 else "ES"
        return None if phase == 1 else self.p.zdte_underlying

    def handlers(self) -> dict[str, Callable[[MarketContext], list[Decision]]]:
        def move_start(ctx: MarketContext) -> list[Decision]:
            self.record_move_start(ctx)
            return []
        def time_stop(ctx: MarketContext) -> list[Decision]:
            self.time_stop_on = ctx.today_et
            return self.manage(ctx)

        def flatten(ctx: MarketContext) -> list[Decision]:
            self.flatten_on = ctx.today_et
            return self.flatten(ctx)
        return {MOVE_START: move_start, ENTRY: lambda ctx: [self.entry_decision(ctx)],
                MANAGE: self.manage, TIME_STOP: time_stop, FLATTEN: flatten}

    # ----- entry -----------------------------------------------------------------------
    def record_move_start(self, ctx: MarketContext) -> None:
        """Keep today's move-start price (NaN kept too: the entry then says so)."""
        self.move_start_pts = {d: v for d, v in self.move_start_pts.items() if d >= ctx.today_et}
        self.move_start_pts[ctx.today_et] = float(ctx.underlying_pts)

    def entry_decision(self, ctx: MarketContext) -> Decision:
        """Evaluate every entry rule at ``ctx``; one decision with all reasons and numbers."""
        sizing = self._sizing(ctx)
        ev = EntryEvaluator(self.p, ctx, self.move_start_pts.get(ctx.today_et), sizing.product)
        ev.reasons[:0] = self._gate_reasons(ctx) + sizing.reasons
        ev.details.update(sizing.details)
        outcome = ev.evaluate()
        if outcome is None or ev.reasons or sizing.contracts is None or sizing.product is None:
            return Decision(ctx.time_utc, self.name, Action.DECLINED, tuple(ev.reasons), None, ev.details)
        pid = f"{self.name}-{ctx.time_utc:%Y%m%dT%H%MZ}"
        qty, structure = sizing.contracts, outcome.structure
        intent = OrderIntent(self.name, IntentPurpose.OPEN, structure, qty, outcome.limit_pts, pid,
                             tag=f"{pid} open")
        self.positions[pid] = StrategyPosition(pid, structure, qty, PositionState.OPENING)
        self.traded_days[ctx.today_et] = pid
        self._products[pid] = sizing.product
        usd = structure.multiplier_usd_per_pt * qty
        ev.details.update(position_id=pid, max_loss_usd=round(outcome.max_loss_pts * usd, 2),
                          buying_power_usd=round(outcome.buying_power_pts * usd, 2))
        text = f"{outcome.summary}; x{qty} {sizing.product.root}"
        return Decision(ctx.time_utc, self.name, Action.ENTERED, (Reason("ENTRY", text),), intent, ev.details)

    def _gate_reasons(self, ctx: MarketContext) -> list[Reason]:
        p, today, now = self.p, ctx.today_et, et_minute(ctx.time_utc)
        out = []
        if p.zdte_entry_weekday >= 0 and today.weekday() != p.zdte_entry_weekday:
            out.append(Reason("NOT_ENTRY_DAY", f"{today.isoformat()} is a {today:%A}; 0DTE entries on "
                              f"{date(2024, 1, 1 + p.zdte_entry_weekday):%A}s"))
        if now < p.zdte_entry_time_et or now >= p.zdte_time_stop_et or self.time_stop_on == today:
            out.append(Reason("OUTSIDE_ENTRY_WINDOW", f"{now:%H:%M} ET: entries from "
                              f"{p.zdte_entry_time_et:%H:%M} ET, never at or after the "
                              f"{p.zdte_time_stop_et:%H:%M} ET time stop"))
        if today in self.traded_days:
            out.append(Reason("ALREADY_TRADED_TODAY", f"at most one 0DTE structure per day; "
                              f"{self.traded_days[today]} already entered today"))
        elif self.open_positions():
            ids = ", ".join(pos.position_id for pos in self.open_positions())
            out.append(Reason("ALREADY_OPEN", f"0DTE structure still open or pending: {ids}"))
        if not np.isfinite(ctx.vix_level):
            out.append(Reason("VIX_UNAVAILABLE", f"no VIX level: the VIX < {p.zdte_vix_max:.2f} rule cannot "
                              "be checked"))
        elif ctx.vix_level >= p.zdte_vix_max:
            out.append(Reason("VIX_TOO_HIGH", f"VIX {ctx.vix_level:.2f} >= {p.zdte_vix_max:.2f}"))
        return out

    def _sizing(self, ctx: MarketContext) -> _Sizing:
        p = self.p
        try:
            phase = account_phase(ctx.nlv_usd, p)
        except ValueError:
            return _Sizing([Reason("NLV_UNAVAILABLE", f"net liquidation value {ctx.nlv_usd} unknown: no "
                                   "account phase, no contract count")], {}, None, None)
        contracts, root = zdte_contracts(phase, p), self.root_for_phase(phase)
        details: dict[str, object] = {"nlv_usd": ctx.nlv_usd, "account_phase": phase, "contracts": contracts,
                                      "product": root}
        if root is None:
            return _Sizing([Reason("PHASE_MICROS_ONLY", f"phase 1 (NLV {ctx.nlv_usd:,.0f} < "
                                   f"{p.phase2_min_nlv_usd:,.0f}) trades micros only; {p.zdte_underlying} "
                                   "options are not micros")], details, None, None)
        if contracts < 1:
            why = Reason("NO_CONTRACTS_FOR_PHASE", f"phase {phase} allows {contracts} 0DTE contracts")
            return _Sizing([why], details, PRODUCTS[root], None)
        return _Sizing([], details, PRODUCTS[root], contracts)

    # ----- management --------------------------------------------------------------------
    def manage(self, ctx: MarketContext) -> list[Decision]:
        """Exit checks for every open position: time stop, stop loss, take profit. From the
        flatten minute on the flatten rule alone acts."""
        now = et_minute(ctx.time_utc)
        if now >= self.p.zdte_flatten_et or self.flatten_on == ctx.today_et:
            return []
        far = self.p.order_limit_toward_far_frac
        return self.exit_decisions(ctx, lambda pos: self._exit_reason(pos, ctx, now),
                                   lambda pos, reason: self._close(pos, ctx, reason, far))

    def _cost_to_close(self, pos: StrategyPosition, ctx: MarketContext) -> tuple[float | None, str]:
        """Net mid of the closing order (points per unit, + = paid), or ``None`` and why."""
        if ctx.chain is None:
            return None, ctx.chain_problem or "no chain"
        try:
            closing, _ = closing_structure(pos.structure, ctx.chain)
            return net_prices_pts(closing, ctx.chain)[0], ""
        except QuoteError as exc:
            return None, str(exc)

    def _exit_reason(self, pos: StrategyPosition, ctx: MarketContext, now: time) -> Reason | None:
        p, credit = self.p, pos.credit_pts
        cost, problem = self._cost_to_close(pos, ctx)
        if now >= p.zdte_time_stop_et or self.time_stop_on == ctx.today_et:
            value = f"cost to close {cost:.2f} pts, credit {credit:.2f}" if cost is not None else problem
            when = (f"{now:%H:%M} ET >= time stop {p.zdte_time_stop_et:%H:%M} ET" if now >= p.zdte_time_stop_et
                    else f"{now:%H:%M} ET: time stop moved earlier by today's early close")
            return Reason("TIME_STOP", f"{when}: close whatever the P&L ({value})")
        if cost is None:
            return Reason("NO_QUOTES", f"cannot value {pos.position_id}: {problem}")
        if credit <= 0:
            return None
        stop = p.zdte_stop_loss_mult * credit
        if cost >= stop - 1e-9:
            return Reason("STOP_LOSS", f"cost to close {cost:.2f} pts >= {p.zdte_stop_loss_mult:g} x credit "
                          f"{credit:.2f} = {stop:.2f} pts (loss {cost - credit:.2f} pts)")
        captured = (credit - cost) / credit
        if captured >= p.zdte_take_profit_frac - 1e-9:
            return Reason("TAKE_PROFIT", f"captured {captured:.0%} of the {credit:.2f} pt credit (cost to "
                          f"close {cost:.2f} pts) >= {p.zdte_take_profit_frac:.0%}")
        return None

    def flatten(self, ctx: MarketContext) -> list[Decision]:
        """Close every position still open at the natural price; re-send a close still
        working or that came back unfilled."""
        now, out = et_minute(ctx.time_utc), []
        for pos in self.open_positions():
            pid = pos.position_id
            if pos.state is PositionState.OPENING:
                out.append(self.held(ctx, pos, (Reason(
                    "FLATTEN_OPENING_PENDING", f"{pid}: opening order still working at the {now:%H:%M} ET "
                    "flatten; the host must cancel it"),)))
                continue
            if pos.state is PositionState.CLOSING:
                why = f"; re-sends the {pos.exit_reason} close {self._close_tags.get(pid)} still unfilled"
            elif pos.exit_reason:
                last = pos.notes[-1] if pos.notes else "no report"
                why = f"; the earlier {pos.exit_reason} close was not filled ({last})"
            else:
                why = ""
            reason = Reason("FLATTEN", f"{now:%H:%M} ET final flatten: close at the natural price{why}")
            d = self._close(pos, ctx, reason, FLATTEN_TOWARD_FAR_FRAC)
            if d.intent is None:
                d = Decision(d.time_utc, d.strategy, d.action, (*d.reasons, Reason(
                    "FLATTEN_BLOCKED", f"{pos.position_id} cannot be priced: it stays open and will settle "
                    "at expiry")), None, d.details)
            out.append(d)
        return out

    def _close(self, pos: StrategyPosition, ctx: MarketContext, reason: Reason, toward_far: float
               ) -> Decision:
        """A closing intent for ``pos`` with its limit at ``mid + toward_far x (natural - mid)``
        on the tick, or a HELD decision saying why it cannot be priced."""
        details: dict[str, object] = {"position_id": pos.position_id}
        if ctx.chain is None:
            return Decision(ctx.time_utc, self.name, Action.HELD, (reason, Reason(
                "NO_QUOTES", f"exit due but no chain: {ctx.chain_problem or 'none given'}")), None, details)
        try:
            closing, left = closing_structure(pos.structure, ctx.chain)
            mid, natural, mids = net_prices_pts(closing, ctx.chain)
        except QuoteError as exc:
            return Decision(ctx.time_utc, self.name, Action.HELD, (reason, Reason("QUOTE_INVALID", str(exc))),
                            None, details)
        prod = self._products.get(pos.position_id) or PRODUCTS[ctx.chain.root.partition("*")[0]]
        limit = limit_on_tick(mid + toward_far * (natural - mid), natural, prod.combo_tick_pts(mids))
        details.update(net_mid_pts=round(mid, 4), net_natural_pts=round(natural, 4), limit_pts=limit,
                       left_to_expire=[leg.describe() for leg in left])
        tag = f"{pos.position_id} close {reason.code} {et_minute(ctx.time_utc):%H%M}"
        if left:
            pos.notes.append(f"{tag}: left to expire (no bid): {', '.join(leg.describe() for leg in left)}")
        pos.state, pos.exit_reason = PositionState.CLOSING, reason.code
        self._close_tags[pos.position_id] = tag
        intent = OrderIntent(self.name, IntentPurpose.CLOSE, closing, pos.quantity, limit, pos.position_id,
                             tag=tag)
        return Decision(ctx.time_utc, self.name, Action.EXITED, (reason,), intent, details)

    # ----- order events --------------------------------------------------------------------
    def on_filled(self, intent: OrderIntent, fill_net_pts: float, time_utc: datetime) -> None:
        """As the base class; a second close fill of a closed position is only noted (the
        host should have canceled the close the flatten replaced)."""
        pos = self.positions[intent.position_id]
        if intent.purpose is IntentPurpose.CLOSE and pos.state is PositionState.CLOSED:
            pos.notes.append(f"DUPLICATE_CLOSE_FILL {intent.tag} at {fill_net_pts:+.2f} after the position "
                             "closed")
            return
        super().on_filled(intent, fill_net_pts, time_utc)

    def on_unfilled(self, intent: OrderIntent, reason: str) -> None:
        """As the base class, except that a close ending unfilled after it was replaced by a
        newer one (the flatten's), or after another close already filled, reopens nothing."""
        pos = self.positions[intent.position_id]
        current = self._close_tags.get(intent.position_id)
        replaced = current is not None and intent.tag != current
        if intent.purpose is IntentPurpose.CLOSE and (replaced or pos.state is PositionState.CLOSED):
            pos.notes.append(f"{'replaced' if replaced else 'late'} close {intent.tag} ended: {reason}")
            return
        super().on_unfilled(intent, reason)


@dataclass(frozen=True)
class _Sizing:
    """Phase, product and contracts for one entry, or the reasons they are unknown."""

    reasons: list[Reason]
    details: dict[str, object]
    product: OptionProduct | None
    contracts: int | None
