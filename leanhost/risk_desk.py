"""The risk gate between the strategies and every order, in LEAN (as ``replay.engine._Run``).

Per intent (:meth:`RiskDesk.route`), BEFORE the order router: the gate's verdict
(:meth:`risk.gate_session.GateSession.review`, with VIX now and its previous close) is
journaled; REFUSE sends nothing and the strategy hears ``on_unfilled("refused by the risk
gate: ...")``; RESIZE tells the strategy ``on_resized`` and sends the smaller quantity;
APPROVE sends the intent. Its alerts go to the alert channel (:mod:`leanhost.alerts`); its
flatten / close-losers requests close positions at the natural price
(:func:`risk.flatten.host_close` over the securities' quotes) through the router, each close
first passing the gate's exit checks (quotes valid and fresh, limit within the band around
mid and natural, quantity a whole number no larger than held; a refused close is alerted and
not sent, and tried again at the next request). A flatten also cancels working entries.

Around it: NLV marks every ``nlv_mark_interval_min`` minutes by a scheduled event and before
each decision, from ``portfolio.total_portfolio_value`` with every option holding at a
validated mark (:mod:`leanhost.nlv_marks`: a crossed, negative, too wide or stale quote never
moves the NLV; it is logged with its symbol and time); the realized P&L of every position
closed whole (its CLOSE filled) or settled, ``-(entry + exit) x quantity x multiplier`` less
the fees LEAN charged its orders, to :meth:`GateSession.on_closed`; an approved entry that
ends unfilled is forgotten (:meth:`GateSession.forget`). Each notice's alerts and requests are
acted on like a verdict's.

State (:mod:`leanhost.gate_store`): restored at start, saved whenever it changed at the end of
every handler in live runs (and at the end of every run); the operator's kill switch key is
read before each decision and at each NLV mark, and a change is applied with
``gate.set_kill_switch(..., who="object_store")`` (audit-logged) and alerted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from AlgorithmImports import SecurityType

from risk.flatten import host_close
from risk.gate import GateAction
from risk.gate_session import GateSession
from risk.host_blocks import HostBlock
from risk.host_blocks import block_entries as block_host_entries
from risk.marks import MarkBook
from risk.state import TradingState
from safety.kill_switch import kill_switch_on, release_override
from safety.quote_validation import LegQuote
from strategies.base import MarketContext, PositionState, Strategy, StrategyPosition
from thetacore.decisions import Decision, OrderIntent
from thetacore.enums import IntentPurpose
from thetacore.parameters import Parameters

from .alerts import AlertChannel
from .chains import quote_pts
from .freshness import is_fresh
from .gate_store import (
    KILL_SWITCH_VALUES,
    StoreKeys,
    read_kill_switch,
    save_state,
    state_text,
    take_clear_request,
)
from .journal import DecisionJournal
from .market_data import MarketData
from .micro_desk import context_of, moved_to_micro
from .nlv_marks import index_quote, leg_quote, source_of, validated_nlv
from .orders import OrderRouter
from .scheduling import NEW_YORK, now_utc
from .serial import schedule_on

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm, Symbol

"""Minutes between scheduled NLV marks (as the replay)."""

HOST = "host"
FLATTEN, CLOSE_LOSER = "GATE_FLATTEN", "GATE_CLOSE_LOSER"


def _closing(pos: StrategyPosition) -> bool:
    """Whether ``pos`` is being closed (read after a send, which may have reset it)."""
    return pos.state is PositionState.CLOSING


def realized_usd(pos: StrategyPosition, fees_usd: float) -> float:
    """Realized P&L of a closed position, USD: ``-(entry + exit) x quantity x multiplier``
    less ``fees_usd`` (LEAN sign: entry and exit net prices per unit, negative = credit).
    NaN when either price is unknown (the gate counts it as a losing exit and alerts)."""
    if pos.entry_net_pts is None or pos.exit_net_pts is None:
        return math.nan
    gross = -(pos.entry_net_pts + pos.exit_net_pts) * pos.quantity * pos.structure.multiplier_usd_per_pt
    return gross - fees_usd


@dataclass
class RiskDesk:
    """The gate session and everything LEAN-side around it (see the module docstring)."""

    algorithm: QCAlgorithm
    params: Parameters
    session: GateSession
    market: MarketData
    router: OrderRouter
    strategies: Mapping[str, Strategy]
    journal: DecisionJournal
    alerts: AlertChannel
    keys: StoreKeys
    saved_text: str = ""
    _journaled: int = 0
    _kill_raw: str | None = None
    _reported: set[tuple[str, str]] = field(default_factory=set)
    partial_realized_usd: dict[tuple[str, str], float] = field(default_factory=dict)
    """Realized P&L of partial closes by ``(strategy, position id)``, USD before fees (the units
    closed before the position closed whole; the dashboard adds it to the closed P&L)."""
    on_mark: Callable[[datetime], None] | None = None  # after each scheduled NLV mark (the dashboard)
    on_save: Callable[[], object] | None = None  # after the gate's own save: the whole book (leanhost/book.py)
    marks: MarkBook | None = None  # last good mark per option holding (created at the first mark)

    # ----- set-up --------------------------------------------------------------------------
    def announce(self, now: datetime) -> None:
        """Log the gate's state at start, loudly when entries are blocked. A saved run-time
        "off" (written by a version before issue 8; inert now, :mod:`safety.kill_switch`) is
        released under ``kill_switch=true`` (audit-logged), so the saved state says what holds."""
        state = self.session.gate.state
        if self.params.kill_switch and state.kill_switch_override is False:
            self.alerts.alert(release_override(state, self.params, "parameter", now,
                                               "kill_switch=true at start outranks a saved 'off'"))
        trading = state.trading_state(self.params.kill_switch)
        if trading is not TradingState.ACTIVE:
            blocks = "; ".join(f"{t.code}: {t.text}" for t in state.entry_blocks()) or "kill switch"
            self.algorithm.error(f"RISK GATE {trading.value.upper()} at start: {blocks}")
        if self.params.kill_switch:
            self.algorithm.error("KILL SWITCH parameter kill_switch=true: no new entries")

    def schedule_marks(self, symbol: Symbol) -> None:
        """NLV marks every ``nlv_mark_interval_min`` minutes of ``symbol``'s trading days."""
        schedule_on(
            self.algorithm,
            "gate:nlv",
            self.algorithm.date_rules.every_day(symbol),
            self.algorithm.time_rules.every(timedelta(minutes=self.params.nlv_mark_interval_min)),
            self.scheduled_mark,
        )

    # ----- decisions ---------------------------------------------------------------------
    def before_decision(self, now: datetime) -> None:
        """The operator's kill switch and clear requests, then an NLV mark."""
        self.poll_kill_switch(now)
        self.poll_clear_requests(now)
        self.mark_nlv(now)

    def route(self, strategy: Strategy, decision: Decision, ctx: MarketContext) -> None:
        """``decision.intent`` through the gate; the router sends what it approves."""
        intent = decision.intent
        assert intent is not None
        now = ctx.time_utc
        vix_prev = self.market.vix_prev_close(ctx.today_et)
        nlv = self.validated_nlv(now)
        ctx = context_of(self.market, intent, ctx)
        verdict = self.session.review(decision, ctx, vix_prev_close=vix_prev, now_utc=now, nlv_usd=nlv)
        self.journal_verdicts()
        for text in verdict.alerts:
            self.alerts.alert(text)
        moved = moved_to_micro(self.algorithm, self.market, self.session, decision, verdict, ctx, vix_prev, nlv)
        self.journal_verdicts()
        if moved is not None:  # the micro's own verdict replaces the refusal (journaled after it)
            for text in moved[1].alerts:
                self.alerts.alert(text)
            self._act(verdict.flatten_requested, verdict.close_losers_requested, now)
            verdict = moved[1]
        if verdict.action is GateAction.REFUSE:
            strategy.on_unfilled(intent, f"refused by the risk gate: {verdict.reason_text}")
        else:
            if moved is not None:
                assert moved[0].intent is not None
                strategy.on_moved(intent, moved[0].intent, verdict.quantity)
                intent = replace(moved[0].intent, quantity=verdict.quantity)
            elif verdict.quantity != intent.quantity:
                strategy.on_resized(intent, verdict.quantity)
                intent = replace(intent, quantity=verdict.quantity)
            self.router.send(intent)
        self._act(verdict.flatten_requested, verdict.close_losers_requested, now)

    def after(self) -> None:
        """End of a handler: journal verdicts, save a changed state (live), deliver alerts."""
        self.journal_verdicts()
        if self.keys.restore:
            self.save_if_changed()
            if self.on_save is not None:  # the whole book (leanhost/book.py)
                self.on_save()
        self.alerts.flush()

    def end(self) -> None:
        """``on_end_of_algorithm``: journal, save (every run), deliver alerts (waiting, bounded,
        for the mail worker)."""
        self.journal_verdicts()
        self.save_if_changed()
        if self.on_save is not None:
            self.on_save()
        self.alerts.flush()
        self.alerts.drain()

    # ----- marks and the kill switch --------------------------------------------------------
    def scheduled_mark(self) -> None:
        """The scheduled NLV mark (not during warm-up)."""
        if self.algorithm.is_warming_up:
            return
        now = now_utc(self.algorithm)
        self.poll_kill_switch(now)
        self.poll_clear_requests(now)
        self.mark_nlv(now)
        if self.on_mark is not None:
            self.on_mark(now)
        self.after()

    def mark_nlv(self, now: datetime) -> None:
        """The validated NLV (:func:`leanhost.nlv_marks.validated_nlv`) to the gate; act on its
        notice. Each rejected quote is logged (an error for a crossed, non-positive or too wide
        one) with its symbol and time."""
        nlv = self.validated_nlv(now)
        if not math.isfinite(nlv):
            self.algorithm.log(f"NLV {nlv} unknown at {now:%Y-%m-%d %H:%M}Z: no mark")
            return
        self.mark_bp(now)
        notice = self.session.on_nlv(nlv, now)
        for text in notice.alerts:
            self.alerts.alert(text)
        self._act(notice.flatten_requested, notice.close_losers_requested, now)

    def validated_nlv(self, now: datetime) -> float:
        """The account value the gate sees at ``now``, USD (:func:`leanhost.nlv_marks.validated_nlv`,
        also for a decision: LEAN's own ``total_portfolio_value`` in the market context is not
        handed to the gate). Each rejected quote is logged (an error for a price problem)."""
        if self.marks is None:
            self.marks = MarkBook(self.params)
        nlv, rejected = validated_nlv(self.algorithm, self.marks, now)
        for r in rejected:
            (self.algorithm.error if r.is_price_problem else self.algorithm.debug)(str(r))
        return nlv

    def mark_bp(self, now: datetime) -> None:
        """Re-mark the booked positions' buying power from the mids the NLV marks validate
        (:meth:`risk.marks.MarkBook.current_mids` on the legs' and their underlyings' LEAN
        quotes with their real times, :func:`leanhost.nlv_marks.leg_quote`; an index by its
        value, :func:`leanhost.nlv_marks.index_quote`) with the strategies'
        current structures and the day's futures margins (:meth:`leanhost.market_data.MarketData.future_margin_usd`,
        the entry's scan range) (:meth:`risk.gate_session.GateSession.mark_bp`); a position
        without a validated mid keeps its last good buying power (logged)."""
        underlyings = {sym.underlying.value: sym.underlying for sym in self.router.symbols.values()
                       if sym.underlying is not None}
        securities = self.algorithm.securities
        if self.marks is None:
            self.marks = MarkBook(self.params)

        def quote_of(key: str) -> tuple[LegQuote | None, float, Callable[[], str] | str]:
            symbol = self.router.symbols.get(key) or underlyings.get(key)
            if symbol is None or not securities.contains_key(symbol):
                return None, 0.0, f"LEAN security {key}: not subscribed"
            security = securities[symbol]
            read = index_quote if symbol.security_type == SecurityType.INDEX else leg_quote
            quote = read(security, key, now)
            return quote, float(security.symbol_properties.minimum_price_variation), partial(source_of, quote)

        structures = {p.position_id: p.structure for s in self.strategies.values() for p in s.open_positions()}
        mids, rejected = self.marks.current_mids(self.session.mark_symbols(), now, quote_of)
        for r in rejected:
            self.algorithm.debug(f"BP re-mark: {r}")
        rate = float(self.algorithm.risk_free_interest_rate_model.get_interest_rate(self.algorithm.time))
        today = now.astimezone(NEW_YORK).date()
        margins = {root: self.market.future_margin_usd(root, today) for kind, root in self.market.feeds
                   if kind == "future_option"}
        for text in self.session.mark_bp(mids, now, rate, structures, margins):
            self.algorithm.log(text)

    def poll_clear_requests(self, now: datetime) -> None:
        """Apply an operator's request (object-store key ``<prefix>/clear_limits``) to clear
        tripped limits: each clear is audit-logged and alerted; a bad name is alerted."""
        names = take_clear_request(self.algorithm, self.keys)
        if names:
            self.apply_clears(names, "object_store", now, self.keys.clear_request)

    def apply_clears(self, names: list[str], who: str, now: datetime, why: str) -> bool:
        """Clear the tripped limits ``names`` (audit-logged, alerted); False when any name is
        not tripped or unknown (alerted)."""
        ok = True
        for name in names:
            try:
                self.alerts.alert(self.session.gate.clear(name, who, now, why))
            except ValueError as exc:
                ok = False
                self.alerts.alert(f"CLEAR request for {name!r} by {who} ignored: {exc}")
        return ok

    def poll_kill_switch(self, now: datetime) -> None:
        """Apply the object-store kill switch when its value CHANGED since the last poll (the
        first poll of a run counts as a change), so that a later live command is not undone
        by an unchanged key. An unreadable value turns the switch ON (fail safe); ``off``
        never outranks the parameter ``kill_switch=true``. Each new value is alerted once."""
        raw = read_kill_switch(self.algorithm, self.keys)
        if raw is None or raw == self._kill_raw:
            return
        first, self._kill_raw = self._kill_raw is None, raw
        key = self.keys.kill_switch
        wanted = KILL_SWITCH_VALUES.get(raw)
        if wanted is None:
            self.alerts.alert(f"KILL_SWITCH value {raw!r} at object-store key {key} is not on/off: treated as ON")
            wanted = True
        if first and not wanted and self.session.gate.state.kill_switch_override is True:
            self.algorithm.error(f"KILL_SWITCH stays ON: the saved run-time 'on' outranks an unchanged {key} = "
                                 f"{raw!r} at start; change the key or send a command to turn it off")
            return
        self.apply_kill_switch(wanted, "object_store", now, f"{key} = {raw!r}")

    def apply_kill_switch(self, wanted: bool, who: str, now: datetime, why: str) -> bool:
        """Set the kill switch to ``wanted`` (audit-logged, alerted). Turning it ON always
        applies; turning it OFF (the operator's explicit clear of a run-time "on") is refused
        (alerted, False) while the parameter ``kill_switch=true`` holds. True when the switch is
        now as asked."""
        if not wanted and self.params.kill_switch:
            self.alerts.alert(f"KILL_SWITCH stays ON: parameter kill_switch=true outranks {why} ({who})")
            return False
        if kill_switch_on(self.session.gate.state, self.params) is not wanted:
            self.alerts.alert(self.session.gate.set_kill_switch(wanted, who, now, why))
        return True

    # ----- outcomes -----------------------------------------------------------------------
    def on_outcome(self, intent: OrderIntent, filled: bool) -> None:
        """Router hook: forget an entry that never filled; count a close that ended a position."""
        if intent.purpose is IntentPurpose.OPEN:
            if not filled:
                self.session.forget(intent.position_id)
            return
        strategy = self.strategies[intent.strategy]
        pos = strategy.positions.get(intent.position_id)
        if filled and pos is not None and pos.state is PositionState.CLOSED:
            self._closed(strategy, pos, now_utc(self.algorithm))

    def on_partial(self, intent: OrderIntent, units: int, fill_net_pts: float) -> None:
        """Router hook: ``units`` whole units of ``intent`` filled (fewer than asked). An entry
        is booked at its real size; a close realizes the P&L of ``units`` units (fees stay with
        the position until it closes whole) and the rest stays booked."""
        now = now_utc(self.algorithm)
        if intent.purpose is IntentPurpose.OPEN:
            self.session.resize(intent.position_id, units, intent.quantity)
            return
        strategy = self.strategies[intent.strategy]
        pos = strategy.positions.get(intent.position_id)
        if pos is None:
            return
        pnl = math.nan if pos.entry_net_pts is None else (
            -(pos.entry_net_pts + fill_net_pts) * units * pos.structure.multiplier_usd_per_pt)
        if math.isfinite(pnl):
            key = (strategy.name, pos.position_id)
            self.partial_realized_usd[key] = self.partial_realized_usd.get(key, 0.0) + pnl
        self.journal.note(now, strategy.name, "REALIZED", f"{pos.position_id}: {pnl:+,.2f} USD on {units} of "
                          f"{pos.quantity} units (partial close)")
        notice = self.session.on_reduced(pos.position_id, strategy.name, pos.quantity - units, pos.quantity, pnl, now)
        for text in notice.alerts:
            self.alerts.alert(text)
        self._act(notice.flatten_requested, notice.close_losers_requested, now)

    def block_entries(self, text: str) -> None:
        """Critical alert, and new entries blocked through the gate (host block
        ``unwind_failed``, :mod:`risk.host_blocks`: no period, it holds until an operator clears
        it; it shows in the gate state)."""
        now = now_utc(self.algorithm)
        block = HostBlock.UNWIND_FAILED
        block_host_entries(self.session.gate.state, block, text, now)
        self.alerts.alert(f"CRITICAL {text}; new entries blocked until an operator clears '{block.value}'")

    def on_settled(self, strategy: Strategy, pos: StrategyPosition, time_utc: datetime) -> None:
        """Settlement hook: a position settled whole."""
        self._closed(strategy, pos, time_utc)

    def _closed(self, strategy: Strategy, pos: StrategyPosition, now: datetime) -> None:
        key = (strategy.name, pos.position_id)
        if key in self._reported:
            return
        self._reported.add(key)
        fees = self.router.fees_usd.get(key, 0.0)
        pnl = realized_usd(pos, fees)
        self.journal.note(now, strategy.name, "REALIZED",
                          f"{pos.position_id}: {pnl:+,.2f} USD after {fees:,.2f} USD fees ({pos.exit_reason})")
        notice = self.session.on_closed(pos.position_id, strategy.name, pnl, now)
        for text in notice.alerts:
            self.alerts.alert(text)
        self._act(notice.flatten_requested, notice.close_losers_requested, now)

    # ----- flatten / close losers --------------------------------------------------------------
    def _act(self, flatten: bool, losers_only: bool, now: datetime) -> None:
        """Close every open position (flatten, after canceling working entries) or the losing
        ones, at the natural price."""
        if not (flatten or losers_only):
            return
        why = FLATTEN if flatten else CLOSE_LOSER
        if flatten:
            self.router.cancel_entries(why)
        for strategy in self.strategies.values():
            for pos in [p for p in strategy.open_positions() if p.state is PositionState.OPEN]:
                close = self._reviewed_close(strategy, pos, why, not flatten, now)
                if close is not None:
                    self._send_close(strategy, pos, close, why, now)

    def _reviewed_close(self, strategy: Strategy, pos: StrategyPosition, why: str, losers_only: bool,
                        now: datetime) -> OrderIntent | None:
        """The close of ``pos`` the gate's exit checks approved (:func:`risk.flatten.host_close`),
        else ``None`` (a refusal or an unpriceable leg is alerted)."""
        out = host_close(self.session, strategy.name, pos, self.leg_quote, strategy.subscription().root, why,
                         losers_only, now)
        if out.alert:
            self.alerts.alert(out.alert)
        return out.intent

    def close_whole(self, strategy: Strategy, pos: StrategyPosition, why: str, now: datetime) -> bool:
        """Close the whole structure ``pos`` at the natural price (journaled, as a flatten);
        False when a leg has no quote (alerted), it is not open, or the close was refused
        before or at sending (the router has then reported it unfilled: the position is OPEN
        again, alerted)."""
        if pos.state is not PositionState.OPEN:
            return False
        close = self._reviewed_close(strategy, pos, why, False, now)
        return close is not None and self._send_close(strategy, pos, close, why, now)

    def _send_close(self, strategy: Strategy, pos: StrategyPosition, close: OrderIntent, why: str,
                    now: datetime) -> bool:
        """Send ``close`` for ``pos``; True when it is under way (sent, or held until the close
        it replaces is dead); False when refused before or at sending (the router reported it
        unfilled, which set the position OPEN again)."""
        pos.state, pos.exit_reason = PositionState.CLOSING, why
        self.journal.note(now, strategy.name, why, f"{pos.position_id}: closing at the natural "
                          f"{close.limit_pts:+.2f} pts")
        self.router.send(close)
        return _closing(pos)

    def quote(self, key: str) -> tuple[float, float]:
        """``(bid, ask)`` in points of the contract ``key`` now; NaN for a missing side, and
        both NaN when the last real quote is fill-forwarded or older than
        ``max_quote_age_min`` plus one bar (:func:`leanhost.freshness.is_fresh`: a stale quote
        is no price)."""
        return self.quote_symbol(self.router.symbols.get(key))

    def quote_symbol(self, symbol: Symbol | None) -> tuple[float, float]:
        """:meth:`quote` of a LEAN ``symbol`` (an option or its underlying future/index)."""
        securities = self.algorithm.securities
        if symbol is None or not securities.contains_key(symbol):
            return math.nan, math.nan
        security = securities[symbol]
        limit_min = self.params.max_quote_age_min + self.market.bar_minutes_of(symbol)
        if not is_fresh(security, now_utc(self.algorithm), limit_min):
            return math.nan, math.nan
        return quote_pts(security.bid_price), quote_pts(security.ask_price)

    def leg_quote(self, key: str) -> LegQuote | None:
        """The quote of the contract ``key`` now with its real time
        (:func:`leanhost.nlv_marks.leg_quote`), ``None`` when LEAN has no such security."""
        symbol = self.router.symbols.get(key)
        securities = self.algorithm.securities
        if symbol is None or not securities.contains_key(symbol):
            return None
        return leg_quote(securities[symbol], key, now_utc(self.algorithm))

    # ----- journal and state ------------------------------------------------------------------
    def journal_verdicts(self) -> None:
        """Journal the session's verdict rows not journaled yet, then drop them from the
        session (the journal keeps them: memory stays bounded in a months-long run)."""
        rows = self.session.journal
        for row in rows[self._journaled:]:
            self.journal.verdict(row)
        rows.clear()
        self._journaled = 0

    def save_if_changed(self) -> None:
        """Save the state when it differs from the last save."""
        text = state_text(self.session)
        if text != self.saved_text and save_state(self.algorithm, self.keys, text):
            self.saved_text = text
