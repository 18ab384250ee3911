"""The one enforcing pre-trade gate: every order intent passes here before a host sends it.

Modelled on nautilus_trader's risk engine: fixed, readable check order; each refusal a
:class:`~thetacore.decisions.Reason` with a code and the numbers; each verdict recorded as an
event; a trading state (ACTIVE / REDUCING / HALTED). Missing data is a refusal, never a pass.

Check order for an ENTRY (``IntentPurpose.OPEN``); every check runs and every failure is
listed, except that bad data stops at step 1 (later checks would read it):

1. data validation: limit price finite; every leg quoted, finite, > 0, not crossed, spread
   <= cap x mid, fresh (:mod:`safety.quote_validation`); NLV, BP in use, VIX and its previous
   close, the underlying and its previous close, BP and max loss per unit all known;
2. kill switch (:mod:`safety.kill_switch`), then the hosts' entry blocks
   (:mod:`risk.host_blocks`: brokerage disconnected, holdings not reconciled...);
3. circuit breakers (:mod:`safety.circuit_breakers`), latched for the day;
4. loss limits and the losing-exit count (:mod:`risk.loss_limits`);
5. drawdown state: the stop and flatten steps refuse; the halve step halves the final size
   (a 1-unit entry of a root with a micro product is refused naming the micro: :func:`risk.sizing.halve`);
6. fat finger (:mod:`safety.fat_finger`): contracts, notional, limit band, duplicate;
7. account phase and products (:mod:`risk.phase_products`); 0DTE contracts by phase (cap);
8. VIX regime: above regime 4 entries must be short puts only;
9. buying power in use by VIX regime, reserve included (cap) (:mod:`risk.buying_power_limits`);
10. correlation groups, one lower above VIX 30 (:mod:`risk.correlation`);
11. concentration (:mod:`risk.concentration`);
12. open positions per strategy;
13. per-trade risk: hard cap refuses, the 2% target caps (:mod:`risk.trade_risk`);
14. sizing: fractional Kelly (:mod:`risk.sizing`), then the drawdown halving.

Result: REFUSE when any check refused or the capped size is 0; RESIZE when the size is below
the asked quantity; APPROVE otherwise. The gate never increases a quantity. The size is
``min(asked, every cap)``, then halved (rounded down) while the drawdown halve step holds.
Reasons are listed in check order: refusals, and the caps that cut the asked quantity
(``BP_LIMIT: asked 5, 1 fit: bp_used=0.5019 > limit=0.50 at VIX 27.1 ...``); notes that
change nothing (``TRADE_RISK_ABOVE_TARGET`` for an allowed single unit) go with approvals only.

Every check first records ``account.nlv_usd`` as an NLV mark (same as :meth:`Gate.on_nlv`)
when it is a positive finite number (not a ``bool``: :func:`risk.loss_limits.valid_nlv`), and starts new periods (a new day clears the daily limits);
an approved entry's structure is remembered for the day (duplicate detection).

An EXIT (``IntentPurpose.CLOSE``) is never blocked by an entry limit (kill switch, loss
limits, BP...): only by data validation (limit finite, leg quotes, limit within the band
around mid/natural) and by structural checks (the quantity is a whole number of units, an
``int`` >= 1 and never a ``bool``; the position is open in the snapshot; the quantity is no
larger than the units it holds; the order is within the per-order contract cap). A refused
exit carries an alert; one refused on quotes or its limit is flagged ``retry`` (try again
with the next quotes). Hosts send their own flatten / close-losers closes through the same
checks (:meth:`risk.gate_session.GateSession.review_close`).

Every input is checked for its type as well as its value: ``None``, strings, booleans, NaN
and infinities are refused with a reason (never a traceback); ``tests/risk/test_gate_properties.py``
spoils real inputs that way and asserts each refusal's code.

Hosts call :meth:`Gate.on_nlv` at every NLV mark (at least at each day's start),
:meth:`Gate.on_exit` for every closed position, and persist ``gate.state.to_dict()``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from risk import loss_limits
from risk.buying_power_limits import bp_max_units, bp_reason, vix_entry_reason
from risk.concentration import bullish_alert, concentration_reasons, program_key, strategy_positions_reason
from risk.correlation import correlation_reasons
from risk.gate_checks import Step, data_reasons, exit_reasons, sizing_step, tick_of
from risk.gate_inputs import AccountSnapshot, GateMarket
from risk.host_blocks import host_block_reasons
from risk.phase_products import phase_reasons, zdte_cap
from risk.sizing import halve
from risk.state import MOVE_LATCH, GateState, TradingState, period_keys, roll_periods
from safety import fat_finger
from safety.circuit_breakers import circuit_reasons
from safety.kill_switch import kill_switch_reason, set_kill_switch
from safety.quote_validation import net_mid_natural_pts
from thetacore.decisions import OrderIntent, Reason
from thetacore.enums import IntentPurpose
from thetacore.parameters import Parameters

_LOSS_TRIPS = ("loss_daily", "loss_weekly", "loss_monthly", "losing_exits")
_DRAWDOWN_TRIPS = ("drawdown_stop", "drawdown_flatten")


class GateAction(Enum):
    """The gate's answer."""

    APPROVE = "approve"
    RESIZE = "resize"
    REFUSE = "refuse"


