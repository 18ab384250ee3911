"""What every strategy shares: the market context a host passes in, the positions a
strategy owns, and the host-facing methods (schedules, decisions, order events).

Hosts (``leanhost`` in LEAN, ``replay`` offline) call, in this order of life:

1. :meth:`Strategy.schedules` and :meth:`Strategy.subscription` once at start;
2. :meth:`Strategy.on_schedule` at each scheduled time, with a fresh :class:`MarketContext`;
   it returns decisions, some carrying an :class:`~thetacore.decisions.OrderIntent`;
3. :meth:`Strategy.on_filled` / :meth:`Strategy.on_unfilled` when the combo order of an
   intent fills whole or ends without a fill (canceled, rejected, timed out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from thetacore.chain import ChainSnapshot
from thetacore.decisions import Decision, OrderIntent, Reason
from thetacore.durable_state import Fields, StateError, iso
from thetacore.enums import Action, IntentPurpose
from thetacore.futures_margins import scan_range_frac
from thetacore.market_stats import DailyBars
from thetacore.schedule import ScheduleRule
from thetacore.structures import Structure


@dataclass(frozen=True)
class MarketContext:
    """Everything a strategy may look at for one decision.

    Attributes:
        time_utc: decision time, timezone-aware UTC.
        today_et: the exchange calendar date of the decision (America/New_York).
        chain: raw option chain (no greeks yet) or ``None`` when the host has none.
        chain_problem: the host's reason when ``chain`` is ``None`` or partial.
        rate_frac: risk-free rate as a fraction (LEAN's interest-rate series).
        underlying_daily: completed daily bars of the underlying (front future for
            futures options), oldest first; ``None`` when the host has none.
        underlying_pts: the underlying's price now (index level, stock price, or the front
            future's mid), NaN when unknown.
        vix_level: VIX now (index points), NaN when the host has no VIX: never a default.
        nlv_usd: account net liquidation value in dollars, NaN when unknown.
        event_dates: listed earnings/event dates of the underlying (user-maintained file).
        vix_daily: completed daily VIX bars (close = the session's VIX close), oldest first;
            ``None`` when the host has none. A labelled IV-rank proxy before a strategy has
            its own IV history (:mod:`strategies.futures_strangle`).
        future_initial_margin_usd: the exchange's initial margin per contract of the outright
            future on ``today_et`` (LEAN's ``future/<market>/margins/<ROOT>.csv``, read by
            :mod:`thetacore.futures_margins`), NaN when the host has none: the futures-option
            scan range then comes from the ``futures_scan_range_frac`` parameter.
    """

    time_utc: datetime
    today_et: date
    chain: ChainSnapshot | None
    rate_frac: float
    chain_problem: str = ""
    underlying_daily: DailyBars | None = None
    underlying_pts: float = float("nan")
    vix_level: float = float("nan")
    nlv_usd: float = float("nan")
    event_dates: tuple[date, ...] = ()
    vix_daily: DailyBars | None = None
    future_initial_margin_usd: float = float("nan")

    def futures_scan_range_frac(self, multiplier_usd_per_pt: float, fallback_frac: float) -> float:
        """The day's SPAN price scan range (fraction of the futures price) from
        :attr:`future_initial_margin_usd` and :attr:`underlying_pts`, else ``fallback_frac``
        (:func:`thetacore.futures_margins.scan_range_frac`)."""
        return scan_range_frac(self.future_initial_margin_usd, multiplier_usd_per_pt, self.underlying_pts,
                               fallback_frac)

    def chain_for(self, symbols: Iterable[str]) -> ChainSnapshot | None:
        """The chain that quotes the contracts ``symbols`` (a position's legs): :attr:`chain`
        when it has every one of them; else the micro's chain when the host gives one that has
        them all (a position the risk gate moved to the micro under the halve step, issue 11:
        :mod:`risk.micro_move`; :meth:`micro_chain`); else :attr:`chain` (its missing rows are
        the caller's ``QuoteError`` / ``KeyError``, as before)."""
        wanted = list(symbols)
        chain = self.chain
        if chain is not None and all(s in chain.symbol_index() for s in wanted):
            return chain
        micro = self.micro_chain()
        if micro is not None and wanted and all(s in micro.symbol_index() for s in wanted):
            return micro
        return chain

    def held_chain(self, symbols: Iterable[str]) -> ChainSnapshot | None:
        """A snapshot of only the contracts ``symbols`` (a position's legs) when the host reads
        them without the whole chain (here: never; :class:`LazyChainContext` with the LEAN
        host's ``held_load``), else None: the caller then uses :attr:`chain`."""
        return None

    def micro_chain(self) -> ChainSnapshot | None:
        """The micro product's chain next to :attr:`chain` (MES next to ES), None when the host
        gives none (here: never; :class:`LazyChainContext` reads it on first use)."""
        return None

    def micro_chain_read(self) -> ChainSnapshot | None:
        """:meth:`micro_chain` when it has already been read, else None (never reads it:
        a later reader must not read a chain stamped with this context's time)."""
        return None


ChainLoad = Callable[[], tuple[ChainSnapshot | None, str, float | None]]
"""A host's chain read: ``(chain, problem, underlying_pts)``; ``None`` for the price keeps
the one the context was built with."""

HeldLoad = Callable[[tuple[str, ...]], ChainSnapshot | None]
"""A host's read of only the contracts named (a position's legs): a snapshot with their rows,
or ``None`` when the host cannot read them alone (the caller then reads the whole chain)."""


class LazyChainContext(MarketContext):
    """A :class:`MarketContext` whose ``chain``, ``chain_problem`` and, when the host's read
    gives it, ``underlying_pts`` come from one call of a loader (:data:`ChainLoad`) on the
    first read of any of them: a rule that reads none of them (a management rule with
    nothing to manage) costs no chain read. Built by :meth:`deferred` (issue 10: replay and
    LEAN host)."""

    @classmethod
    def deferred(cls, time_utc: datetime, today_et: date, load: ChainLoad, rate_frac: float, *,
                 underlying_daily: DailyBars | None, underlying_pts: float | None, vix_level: float,
                 nlv_usd: float, event_dates: tuple[date, ...],
                 vix_daily: DailyBars | None = None,
                 future_initial_margin_usd: float = float("nan"),
                 micro_load: Callable[[], ChainSnapshot | None] | None = None,
                 held_load: HeldLoad | None = None) -> LazyChainContext:
        """A context whose chain comes from ``load`` on first read; ``underlying_pts=None``:
        the price comes from the same read. ``micro_load`` reads the micro's chain
        (:meth:`micro_chain`) once, on first use. ``held_load`` reads only a position's legs
        for :meth:`chain_for` while the whole chain is unread (issue 10: the LEAN host;
        without it :meth:`chain_for` reads the whole chain, as the replay does)."""
        ctx = cls(time_utc, today_et, None, rate_frac, "", underlying_daily, float("nan"), vix_level, nlv_usd,
                  event_dates, vix_daily, future_initial_margin_usd)
        ctx.__dict__["_loader"] = load
        ctx.__dict__["_micro_loader"] = micro_load
        ctx.__dict__["_held_loader"] = held_load
        ctx.__dict__["_held"] = []
        ctx.__dict__["_under_from_read"] = underlying_pts is None
        ctx.__dict__["_under"] = float("nan") if underlying_pts is None else underlying_pts
        return ctx

    def _load(self) -> None:
        state = self.__dict__
        loader = state.pop("_loader", None)
        if loader is not None:
            chain, problem, under = loader()
            state["_chain"] = chain
            state["_problem"] = problem or state.get("_problem", "")
            if under is not None:
                state["_under"] = under

    @property  # a dataclass field made lazy: same type
    def chain(self) -> ChainSnapshot | None:
        self._load()
        chain: ChainSnapshot | None = self.__dict__.get("_chain")
        return chain

    @chain.setter
    def chain(self, value: ChainSnapshot | None) -> None:
        self.__dict__["_chain"] = value

    @property
    def chain_problem(self) -> str:
        self._load()
        return str(self.__dict__.get("_problem", ""))

    @chain_problem.setter
    def chain_problem(self, value: str) -> None:
        self.__dict__["_problem"] = value

    @property
    def underlying_pts(self) -> float:
        if self.__dict__.get("_under_from_read"):
            self._load()
        return float(self.__dict__.get("_under", float("nan")))

    @underlying_pts.setter
    def underlying_pts(self, value: float) -> None:
        self.__dict__["_under"] = value

    def chain_for(self, symbols: Iterable[str]) -> ChainSnapshot | None:
        """:meth:`held_chain` of ``symbols`` when the host reads them alone, else
        :meth:`MarketContext.chain_for` (the whole chain, read once)."""
        wanted = list(dict.fromkeys(symbols))
        held = self.held_chain(wanted)
        return held if held is not None else super().chain_for(wanted)

    def held_chain(self, symbols: Iterable[str]) -> ChainSnapshot | None:
        """While the whole chain is unread and the host gives ``held_load``: a snapshot of
        only the contracts ``symbols`` (a position's legs; read once per context, a later ask
        for some of them reuses it). None without ``held_load``, once the whole chain is read
        (it quotes them all), or when the host cannot read them alone."""
        wanted = list(dict.fromkeys(symbols))
        state = self.__dict__
        loader: HeldLoad | None = state.get("_held_loader")
        if not wanted or loader is None or self.chain_loaded:
            return None
        held: list[ChainSnapshot] = state["_held"]
        for snap in held:
            if all(s in snap.symbol_index() for s in wanted):
                return snap
        snap = loader(tuple(wanted))
        if snap is None or not all(s in snap.symbol_index() for s in wanted):
            return None
        held.append(snap)
        return snap

    def micro_chain(self) -> ChainSnapshot | None:
        """The micro's chain from the host's ``micro_load`` (read once, on first use); None
        without one."""
        state = self.__dict__
        loader = state.pop("_micro_loader", None)
        if loader is not None:
            state["_micro"] = loader()
        micro: ChainSnapshot | None = state.get("_micro")
        return micro

    def micro_chain_read(self) -> ChainSnapshot | None:
        """The micro's chain if :meth:`micro_chain` read it, else None (never reads it)."""
        micro: ChainSnapshot | None = self.__dict__.get("_micro")
        return micro

    @property
    def chain_loaded(self) -> bool:
        """Whether the chain has been read."""
        return "_loader" not in self.__dict__


@dataclass(frozen=True)
class Subscription:
    """The option data a strategy needs the host to subscribe to.

    Attributes:
        root: underlying root (``"ES"``).
        kind: ``"future_option"``, ``"index_option"`` or ``"equity_option"``.
        dte_min, dte_max: expiries to keep, in calendar days.
        strike_range_frac: keep strikes within this fraction of the underlying price.
        resolution: ``"minute"``, ``"hour"`` or ``"daily"`` (LEAPs: a coarse resolution).
        contracts_only: subscribe single chosen contracts (``add_option_contract``) rather
            than a filtered chain universe (LEAPs).
        needs_vix: the strategy reads VIX (host subscribes LEAN's VIX index).
    """

    root: str
    kind: str
    dte_min: int
    dte_max: int
    strike_range_frac: float
    resolution: str = "minute"
    contracts_only: bool = False
    needs_vix: bool = False


class PositionState(Enum):
    """Life of a strategy position."""

    OPENING = "opening"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


@dataclass
class StrategyPosition:
    """One structure a strategy opened (or is opening), with its own book-keeping.

    ``entry_net_pts`` uses LEAN's sign (negative = credit received), per unit.
    """

    position_id: str
    structure: Structure
    quantity: int
    state: PositionState
    opened_utc: datetime | None = None
    entry_net_pts: float | None = None
    exit_net_pts: float | None = None
    closed_utc: datetime | None = None
    exit_reason: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def credit_pts(self) -> float:
        """Credit received per unit in points (> 0 for a credit structure)."""
        return -(self.entry_net_pts or 0.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: the structure (legs with the host's contract identifiers), quantity
        in units, state by value, times ISO UTC, prices in points per unit (LEAN sign)."""
        return {"position_id": self.position_id, "structure": self.structure.to_dict(), "quantity": self.quantity,
                "state": self.state.value, "opened_utc": iso(self.opened_utc), "entry_net_pts": self.entry_net_pts,
                "exit_net_pts": self.exit_net_pts, "closed_utc": iso(self.closed_utc),
                "exit_reason": self.exit_reason, "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: Any, path: str) -> StrategyPosition:
        """The position :meth:`to_dict` wrote.

        Raises:
            StateError: naming the key path of a missing or mistyped field, a quantity < 0,
                or an open position without its entry price or time.
        """
        f = Fields(data, path)
        pos = cls(f.string("position_id"), Structure.from_dict(f.raw("structure"), f.at("structure")),
                  f.integer("quantity"), f.enum("state", PositionState), f.opt_instant("opened_utc"),
                  f.opt_number("entry_net_pts"), f.opt_number("exit_net_pts"), f.opt_instant("closed_utc"),
                  f.string("exit_reason"), f.strings("notes"))
        if pos.quantity < 0:
            raise f.error("quantity", f"must be >= 0, got {pos.quantity}")
        if pos.state in (PositionState.OPEN, PositionState.CLOSING) and (
                pos.entry_net_pts is None or pos.opened_utc is None):
            raise f.error("entry_net_pts", f"a {pos.state.value} position needs its entry price and time")
        return pos


class Strategy:
    """Base class: position book-keeping shared by every strategy.

    Subclasses set :attr:`name` and implement :meth:`schedules`, :meth:`subscription` and
    :meth:`on_schedule`.
    """

    name: str = "strategy"

    def __init__(self) -> None:
        self.positions: dict[str, StrategyPosition] = {}

    def schedules(self) -> list[ScheduleRule]:
        raise NotImplementedError

    def subscription(self) -> Subscription:
        raise NotImplementedError

    def start_refusal(self) -> str | None:
        """Why this strategy must not run with its parameters (one line, shown by the host
        at start), or ``None``. Both hosts drop a strategy that refuses: the LEAN host logs
        it with ``error`` and neither subscribes nor schedules it; the replay lists it in
        ``problems``."""
        return None

    def subscriptions(self) -> list[Subscription]:
        """Every data window the strategy needs (same kind and root); by default its one
        :meth:`subscription`. The LEAN host subscribes each; the replay serves the root."""
        return [self.subscription()]

    def handlers(self) -> dict[str, Callable[[MarketContext], list[Decision]]]:
        """Schedule rule name -> what runs at it (one entry per rule of :meth:`schedules`)."""
        raise NotImplementedError

    def on_schedule(self, rule_name: str, ctx: MarketContext) -> list[Decision]:
        """Run the handler of ``rule_name``.

        Raises:
            ValueError: for a rule this strategy does not schedule.
        """
        handler = self.handlers().get(rule_name)
        if handler is None:
            raise ValueError(f"{self.name}: unknown schedule {rule_name!r}")
        return handler(ctx)

    def held(self, ctx: MarketContext, pos: StrategyPosition, reasons: tuple[Reason, ...]) -> Decision:
        """A HELD decision about ``pos`` (an exit due or a check that could not be priced)."""
        return Decision(ctx.time_utc, self.name, Action.HELD, reasons, None, {"position_id": pos.position_id})

    def exit_decisions(self, ctx: MarketContext, reason_of: Callable[[StrategyPosition], Reason | None],
                       close: Callable[[StrategyPosition, Reason], Decision]) -> list[Decision]:
        """For every OPEN position: its exit reason; ``NO_QUOTES`` -> a HELD decision (the
        position cannot be valued, so nothing is sent); any other reason -> ``close``."""
        out = []
        for pos in [q for q in self.open_positions() if q.state is PositionState.OPEN]:
            reason = reason_of(pos)
            if reason is None:
                continue
            out.append(self.held(ctx, pos, (reason,)) if reason.code == "NO_QUOTES" else close(pos, reason))
        return out

    # ----- durable state (thetacore.durable_state) ---------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything this strategy must remember across a restart, JSON-safe:
        ``{"name", "positions": [StrategyPosition.to_dict()...], "extra": {...}}`` where
        ``extra`` is the subclass's own management state (:meth:`extra_state`)."""
        return {"name": self.name, "positions": [p.to_dict() for p in self.positions.values()],
                "extra": self.extra_state()}

    def restore_state(self, data: Any, path: str = "") -> None:
        """Replace this strategy's positions and management state by ``data``
        (:meth:`state_dict`); nothing changes when it raises.

        Raises:
            StateError: naming the key path (under ``path``, default ``strategies.<name>``) of
                a section that is not this strategy's or is malformed.
        """
        f = Fields(data, path or f"strategies.{self.name}")
        if f.string("name") != self.name:
            raise f.error("name", f"section of {f.string('name')!r}, not of {self.name!r}")
        positions: dict[str, StrategyPosition] = {}
        for item in f.objects("positions"):
            pos = StrategyPosition.from_dict(item.data, item.path)
            if pos.position_id in positions:
                raise StateError(item.at("position_id"), f"duplicate position {pos.position_id!r}")
            positions[pos.position_id] = pos
        apply = self.read_extra_state(f.obj("extra"), positions)
        self.positions = positions
        apply()

    def extra_state(self) -> dict[str, Any]:
        """The subclass's management state beyond its positions (JSON-safe); none here."""
        return {}

    def read_extra_state(self, extra: Fields, positions: dict[str, StrategyPosition]) -> Callable[[], None]:
        """Check ``extra`` (what :meth:`extra_state` wrote) against ``positions`` and return
        the function that applies it; checking never changes the strategy.

        Raises:
            StateError: for a missing or mistyped field.
        """
        return lambda: None

    def open_positions(self) -> list[StrategyPosition]:
        """Positions not yet closed (opening, open or closing)."""
        return [p for p in self.positions.values() if p.state is not PositionState.CLOSED]

    def on_filled(self, intent: OrderIntent, fill_net_pts: float, time_utc: datetime) -> None:
        """The combo of ``intent`` filled whole at ``fill_net_pts`` per unit (LEAN sign)."""
        pos = self.positions[intent.position_id]
        if intent.purpose is IntentPurpose.OPEN:
            pos.state, pos.entry_net_pts, pos.opened_utc = PositionState.OPEN, fill_net_pts, time_utc
        else:
            pos.state, pos.exit_net_pts, pos.closed_utc = PositionState.CLOSED, fill_net_pts, time_utc

    def on_resized(self, intent: OrderIntent, quantity: int, why: str = "resized by the risk gate") -> None:
        """An opening intent is ``quantity`` units, not ``intent.quantity``: the risk gate cut it
        before it was sent, or (``why``) only ``quantity`` whole units of it filled."""
        pos = self.positions[intent.position_id]
        pos.notes.append(f"{why}: {intent.quantity} -> {quantity}")
        pos.quantity = quantity

    def on_moved(self, intent: OrderIntent, moved: OrderIntent, quantity: int) -> None:
        """The risk gate moved the opening ``intent`` to the micro product (issue 11,
        :mod:`risk.micro_move`: a 1-contract ES entry under the drawdown halve step becomes
        ``quantity`` MES): the position is ``moved``'s structure (same strikes and expiry on
        the micro's contracts and multiplier), ``quantity`` units, managed from the micro's
        quotes (:meth:`MarketContext.chain_for`)."""
        pos = self.positions[intent.position_id]
        pos.notes.append(f"moved to the micro by the risk gate: {intent.quantity} x "
                         f"{intent.structure.multiplier_usd_per_pt:g} USD/pt -> {quantity} x "
                         f"{moved.structure.multiplier_usd_per_pt:g} USD/pt")
        pos.structure, pos.quantity = moved.structure, quantity

    def on_partially_closed(self, intent: OrderIntent, units: int, fill_net_pts: float, time_utc: datetime) -> None:
        """A close of ``intent.quantity`` units filled only ``units`` whole units (at
        ``fill_net_pts`` per unit) and ended: the position is the rest, open again so that the
        next check closes it."""
        pos = self.positions[intent.position_id]
        pos.notes.append(f"partial close at {time_utc:%Y-%m-%d %H:%M}Z: {units} of {intent.quantity} units "
                         f"at {fill_net_pts:+.2f} pts")
        pos.quantity -= units
        if pos.state is not PositionState.CLOSED:
            pos.state = PositionState.OPEN

    def on_unfilled(self, intent: OrderIntent, reason: str) -> None:
        """The combo of ``intent`` ended without a fill (or was refused before sending); an
        opening is forgotten, a closing position goes back to open so that the next check
        can try again. A position already closed (settled meanwhile) stays closed."""
        pos = self.positions[intent.position_id]
        pos.notes.append(f"{intent.purpose.value} order not filled: {reason}")
        if pos.state is PositionState.CLOSED:
            return
        if intent.purpose is IntentPurpose.OPEN:
            pos.state = PositionState.CLOSED
            pos.exit_reason = f"never opened: {reason}"
        else:
            pos.state = PositionState.OPEN

    def on_settled(self, position_id: str, settle_net_pts: float, time_utc: datetime) -> None:
        """The position expired and settled at ``settle_net_pts`` per unit (LEAN sign of a
        closing trade: + paid, - received)."""
        pos = self.positions[position_id]
        pos.state, pos.exit_net_pts, pos.closed_utc = PositionState.CLOSED, settle_net_pts, time_utc
        pos.exit_reason = pos.exit_reason or "settled at expiry"

    def on_assigned(self, position_id: str, underlying_symbol: str, quantity: int, price_pts: float,
                    time_utc: datetime) -> Reason | None:
        """An option of ``position_id`` settled physically and delivered ``quantity`` (signed
        units of the option's multiplier: -1 = 100 shares short for an equity option) of
        ``underlying_symbol`` at ``price_pts``. A strategy that takes the delivery returns the
        reason it closes it (the host books it to the strategy and closes it at once); the
        default, ``None``, leaves it unowned: the host flags it (CRITICAL alert, entries
        blocked; :mod:`replay.delivered`)."""
        return None
