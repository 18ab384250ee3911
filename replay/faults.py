"""Fault replay: ``python -m replay --fault KIND@TIME[/MINUTES]`` (repeatable, issue 8 item 5).

``TIME`` is a **New York wall-clock minute** (America/New_York, the exchange's clock and the
replay's), written ``YYYY-MM-DDTHH:MM`` with no zone or offset: ``Z``, ``+00:00``, seconds or a
minute that does not exist or is ambiguous in New York (the DST change) are refused. ``MINUTES``
is the length of a window or delay (defaults in :data:`DEFAULT_MINUTES`).

Kinds (each fires from the first replay minute at or after ``TIME``):

* ``rejected_order``: the next order submitted is rejected by the broker (the strategy hears
  of it at the next minute, as an ``Invalid`` order event comes in LEAN).
* ``partial_fill``: the next fill fills only part (:mod:`replay.fault_broker`): a multi-unit
  combo fills ``quantity // 2`` whole units and the rest is canceled; a one-unit combo fills
  its first leg and not the others, as a live broker may (LEAN's own fill model fills a combo
  all or none: ``Common/Orders/Fills/FillModel.cs``, ``ComboLimitFill``). The leg out of ratio is
  unwound with a marketable limit as the LEAN host does (``leanhost/orders.py``
  ``OrderRouter._partial``, ``leanhost/unwinds.py``).
* ``delayed_cancel``: the next time-out of a working order takes effect ``MINUTES`` late; the
  order keeps working meanwhile and a fill can arrive in between.
* ``data_gap``: no quotes for ``MINUTES`` (broker, marks, strategies' chains).
* ``crossed_quote``: ``MINUTES`` (default 1) of crossed quotes on every contract (:func:`crossed`:
  the bid a whole premium above the ask) in the broker, the marks and the strategies' chains.
* ``broker_disconnect``: no order accepted for ``MINUTES``; entries are blocked through the gate
  with :class:`risk.host_blocks.HostBlock.DISCONNECTED` and released at the reconnect, as the
  LEAN host does (``leanhost/brokerage_events.py``, ``on_disconnect``/``on_reconnect``).
* ``kill_switch``: the operator's kill switch is flipped on (:func:`safety.kill_switch.set_kill_switch`).
* ``restart``: the process dies at ``TIME`` and resumes from its state file (:mod:`replay.restart`).

Every fault that fires is journaled in :attr:`FaultPlan.log` (``summary.json`` ``invariants.faults``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np

from replay.markets import Quotes
from replay.schedule import NEW_YORK
from risk.host_blocks import HostBlock, block_entries, release
from risk.state import TradingState
from strategies.base import MarketContext

if TYPE_CHECKING:
    from replay.engine import ReplayResult
    from risk.gate_session import GateSession


class FaultError(ValueError):
    """A ``--fault`` argument that cannot be understood; the message names it and the syntax."""


class FaultKind(Enum):
    """What goes wrong; the value is the name on the command line."""

    REJECTED_ORDER = "rejected_order"
    PARTIAL_FILL = "partial_fill"
    DELAYED_CANCEL = "delayed_cancel"
    DATA_GAP = "data_gap"
    CROSSED_QUOTE = "crossed_quote"
    BROKER_DISCONNECT = "broker_disconnect"
    KILL_SWITCH = "kill_switch"
    RESTART = "restart"


DEFAULT_MINUTES = {FaultKind.DELAYED_CANCEL: 10, FaultKind.DATA_GAP: 30, FaultKind.CROSSED_QUOTE: 1,
                   FaultKind.BROKER_DISCONNECT: 30}
"""Window or delay length (minutes) of the kinds that have one; the others take none."""

SYNTAX = "KIND@YYYY-MM-DDTHH:MM[/MINUTES], TIME a New York (America/New_York) wall-clock minute without zone"
_PATTERN = re.compile(r"(?P<kind>[a-z_]+)@(?P<time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(?:/(?P<minutes>\d+))?")


@dataclass(frozen=True)
class Fault:
    """One fault: its kind, the UTC instant of its New York minute, and its window/delay length."""

    kind: FaultKind
    at_utc: datetime
    minutes: int
    text: str

    @property
    def end_utc(self) -> datetime:
        """End (exclusive) of the fault's window."""
        return self.at_utc + timedelta(minutes=self.minutes)

    def covers(self, t_utc: datetime) -> bool:
        """True while ``t_utc`` is inside the window ``[at, at + minutes)``."""
        return self.at_utc <= t_utc < self.end_utc