@dataclass(frozen=True)
class GateVerdict:
    """The gate's answer to one intent.

    Attributes:
        action: approve, resize (``quantity`` < asked) or refuse (``quantity`` 0).
        quantity: units approved.
        reasons: why, in check order (notes may accompany an approval).
        alerts: texts for the operator (limits tripped or cleared, exits blocked).
        flatten_requested: close every position (drawdown flatten step, or a circuit
            breaker with ``circuit_flatten``).
        close_losers_requested: close losing positions (drawdown stop step).
        retry: a refused exit that may pass with fresh quotes.
        trading_state: ACTIVE / REDUCING / HALTED after this check.
    """

    action: GateAction
    quantity: int
    reasons: tuple[Reason, ...]
    alerts: tuple[str, ...] = ()
    flatten_requested: bool = False
    close_losers_requested: bool = False
    retry: bool = False
    trading_state: TradingState = TradingState.ACTIVE

    @property
    def codes(self) -> tuple[str, ...]:
        """Reason codes in order."""
        return tuple(r.code for r in self.reasons)

    @property
    def reason_text(self) -> str:
        """All reasons joined by ``"; "``."""
        return "; ".join(str(r) for r in self.reasons)


@dataclass(frozen=True)
class GateNotice:
    """What an NLV mark or an exit changed: alerts and the flatten / close-losers requests."""

    alerts: tuple[str, ...]
    flatten_requested: bool
    close_losers_requested: bool


@dataclass(frozen=True)
class GateEvent:
    """One verdict as an event (in memory; hosts journal verdicts themselves)."""

    time_utc: datetime
    strategy: str
    position_id: str
    purpose: IntentPurpose
    action: GateAction
    quantity: int
    codes: tuple[str, ...]


