"""Futures-option short strangle (docs/strategy-rules.md, "Futures strangle").

Entry: on the configured weekday of the month (default the second Tuesday) at the entry
time, sell one put and one call of the expiry nearest the DTE target (90) inside its window,
each at the strike whose |delta| is nearest the band's target (put 5-7 delta, call 5-6
delta), provided IV rank >= 30 and the underlying is consolidating (20-day range < 8% of
price). Every unmet rule is recorded as a reason, with its numbers; no rule is skipped
silently for missing data: missing data is itself a reason.

IV rank (:mod:`thetacore.iv_rank`): of the strategy's own daily readings of the
``strangle_iv_cm_days`` (90) constant-maturity ATM IV, interpolated in total variance across
the listed expiries that bracket it (so the traded expiry's roll is no IV change); one reading
per trading day, the first good one (the entry-rule decision at ``strangle_entry_time_et``);
ranked over the last ``strangle_iv_rank_lookback_days`` (252) trading days, not readings. The
readings persist in the strategy's state (with their basis: readings of another basis are
discarded on load and journaled) and in the LEAN host's object store. Until the window holds
``strangle_iv_rank_min_history_days`` of them, and only with ``strangle_iv_rank_vix_proxy``,
the rank is that of VIX's daily closes plus VIX now (:func:`vix_proxy_readings`; the host
gives ``ctx.vix_daily`` from LEAN's daily history, so a backtest's first day is ready),
journaled as ``iv_rank_source`` "VIX proxy" and named in the reason; never a mix of the two.

Overlap (reference "Futures strangle", issue 11): a new strangle every month while older
ones run (held about 90 -> 21 DTE, so two to three overlap). The only strategy-level
refusal is ``SAME_ENTRY_CYCLE``: no second strangle in the same monthly entry cycle (one
opened, by its fill time in ET, in the same calendar month, or an entry still working). Two
strangles on the same expiry from different months are allowed (ES options list one expiry
per quarter in LEAN, so a same-expiry ban would block two entries in three); how many run at
once is the gate's business: correlation group A1 (2), ``max_open_positions_per_strategy``
(3) and the buying-power limits.

Management: take profit when 50% of the credit is captured (cost to close at mid <= half
the credit); close at 21 DTE.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import date
from typing import Any

import numpy as np

from risk.account_phase import account_phase
from risk.phase_products import traded_root
from strategies.base import MarketContext, PositionState, Strategy, StrategyPosition, Subscription
from strategies.combo_limits import combo_limit
from strategies.entry_calendar import entry_day_reason
from thetacore.chain import ChainSnapshot
from thetacore.chain_greeks import expiry_greeks, expiry_years
from thetacore.chain_margin import chain_buying_power_pts, margin_settings
from thetacore.decisions import Decision, OrderIntent, Reason
from thetacore.durable_state import Fields, nan_to_null
from thetacore.enums import Action, IntentPurpose, Right
from thetacore.iv_rank import (
    CmReading,
    IvRankUnavailable,
    constant_maturity_atm_iv,
    iv_rank_over_trading_days,
)
from thetacore.legs import OptionLeg
from thetacore.market_stats import iv_rank_frac, range_frac
from thetacore.parameters import Parameters
from thetacore.pricing.time_to_expiry import NEW_YORK
from thetacore.products import product
from thetacore.schedule import DailyAt, EveryMinutes, ScheduleRule
from thetacore.selection import StrikeChoice, choose_by_delta, choose_expiry
from thetacore.structures import QuoteError, Structure, StructureKind

ENTRY = "entry"
MANAGE = "manage"


def vix_proxy_readings(ctx: MarketContext) -> np.ndarray:
    """VIX daily closes before ``ctx.today_et`` and VIX now (when known), oldest first: the
    IV-rank proxy (VIX is the 30-day implied volatility of S&P 500 options, the index the ES
    options are written on; a proxy, not the ES options' own IV, and journaled as such)."""
    if ctx.vix_daily is None:
        return np.empty(0)
    before = ctx.vix_daily.before(ctx.today_et).close_pts
    closes = before[np.isfinite(before) & (before > 0)]
    return np.append(closes, ctx.vix_level) if np.isfinite(ctx.vix_level) and ctx.vix_level > 0 else closes


class FuturesStrangle(Strategy):
    """Short strangle on futures options; see the module docstring for the rules."""

    name = "futures_strangle"

    def __init__(self, params: Parameters) -> None:
        super().__init__()
        self.p = params
        # phase 1 trades the micro (MES for ES), from the phase of the starting cash: the only
        # NLV known before the first decision (issue 11; risk.phase_products.traded_root)
        phase = account_phase(params.starting_cash_usd, params)
        self.product = product(traded_root(self.name, params.strangle_underlying, phase, params))
        self.iv_readings: dict[date, float] = {}
        self.iv_history_note = ""  # readings of another basis discarded on load: journaled once

    # ----- durable state ----------------------------------------------------------------
    @property
    def iv_basis(self) -> str:
        """What the readings are: ``"cm_atm_iv_<days>d"`` (constant-maturity ATM IV)."""
        return iv_basis(self.p)

    def extra_state(self) -> dict[str, Any]:
        """``iv_readings``: one constant-maturity ATM IV (fraction) per exchange date, the
        IV-rank history; ``iv_reading_basis``: :attr:`iv_basis`."""
        return {"iv_readings": nan_to_null({d.isoformat(): v for d, v in sorted(self.iv_readings.items())}),
                "iv_reading_basis": self.iv_basis}

    def read_extra_state(self, extra: Fields, positions: dict[str, StrategyPosition]) -> Callable[[], None]:
        """Check and apply :meth:`extra_state` (each reading a finite number by ISO date).
        Readings of another basis (none: the traded expiry's ATM IV before issue 11) are
        not comparable: discarded, and the next entry decision journals how many."""
        raw = extra.date_map("iv_readings")
        inner = extra.obj("iv_readings")
        readings = {d: inner.number_or_nan(d.isoformat()) for d in raw}
        basis = extra.opt_string("iv_reading_basis") if "iv_reading_basis" in extra.names() else None
        note = ""
        if basis != self.iv_basis and readings:
            note = f"{len(readings)} saved IV reading(s) of basis {basis or 'traded-expiry ATM IV'} discarded"
            readings = {}

        def apply() -> None:
            self.iv_readings, self.iv_history_note = readings, note
        return apply

    # ----- host-facing declarations ----------------------------------------------------
    def schedules(self) -> list[ScheduleRule]:
        p = self.p
        return [
            DailyAt(ENTRY, p.strangle_entry_time_et),
            EveryMinutes(MANAGE, p.strangle_manage_interval_min, p.strangle_manage_start_et,
                         p.strangle_manage_end_et),
        ]

    def subscription(self) -> Subscription:
        # out to strangle_iv_cm_subscribe_dte_max too: the listed expiries bracketing the
        # constant-maturity IV reading (thetacore/iv_rank.py)
        return Subscription(self.product.root, "future_option", 0,
                            max(self.p.strangle_dte_max, self.p.strangle_iv_cm_subscribe_dte_max),
                            self.p.strangle_filter_strike_range_frac)

    def handlers(self) -> dict[str, Callable[[MarketContext], list[Decision]]]:
        return {ENTRY: lambda ctx: [self.entry_decision(ctx)], MANAGE: self.manage}

    # ----- entry -----------------------------------------------------------------------
    def same_cycle_positions(self, today_et: date) -> list[StrategyPosition]:
        """Live strangles of ``today_et``'s monthly entry cycle (reference "Futures strangle":
        a new strangle every month while older ones run): those opened (fill time, ET) in the
        same calendar month, and any entry still working (``OPENING``: not filled yet)."""
        out = []
        for pos in self.open_positions():
            if pos.state is PositionState.OPENING or pos.opened_utc is None:
                out.append(pos)
                continue
            opened = pos.opened_utc.astimezone(NEW_YORK).date()
            if (opened.year, opened.month) == (today_et.year, today_et.month):
                out.append(pos)
        return out

    def entry_decision(self, ctx: MarketContext) -> Decision:
        """Evaluate every entry rule at ``ctx`` and return one decision with all reasons."""
        p, reasons = self.p, []
        details: dict[str, object] = {}
        day_reason = entry_day_reason(ctx.today_et, p.strangle_entry_weekday, p.strangle_entry_nth_weekday)
        if day_reason:
            reasons.append(day_reason)
        same_cycle = self.same_cycle_positions(ctx.today_et)
        if same_cycle:
            ids = ", ".join(pos.position_id for pos in same_cycle)
            reasons.append(Reason("SAME_ENTRY_CYCLE", f"a strangle of the {ctx.today_et:%Y-%m} entry cycle is "
                                  f"already open or pending: {ids}; one new strangle per month"))
        if ctx.chain is None or len(ctx.chain) == 0:
            reasons.append(Reason("NO_CHAIN", ctx.chain_problem or "no option chain"))
            return self._decide(ctx, reasons, None, details)
        exp = choose_expiry(ctx.chain, ctx.today_et, p.strangle_dte_target, p.strangle_dte_min, p.strangle_dte_max)
        if exp is None:
            reasons.append(Reason("NO_EXPIRY", "chain holds no unexpired contract"))
            return self._decide(ctx, reasons, None, details)
        # every rule below reads the chosen expiry only: its greeks alone (issue 10), solved
        # in one call with today's IV reading when one is still to be taken (read below)
        if self._needs_iv_reading(ctx):
            with suppress(IvRankUnavailable):  # remembered on the chain: _record_iv_reading reports it
                self._iv_reading(ctx, greek_expiry=exp.expiry)
        chain = expiry_greeks(ctx.chain, exp.expiry, model=self.product.model, rate_frac=ctx.rate_frac,
                              yield_frac=0.0, expiry_time_et=self.product.expiry_time_et)
        details.update(expiry=exp.expiry.isoformat(), dte_days=exp.dte_days)
        if not exp.in_window:
            reasons.append(Reason("NO_EXPIRY_IN_WINDOW", f"no expiry within {p.strangle_dte_min}-"
                                  f"{p.strangle_dte_max} DTE; nearest {exp.expiry.isoformat()} at "
                                  f"{exp.dte_days} DTE (checked below for information)"))
        reasons += self._iv_rank_reasons(ctx, details)
        reasons += self._consolidation_reasons(ctx, details)
        put = choose_by_delta(chain, exp.expiry, Right.PUT, p.strangle_put_delta_target,
                              p.strangle_put_delta_min, p.strangle_put_delta_max)
        call = choose_by_delta(chain, exp.expiry, Right.CALL, p.strangle_call_delta_target,
                               p.strangle_call_delta_min, p.strangle_call_delta_max)
        reasons += _band_reason("PUT", put, p.strangle_put_delta_min, p.strangle_put_delta_max, details)
        reasons += _band_reason("CALL", call, p.strangle_call_delta_min, p.strangle_call_delta_max, details)
        if put is None or call is None or not (put.in_band and call.in_band):
            return self._decide(ctx, reasons, None, details)
        structure = self._strangle(chain, put, call, exp.expiry)
        try:
            limit = combo_limit(structure, chain, self.product, p.order_limit_toward_far_frac, details)
        except QuoteError as exc:
            reasons.append(Reason("QUOTE_INVALID", str(exc)))
            return self._decide(ctx, reasons, None, details)
        if limit >= 0:
            reasons.append(Reason("NO_CREDIT", f"net price {limit:+.2f} pts is not a credit"))
        t_years = expiry_years(exp.expiry, ctx.time_utc, self.product.expiry_time_et)
        scan = ctx.futures_scan_range_frac(chain.multiplier_usd_per_pt, p.futures_scan_range_frac)
        bp_pts = chain_buying_power_pts(structure, chain, net_price_pts=limit, scan_range_frac=scan, t_years=t_years,
                                        rate_frac=ctx.rate_frac, **margin_settings(p))
        details["futures_scan_range_frac"] = round(scan, 6)
        details["buying_power_usd"] = round(bp_pts * chain.multiplier_usd_per_pt * p.strangle_contracts, 2)
        if reasons:
            return self._decide(ctx, reasons, None, details)
        pid = f"{self.name}-{ctx.time_utc:%Y%m%dT%H%M}"
        intent = OrderIntent(self.name, IntentPurpose.OPEN, structure, p.strangle_contracts, limit, pid,
                             tag=f"{pid} open")
        self.positions[pid] = StrategyPosition(pid, structure, p.strangle_contracts, PositionState.OPENING)
        text = (f"sell {structure.describe()} {exp.dte_days} DTE: put {put.strike_pts:g} at "
                f"{put.abs_delta:.3f} delta, call {call.strike_pts:g} at {call.abs_delta:.3f} delta; "
                f"limit {limit:+.2f} pts")
        return Decision(ctx.time_utc, self.name, Action.ENTERED, (Reason("ENTRY", text),), intent, details)

    def _decide(self, ctx: MarketContext, reasons: list[Reason], intent: OrderIntent | None,
                details: dict[str, object]) -> Decision:
        return Decision(ctx.time_utc, self.name, Action.DECLINED, tuple(reasons), intent, details)

    def _iv_rank_reasons(self, ctx: MarketContext, details: dict[str, object]) -> list[Reason]:
        problem = self._record_iv_reading(ctx, details)
        p = self.p
        if p.strangle_iv_rank_min_frac <= 0:
            return []
        sessions = ctx.underlying_daily.day if ctx.underlying_daily is not None else None
        try:
            ranked = iv_rank_over_trading_days(self.iv_readings, ctx.today_et, p.strangle_iv_rank_lookback_days,
                                               p.strangle_iv_rank_min_history_days, sessions)
            rank, source = ranked.rank_frac, "ATM IV"
        except IvRankUnavailable as exc:
            own = sum(1 for d in self.iv_readings if d <= ctx.today_et)
            proxy = vix_proxy_readings(ctx) if p.strangle_iv_rank_vix_proxy else np.empty(0)
            if len(proxy) < p.strangle_iv_rank_min_history_days:
                return [Reason("IV_RANK_UNAVAILABLE", f"{exc}{problem}"
                               + (f"; {len(proxy)} VIX close(s) for the VIX proxy" if len(proxy) else ""))]
            rank = iv_rank_frac(proxy, p.strangle_iv_rank_lookback_days)
            source = f"VIX proxy ({own} own IV reading(s) so far)"
        details["iv_rank_frac"], details["iv_rank_source"] = round(rank, 4), source
        if rank < p.strangle_iv_rank_min_frac:
            return [Reason("IV_RANK_LOW", f"IV rank {rank:.2f} < {p.strangle_iv_rank_min_frac:.2f} ({source})")]
        return []

    def _record_iv_reading(self, ctx: MarketContext, details: dict[str, object]) -> str:
        """Today's constant-maturity ATM IV, recorded once a day (the first good reading wins);
        returns ``""`` or ``"; <why there is no reading>"``."""
        if self.iv_history_note:
            details["iv_history_note"], self.iv_history_note = self.iv_history_note, ""
        if ctx.today_et in self.iv_readings and np.isfinite(self.iv_readings[ctx.today_et]):
            details["atm_iv_frac"] = round(self.iv_readings[ctx.today_et], 4)
            return ""
        if ctx.chain is None or len(ctx.chain) == 0:
            return "; no chain for today's IV reading"
        try:
            cm = self._iv_reading(ctx)
        except IvRankUnavailable as exc:
            return f"; {exc}"
        self.iv_readings[ctx.today_et] = cm.iv_frac
        details["atm_iv_frac"], details["atm_iv_basis"] = round(cm.iv_frac, 4), cm.basis
        return ""

    def _needs_iv_reading(self, ctx: MarketContext) -> bool:
        """True while today has no finite reading and the chain can give one."""
        if ctx.today_et in self.iv_readings and np.isfinite(self.iv_readings[ctx.today_et]):
            return False
        return ctx.chain is not None and len(ctx.chain) > 0

    def _iv_reading(self, ctx: MarketContext, greek_expiry: date | None = None) -> CmReading:
        """Today's constant-maturity ATM IV of ``ctx.chain`` (remembered on the chain).

        Raises:
            IvRankUnavailable: as :func:`thetacore.iv_rank.constant_maturity_atm_iv`.
        """
        assert ctx.chain is not None
        return constant_maturity_atm_iv(ctx.chain, self.p.strangle_iv_cm_days, model=self.product.model,
                                        rate_frac=ctx.rate_frac, yield_frac=0.0,
                                        expiry_time_et=self.product.expiry_time_et, now_utc=ctx.time_utc,
                                        greek_expiry=greek_expiry)

    def _consolidation_reasons(self, ctx: MarketContext, details: dict[str, object]) -> list[Reason]:
        p = self.p
        if p.strangle_consolidation_days == 0:
            return []
        bars = ctx.underlying_daily.before(ctx.today_et) if ctx.underlying_daily else None
        try:
            rng = range_frac(bars, p.strangle_consolidation_days) if bars else float("nan")
        except ValueError as exc:
            return [Reason("CONSOLIDATION_UNAVAILABLE", f"{exc}")]
        if not np.isfinite(rng):
            return [Reason("CONSOLIDATION_UNAVAILABLE", "no daily bars of the underlying")]
        details["range_frac"] = round(rng, 4)
        if rng >= p.strangle_consolidation_max_range_frac:
            return [Reason("NOT_CONSOLIDATING", f"{p.strangle_consolidation_days}-day range "
                           f"{rng:.3f} of price >= {p.strangle_consolidation_max_range_frac:.3f}")]
        return []

    def _strangle(self, chain: ChainSnapshot, put: StrikeChoice, call: StrikeChoice, expiry: date) -> Structure:
        legs = tuple(
            OptionLeg(c.symbol, str(chain.underlying_symbol[c.index]), r, c.strike_pts, expiry, -1)
            for c, r in ((put, Right.PUT), (call, Right.CALL))
        )
        return Structure(StructureKind.STRANGLE, legs, chain.multiplier_usd_per_pt, self.product.underlying_kind)

    # ----- management --------------------------------------------------------------------
    def manage(self, ctx: MarketContext) -> list[Decision]:
        """Exit checks for every open position: 21 DTE, then take profit."""
        return self.exit_decisions(ctx, lambda pos: self._exit_reason(pos, ctx),
                                   lambda pos, reason: self._close(pos, ctx, reason))

    def _exit_reason(self, pos: StrategyPosition, ctx: MarketContext) -> Reason | None:
        p = self.p
        dte = (pos.structure.legs[0].expiry - ctx.today_et).days
        if dte <= p.strangle_exit_dte:
            return Reason("DTE_EXIT", f"{dte} DTE <= {p.strangle_exit_dte}")
        chain = ctx.chain_for(leg.symbol for leg in pos.structure.legs)  # ES, or MES when moved (issue 11)
        if chain is None:
            return Reason("NO_QUOTES", f"cannot value {pos.position_id}: {ctx.chain_problem or 'no chain'}")
        try:
            cost = -pos.structure.net_mid_pts(chain)
        except QuoteError as exc:
            return Reason("NO_QUOTES", f"cannot value {pos.position_id}: {exc}")
        captured = (pos.credit_pts - cost) / pos.credit_pts if pos.credit_pts > 0 else 0.0
        if captured >= p.strangle_take_profit_frac:
            return Reason("TAKE_PROFIT", f"captured {captured:.0%} of the {pos.credit_pts:.2f} pt credit "
                          f"(cost to close {cost:.2f} pts) >= {p.strangle_take_profit_frac:.0%}")
        return None

    def _close(self, pos: StrategyPosition, ctx: MarketContext, reason: Reason) -> Decision:
        closing = Structure(pos.structure.kind, tuple(
            OptionLeg(leg.symbol, leg.underlying_symbol, leg.right, leg.strike_pts, leg.expiry, -leg.ratio)
            for leg in pos.structure.legs), pos.structure.multiplier_usd_per_pt, pos.structure.underlying_kind)
        details: dict[str, object] = {"position_id": pos.position_id}
        chain = ctx.chain_for(leg.symbol for leg in pos.structure.legs)
        assert chain is not None or reason.code == "DTE_EXIT"
        if chain is None:
            return Decision(ctx.time_utc, self.name, Action.HELD, (reason, Reason(
                "NO_QUOTES", "exit due but no chain to price the closing order")), None, details)
        try:
            limit = combo_limit(closing, chain, self.product, self.p.order_limit_toward_far_frac, details)
        except QuoteError as exc:
            return Decision(ctx.time_utc, self.name, Action.HELD, (reason, Reason("QUOTE_INVALID", str(exc))),
                            None, details)
        pos.state, pos.exit_reason = PositionState.CLOSING, reason.code
        intent = OrderIntent(self.name, IntentPurpose.CLOSE, closing, pos.quantity, limit, pos.position_id,
                             tag=f"{pos.position_id} close {reason.code}")
        return Decision(ctx.time_utc, self.name, Action.EXITED, (reason,), intent, details)


def _band_reason(side: str, choice: StrikeChoice | None, lo: float, hi: float,
                 details: dict[str, object]) -> list[Reason]:
    if choice is None:
        return [Reason(f"NO_{side}_DELTA", f"no {side.lower()} with a computable delta at this expiry")]
    details[f"{side.lower()}_strike_pts"] = choice.strike_pts
    details[f"{side.lower()}_abs_delta"] = round(choice.abs_delta, 4)
    if choice.in_band:
        return []
    return [Reason(f"NO_{side}_IN_BAND", f"no {side.lower()} within {lo:.2f}-{hi:.2f} delta; nearest "
                   f"{choice.strike_pts:g} at {choice.abs_delta:.2f} delta")]


def iv_basis(p: Parameters) -> str:
    """The basis name of the strangle's IV readings for ``p`` (persisted with them)."""
    return f"cm_atm_iv_{p.strangle_iv_cm_days}d"