def parse_fault(text: str) -> Fault:
    """Parse one ``--fault`` value (:data:`SYNTAX`).

    Raises:
        FaultError: unknown kind, a time that is not a New York minute (zone, offset, seconds,
            non-existent or ambiguous at a DST change), a window on a kind without one, or 0 minutes.
    """
    m = _PATTERN.fullmatch(text.strip())
    if m is None:
        raise FaultError(f"--fault {text!r}: expected {SYNTAX}")
    try:
        kind = FaultKind(m["kind"])
    except ValueError:
        names = ", ".join(k.value for k in FaultKind)
        raise FaultError(f"--fault {text!r}: unknown kind {m['kind']!r} (one of {names})") from None
    local = datetime.fromisoformat(m["time"])
    at = local.replace(tzinfo=NEW_YORK)
    back = at.astimezone(UTC).astimezone(NEW_YORK)
    other = local.replace(tzinfo=NEW_YORK, fold=1).astimezone(UTC)
    if back.replace(tzinfo=None) != local or other != at.astimezone(UTC):
        raise FaultError(f"--fault {text!r}: {m['time']} does not exist or is ambiguous in New York (DST change)")
    if m["minutes"] is not None and kind not in DEFAULT_MINUTES:
        raise FaultError(f"--fault {text!r}: {kind.value} takes no /MINUTES")
    minutes = int(m["minutes"]) if m["minutes"] is not None else DEFAULT_MINUTES.get(kind, 0)
    if kind in DEFAULT_MINUTES and minutes < 1:
        raise FaultError(f"--fault {text!r}: /MINUTES must be at least 1")
    return Fault(kind, at.astimezone(UTC), minutes, text.strip())