class Gate:
    """The pre-trade gate over ``params`` and a (persisted) ``state``."""

    def __init__(self, params: Parameters, state: GateState | None = None) -> None:
        self.p = params
        self.state = state if state is not None else GateState()
        self.events: deque[GateEvent] = deque(maxlen=10_000)

    # ----- host notifications ---------------------------------------------------------------
    def on_nlv(self, nlv_usd: float, now_utc: datetime) -> GateNotice:
        """An NLV mark: updates the peak and period starts, trips loss limits and drawdown."""
        return self._notice(loss_limits.mark_nlv(self.state, self.p, nlv_usd, now_utc))

    def on_exit(self, pnl_usd: float, now_utc: datetime) -> GateNotice:
        """A position closed with ``pnl_usd`` (USD, after fees): counts losing exits."""
        return self._notice(loss_limits.record_exit(self.state, self.p, pnl_usd, now_utc))

    def set_kill_switch(self, on: bool, who: str, now_utc: datetime, why: str = "") -> str:
        """Operator kill switch at run time (audit-logged); returns the alert text."""
        return set_kill_switch(self.state, self.p, on, who, now_utc, why)

    def clear(self, name: str, who: str, now_utc: datetime, why: str = "") -> str:
        """Operator clear of a tripped limit (audit-logged, re-based); returns the alert."""
        return loss_limits.clear_limit(self.state, name, who, now_utc, why)

    def _notice(self, alerts: list[str]) -> GateNotice:
        return GateNotice(tuple(alerts), self._flatten(), "drawdown_stop" in self.state.tripped)

    def _flatten(self) -> bool:
        t = self.state.tripped
        circuit = any(n.startswith("circuit_") for n in t) and self.p.circuit_flatten
        return "drawdown_flatten" in t or circuit

    # ----- the check -----------------------------------------------------------------------
    def check(self, intent: OrderIntent, account: AccountSnapshot, market: GateMarket,
              now_utc: datetime) -> GateVerdict:
        """The verdict on ``intent`` at ``now_utc`` (timezone-aware UTC); see the module
        docstring for the order of checks.

        Raises:
            ValueError: for a naive ``now_utc``.
        """
        period_keys(now_utc)
        nlv = account.nlv_usd
        alerts = (loss_limits.mark_nlv(self.state, self.p, nlv, now_utc) if loss_limits.valid_nlv(nlv)
                  else roll_periods(self.state, now_utc))
        if intent.purpose is IntentPurpose.CLOSE:
            verdict = self._check_exit(intent, account, market, now_utc, alerts)
        else:
            verdict = self._check_entry(intent, account, market, now_utc, alerts)
        self.events.append(GateEvent(now_utc, intent.strategy, intent.position_id, intent.purpose,
                                     verdict.action, verdict.quantity, verdict.codes))
        return verdict

    def _verdict(self, action: GateAction, qty: int, reasons: list[Reason], alerts: list[str],
                 retry: bool = False) -> GateVerdict:
        return GateVerdict(action, qty, tuple(reasons), tuple(alerts), self._flatten(),
                           "drawdown_stop" in self.state.tripped, retry,
                           self.state.trading_state(self.p.kill_switch))

    def _check_exit(self, intent: OrderIntent, account: AccountSnapshot, market: GateMarket,
                    now_utc: datetime, alerts: list[str]) -> GateVerdict:
        reasons, retry = exit_reasons(intent, account, market, now_utc, self.p)
        if not reasons:
            return self._verdict(GateAction.APPROVE, intent.quantity, [], alerts)
        alerts = [*alerts, f"EXIT BLOCKED {intent.position_id}: " + "; ".join(map(str, reasons))]
        return self._verdict(GateAction.REFUSE, 0, reasons, alerts, retry=retry)

    def _check_entry(self, intent: OrderIntent, account: AccountSnapshot, market: GateMarket,
                     now_utc: datetime, alerts: list[str]) -> GateVerdict:
        bad = data_reasons(intent, account, market, now_utc, self.p)
        if bad:
            return self._verdict(GateAction.REFUSE, 0, bad, alerts)
        steps = [self._kill(), Step.refusal(host_block_reasons(self.state)), self._circuit(market, now_utc, alerts), self._named_trips(_LOSS_TRIPS),
                 self._named_trips(_DRAWDOWN_TRIPS), self._fat_finger(intent, market, now_utc),
                 self._phase(intent, account, market), self._vix(intent, market),
                 self._bp(intent, account, market), self._correlation(account, market),
                 self._concentration(intent, account, now_utc, alerts), self._per_strategy(intent, account),
                 sizing_step(intent, account, market, self.p)]
        reasons = [r for s in steps for r in s.reasons]
        if any(s.refuse for s in steps):
            return self._verdict(GateAction.REFUSE, 0, reasons, alerts)
        qty = min([intent.quantity] + [s.cap for s in steps if s.cap is not None])
        if loss_limits.drawdown_halving(self.state) and qty > 0:
            qty, why = halve(qty, market.root)
            reasons.append(why)
        if qty <= 0:
            return self._verdict(GateAction.REFUSE, 0, reasons, alerts)
        reasons += [r for s in steps for r in s.info]
        self.state.sent_today.append(fat_finger.structure_key(intent.strategy, intent.structure))
        action = GateAction.APPROVE if qty == intent.quantity else GateAction.RESIZE
        return self._verdict(action, qty, reasons, alerts)

    # ----- entry steps, in order --------------------------------------------------------------
    def _kill(self) -> Step:
        r = kill_switch_reason(self.state, self.p)
        return Step.refusal([r] if r else [])

    def _circuit(self, market: GateMarket, now_utc: datetime, alerts: list[str]) -> Step:
        for name, r in circuit_reasons(self.p, vix=market.vix_level, vix_prev_close=market.vix_prev_close,
                                       root=market.root, underlying_pts=market.underlying_pts,
                                       underlying_prev_close=market.underlying_prev_close):
            if self.state.trip(name, r.code, r.text, "day", now_utc):
                alerts.append(f"{r.code} tripped: {r.text}; no new entries today")
        names = [n for n in self.state.tripped if n.startswith("circuit_")
                 and (not n.startswith(MOVE_LATCH) or n == MOVE_LATCH + market.root)]
        return Step.refusal([Reason(self.state.tripped[n].code, self.state.tripped[n].text) for n in names])

    def _named_trips(self, names: tuple[str, ...]) -> Step:
        return Step.refusal([Reason(t.code, t.text) for n, t in self.state.tripped.items() if n in names])

    def _fat_finger(self, intent: OrderIntent, market: GateMarket, now_utc: datetime) -> Step:
        p, s, q = self.p, intent.structure, intent.quantity
        mid, natural = net_mid_natural_pts(s, market.quote_map())
        key = fat_finger.structure_key(intent.strategy, s)
        found = [fat_finger.contracts_reason(s, q, p.safety_max_contracts_per_order),
                 fat_finger.notional_reason(s, q, market.underlying_pts, p.safety_max_notional_usd),
                 fat_finger.limit_band_reason(intent.limit_pts, mid, natural, p.safety_limit_band_frac,
                                              tick_of(market)),
                 fat_finger.duplicate_reason(key, self.state.sent_today, period_keys(now_utc)["day"])]
        return Step.refusal([r for r in found if r])

    def _phase(self, intent: OrderIntent, account: AccountSnapshot, market: GateMarket) -> Step:
        cap, why = zdte_cap(intent.strategy, intent.quantity, account.nlv_usd, self.p)
        return Step(phase_reasons(intent.strategy, market.root, account.nlv_usd, self.p), cap,
                    [why] if why else [])

    def _vix(self, intent: OrderIntent, market: GateMarket) -> Step:
        r = vix_entry_reason(intent.structure, market.vix_level, self.p)
        return Step.refusal([r] if r else [])

    def _bp(self, intent: OrderIntent, account: AccountSnapshot, market: GateMarket) -> Step:
        args = (account.nlv_usd, account.buying_power_in_use_usd, market.bp_usd_per_unit, market.vix_level)
        fit = bp_max_units(*args, self.p)
        if fit is None or fit >= intent.quantity:
            return Step([], fit, [])
        return Step([], fit, [bp_reason(intent.quantity, fit, *args, self.p)])

    def _correlation(self, account: AccountSnapshot, market: GateMarket) -> Step:
        groups = [pos.group for pos in account.positions]
        return Step.refusal(correlation_reasons(market.root, groups, market.vix_level, self.p))

    def _concentration(self, intent: OrderIntent, account: AccountSnapshot, now_utc: datetime,
                       alerts: list[str]) -> Step:
        today = datetime.fromisoformat(period_keys(now_utc)["day"]).date()
        expiries = [pos.expiry for pos in account.positions if pos.is_short_put_multiweek and pos.strategy == "lt112"]
        programs = {program_key(pos.strategy, pos.position_id) for pos in account.positions if pos.is_bullish_multiweek}
        alert = bullish_alert(programs, self.p)
        if alert:
            alerts.append(alert)
        return Step.refusal(concentration_reasons(intent.structure, today, expiries, programs, self.p,
                                                  strategy=intent.strategy))

    def _per_strategy(self, intent: OrderIntent, account: AccountSnapshot) -> Step:
        n = sum(1 for pos in account.positions if pos.strategy == intent.strategy)
        r = strategy_positions_reason(intent.strategy, n, self.p)
        return Step.refusal([r] if r else [])