@dataclass
class FaultPlan:
    """The faults of one run and what they did; the engine's hooks call into it.

    One-shot kinds (rejected order, partial fill, delayed cancel) are *armed* at their time and
    consumed by the first order they apply to (:meth:`take`).
    """

    faults: list[Fault] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    used: set[int] = field(default_factory=set)
    session: GateSession | None = None
    result: ReplayResult | None = None
    disconnected: bool = False
    sent_while_halted: list[tuple[int, str]] = field(default_factory=list)  # (order id, purpose)
    restarts: list[dict[str, Any]] = field(default_factory=list)  # replay.restart's records

    @classmethod
    def parse(cls, texts: list[str]) -> FaultPlan:
        """A plan from ``--fault`` values (:func:`parse_fault` each)."""
        return cls([parse_fault(t) for t in texts])

    def of(self, kind: FaultKind) -> list[Fault]:
        return [f for f in self.faults if f.kind is kind]

    def note(self, fault: Fault, t_utc: datetime, effect: str) -> None:
        """Journal what ``fault`` did at ``t_utc``."""
        self.log.append({"fault": fault.text, "kind": fault.kind.value, "time_utc": t_utc.isoformat(),
                         "time_et": t_utc.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M"), "effect": effect})

    def _due_index(self, kind: FaultKind, t_utc: datetime) -> int | None:
        return next((i for i, f in enumerate(self.faults)
                     if f.kind is kind and i not in self.used and f.at_utc <= t_utc), None)

    def due(self, kind: FaultKind, t_utc: datetime) -> Fault | None:
        """The first armed, unused one-shot fault of ``kind`` due at ``t_utc``."""
        i = self._due_index(kind, t_utc)
        return None if i is None else self.faults[i]

    def take(self, kind: FaultKind, t_utc: datetime) -> Fault | None:
        """:meth:`due`, now used."""
        i = self._due_index(kind, t_utc)
        if i is None:
            return None
        self.used.add(i)
        return self.faults[i]

    def active(self, kind: FaultKind, t_utc: datetime) -> Fault | None:
        """The fault of ``kind`` whose window covers ``t_utc``, if any."""
        return next((f for f in self.of(kind) if f.covers(t_utc)), None)

    def not_applied(self) -> list[str]:
        """Faults that never did anything (armed, but no order, fill or time-out came after them)."""
        done = {entry["fault"] for entry in self.log}
        return [f.text for f in self.faults if f.text not in done]

    # ----- engine hooks ------------------------------------------------------------------
    def attach(self, session: GateSession, result: ReplayResult) -> None:
        """Hook, once the gate session is built or restored: the run's session and result (for
        blocks, the kill switch and alerts). After a restart: the restored gate's trips, before
        the start reconciliation adds any, are compared with those in force when the process
        died (``trips_preserved``)."""
        self.session, self.result = session, result
        pending = [r for r in self.restarts if r.get("state_file_valid") and "trips_after_resume" not in r]
        for record in pending:
            after = sorted(session.gate.state.tripped)
            record["trips_after_resume"] = after
            record["trips_preserved"] = set(record["trips_before"]) <= set(after)

    def alert(self, text: str, t_utc: datetime) -> None:
        if self.result is not None:
            self.result.alerts.append(f"{t_utc.isoformat()} {text}")

    def on_minute(self, t_utc: datetime) -> bool:
        """Hook, first thing each minute: the kill switch flips, the brokerage disconnects or
        reconnects (entry block set or released through the gate, as the LEAN host does).
        True when a fault did something (the durable state may have changed)."""
        assert self.session is not None
        if not self.faults and not self.disconnected:  # no fault planned (every run without --fault)
            return False
        before = len(self.log)
        self._kill_switch(t_utc)
        self._windows(t_utc)
        self._connection(t_utc)
        return len(self.log) != before

    def _kill_switch(self, t_utc: datetime) -> None:
        assert self.session is not None
        while (f := self.take(FaultKind.KILL_SWITCH, t_utc)) is not None:
            self.alert(self.session.gate.set_kill_switch(True, "fault replay", t_utc, f.text), t_utc)
            self.note(f, t_utc, "kill switch on")

    def _windows(self, t_utc: datetime) -> None:
        """Journal the first minute of each data gap and crossed-quote window."""
        for i, f in enumerate(self.faults):
            if f.kind in (FaultKind.DATA_GAP, FaultKind.CROSSED_QUOTE) and i not in self.used and f.covers(t_utc):
                self.used.add(i)
                what = "no quotes" if f.kind is FaultKind.DATA_GAP else "crossed quotes on every contract"
                self.note(f, t_utc, f"{what} until {f.end_utc:%H:%M}Z")

    def _connection(self, t_utc: datetime) -> None:
        """Disconnect at a window's first minute (entries blocked), reconnect after its last."""
        assert self.session is not None
        down = self.active(FaultKind.BROKER_DISCONNECT, t_utc)
        state = self.session.gate.state
        if down is not None and not self.disconnected:
            self.disconnected = True
            text = block_entries(state, HostBlock.DISCONNECTED, f"brokerage disconnected at {t_utc:%Y-%m-%d %H:%M}Z "
                                 f"(fault {down.text})", t_utc)
            if text:
                self.alert(text, t_utc)
            self.note(down, t_utc, f"disconnected until {down.end_utc:%H:%M}Z: no order accepted, entries blocked")
        elif down is None and self.disconnected:
            self.disconnected = False
            text = release(state, HostBlock.DISCONNECTED, "brokerage", t_utc, f"reconnected at {t_utc:%H:%M}Z")
            if text:
                self.alert(text, t_utc)
            last = [f for f in self.of(FaultKind.BROKER_DISCONNECT) if f.end_utc <= t_utc][-1]
            self.note(last, t_utc, "reconnected: entry block released")

    def halted(self) -> bool:
        """True while the gate's trading state is HALTED (kill switch or the drawdown flatten step)."""
        if self.session is None:
            return False
        return self.session.gate.state.trading_state(self.session.params.kill_switch) is TradingState.HALTED

    def context(self, ctx: MarketContext, t_utc: datetime) -> MarketContext:
        """Hook: the strategy's context at ``t_utc``: no chain and no price in a data gap, a
        crossed chain in a crossed minute, else ``ctx`` itself."""
        gap = self.active(FaultKind.DATA_GAP, t_utc)
        cross = self.active(FaultKind.CROSSED_QUOTE, t_utc)
        if gap is None and cross is None:
            return ctx
        chain, problem = None, f"no quotes: data gap (fault {gap.text})" if gap else ""
        if gap is None and ctx.chain is not None:
            c = ctx.chain
            bid, ask = crossed(c.bid_pts, c.ask_pts)
            chain = _replace_chain(c, bid_pts=bid, ask_pts=ask)
        return MarketContext(ctx.time_utc, ctx.today_et, chain, ctx.rate_frac, problem or ctx.chain_problem,
                             ctx.underlying_daily, float("nan") if gap else ctx.underlying_pts, ctx.vix_level,
                             ctx.nlv_usd, ctx.event_dates, ctx.vix_daily, ctx.future_initial_margin_usd)


def crossed(bid: Any, ask: Any) -> tuple[Any, Any]:
    """A badly crossed quote from ``(bid, ask)`` (floats or arrays, points): the bid a whole
    premium above the ask (``ask + max(ask, 1)``), the ask at the old bid. Its "mid" is about
    1.5 times the real one: a price only a check for crossed quotes refuses."""
    return ask + np.maximum(ask, 1.0), bid


def _replace_chain(chain: Any, **arrays: np.ndarray) -> Any:
    return replace(chain, **arrays)


class FaultyQuotes(Quotes):
    """:class:`replay.markets.Quotes` seen through the plan: NaN in a data gap (the last mid is
    the one before the gap), :func:`crossed` in a crossed minute."""

    def __init__(self, inner: Quotes, plan: FaultPlan) -> None:
        super().__init__(inner.markets)
        self.plan = plan

    def quote(self, symbol: str, t_utc: datetime) -> tuple[float, float]:
        if self.plan.active(FaultKind.DATA_GAP, t_utc) is not None:
            return float("nan"), float("nan")
        bid, ask = super().quote(symbol, t_utc)
        if self.plan.active(FaultKind.CROSSED_QUOTE, t_utc) is not None and np.isfinite(bid) and np.isfinite(ask):
            return crossed(bid, ask)
        return bid, ask

    def last_mid(self, symbol: str, t_utc: datetime) -> float:
        gap = self.plan.active(FaultKind.DATA_GAP, t_utc)
        return super().last_mid(symbol, gap.at_utc - timedelta(minutes=1) if gap else t_utc)
