"""Income poor man's covered call, IPMCC (docs/strategy-rules.md, "IPMCC"), on SPY (QQQ once
``thetacore.products`` has its facts).

LEAP: when none is held, buy ONE call of the expiry nearest 365 DTE within 180-730 DTE, at
the strike whose delta is nearest 0.80, provided its extrinsic value (price - intrinsic) is
below 5% of the UNDERLYING's price (reference "IPMCC", corrected: as a fraction of the
option's own price an 80-delta one-year call almost never qualifies). One LEAP at a time; a new one only after the last one is closed.

Weekly call: on Fridays, while a LEAP is held and no weekly call is open, sell one call of
the nearest listed expiry at or before 7 DTE (never beyond, never after the LEAP's expiry):

* at the money when EMA(8) > EMA(21) of the underlying's daily closes, else 1 (rules: 1-2)
  strike in the money. **Never out of the money**: "at the money" is the highest listed strike
  at or below spot (the strike nearest spot when that one is at or below spot; when the
  nearest strike is above spot it is OTM, and the next one down is taken). ITM counts
  listed strikes down from that one.
* not across a listed event date (``event_avoidance_enabled``).

Timing: M1's 09:15 ET decision time is before the 09:30 ET open of equity options, so a chain
then holds the previous close or nothing; the default ``ipmcc_short_time_et`` is the first
decision after the open, 09:45 ET (reference "IPMCC"). A decision set before the open still
declines with ``OPTIONS_CLOSED`` rather than sell on a stale quote; a quote older than
``max_quote_age_min`` is ``STALE_QUOTE`` at any time.

Exits:

* weekly call: buy back once 90% of its extrinsic value at entry is captured (extrinsic now
  = mid - intrinsic at spot; a bid-less call is valued and bought back at its ask); otherwise
  let it expire. A Friday-to-Friday 7-DTE call is still alive at the next Friday's sale: if it
  has not been taken off by then, that decision buys it back (``WEEKLY_ROLL``) and the new
  call is sold at the first management check after the close fills, so one LEAP never covers
  two short calls (reported: "let it expire" and "sell every Friday" cannot both hold). SPY options are American and settle
  in shares, so an in-the-money weekly left to expire would be assigned (and a short call
  can be assigned early, typically before an ex-dividend date). No PMCC trader lets the
  short call of a diagonal be assigned on purpose (it leaves short shares against the LEAP),
  so on its expiry day, at ``ipmcc_expiry_close_et`` (default 15:45 ET, 15 min before the close;
  its own schedule rule ``expiry``, moved earlier on an early-close day like the close), a
  weekly that is in the money, or out of the money by less than ``ipmcc_expiry_buffer_frac``
  of its strike (pin risk: the last minutes and the after-hours session decide exercise), is
  bought back (``EXPIRY_ITM`` / ``EXPIRY_PIN_RISK``); the management checks from that time on
  do the same. One further out of the money is left to expire worthless. This is a roll: the
  next weekly is sold by the normal Friday sale.
* assigned anyway (the buy-back refused or unfilled): the shares the weekly delivered are
  IPMCC's (:meth:`Ipmcc.on_assigned`): the host books them to the weekly's position and buys
  them back at once (reason ``ASSIGNED``), so they are never held short against the LEAP.
* LEAP stop: when the LEAP's mid has lost 30% of its entry price, close everything: the
  weekly call is bought back first and the LEAP sold once no weekly is left, so the short
  call is never left uncovered (two orders: the structures module has no diagonal kind).

Pricing: IV and greeks from each contract's mid with Black-Scholes (European) and a constant
dividend yield. SPY options are American: a European model ignores the early-exercise value
(worth most in deep in-the-money calls just before an ex-dividend date and in deep
in-the-money puts), so the deltas of deep in-the-money LEAPs are approximations.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import numpy as np

from strategies.base import MarketContext, PositionState, Strategy, StrategyPosition, Subscription
from strategies.combo_limits import combo_limit
from strategies.defense import defense_review
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
from thetacore.ema import last_ema
from thetacore.enums import Action, IntentPurpose, Right
from thetacore.events import entry_event_block
from thetacore.parameters import Parameters
from thetacore.pricing import NEW_YORK
from thetacore.products import product
from thetacore.schedule import DailyAt, EveryMinutes, ScheduleRule
from thetacore.selection import choose_by_delta, choose_expiry
from thetacore.structures import QuoteError, Structure

LEAP = "leap"
SHORT = "short"
MANAGE = "manage"
EXPIRY = "expiry"
LEAP_CONTRACTS = 1  # rules: ONE LEAP; the weekly call covers it one for one


class Ipmcc(Strategy):
    """LEAP call plus weekly short calls; see the module docstring for the rules."""

    name = "ipmcc"

    def __init__(self, params: Parameters, *, dividend_yield_frac: float | None = None) -> None:
        super().__init__()
        self.p = params
        self.product = product(params.ipmcc_underlying)
        self.yield_frac = params.ipmcc_dividend_yield_frac if dividend_yield_frac is None else dividend_yield_frac
        self.leap_id: str | None = None
        self.weekly_id: str | None = None
        self.stop: Reason | None = None
        self.reviewed: set[str] = set()
        self.sell_after_roll: str | None = None
        self.sale_due = False
        self._entry_spot: dict[str, float] = {}
        self.entry_extrinsic_pts: dict[str, float] = {}

    # ----- durable state ----------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        """The LEAP's and the weekly call's position ids, the stop reason (code and text or
        null), reviewed ids, the roll waiting to sell and whether a sale is due, and per
        weekly position its spot at the decision and entry extrinsic value (points)."""
        return {"leap_id": self.leap_id, "weekly_id": self.weekly_id,
                "stop": None if self.stop is None else {"code": self.stop.code, "text": self.stop.text},
                "reviewed": sorted(self.reviewed), "sell_after_roll": self.sell_after_roll,
                "sale_due": self.sale_due, "entry_spot_pts": nan_to_null(self._entry_spot),
                "entry_extrinsic_pts": nan_to_null(self.entry_extrinsic_pts)}

    def read_extra_state(self, extra: Fields, positions: dict[str, StrategyPosition]) -> Callable[[], None]:
        """Check and apply :meth:`extra_state`; an id of a position not in the book is an error."""
        ids = {k: extra.opt_string(k) for k in ("leap_id", "weekly_id", "sell_after_roll")}
        for key, pid in ids.items():
            if pid is not None and pid not in positions:
                raise StateError(extra.at(key), f"names a position not in the book: {pid!r}")
        stop = None if extra.raw("stop") is None else extra.obj("stop")
        reason = None if stop is None else Reason(stop.string("code"), stop.string("text"))
        reviewed, due = set(extra.strings("reviewed")), extra.boolean("sale_due")
        spot = extra.number_map("entry_spot_pts", null_is_nan=True)
        extrinsic = extra.number_map("entry_extrinsic_pts", null_is_nan=True)

        def apply() -> None:
            self.leap_id, self.weekly_id, self.sell_after_roll = ids["leap_id"], ids["weekly_id"], ids["sell_after_roll"]
            self.stop, self.reviewed, self.sale_due = reason, reviewed, due
            self._entry_spot, self.entry_extrinsic_pts = spot, extrinsic
        return apply

    # ----- host-facing declarations ----------------------------------------------------
    def schedules(self) -> list[ScheduleRule]:
        return [DailyAt(LEAP, self.p.ipmcc_leap_time_et), DailyAt(SHORT, self.p.ipmcc_short_time_et),
                EveryMinutes(MANAGE, self.p.ipmcc_manage_interval_min, self.p.ipmcc_manage_start_et,
                             self.p.ipmcc_manage_end_et),
                DailyAt(EXPIRY, self.p.ipmcc_expiry_close_et, before_close=True)]

    def subscription(self) -> Subscription:
        """The LEAP window: single contracts at hour resolution."""
        return Subscription(self.p.ipmcc_underlying, "equity_option", self.p.ipmcc_leap_dte_min,
                            self.p.ipmcc_leap_dte_max, self.p.ipmcc_filter_strike_range_frac,
                            resolution="hour", contracts_only=True)

    def subscriptions(self) -> list[Subscription]:
        """The LEAP window plus a small minute chain for the weekly calls (0 to 7 DTE, strikes
        near the money)."""
        weekly = Subscription(self.p.ipmcc_underlying, "equity_option", 0, self.p.ipmcc_short_dte,
                              self.p.ipmcc_weekly_strike_range_frac)
        return [self.subscription(), weekly]

    def handlers(self) -> dict[str, Callable[[MarketContext], list[Decision]]]:
        return {LEAP: lambda ctx: [] if self.leap() else [self.leap_decision(ctx)],
                SHORT: lambda ctx: [self.short_decision(ctx)], MANAGE: self.manage, EXPIRY: self.expiry_check}

    def leap(self) -> StrategyPosition | None:
        """The LEAP position unless closed."""
        return self._live(self.leap_id)

    def weekly(self) -> StrategyPosition | None:
        """The weekly short call unless closed."""
        return self._live(self.weekly_id)

    def _live(self, pid: str | None) -> StrategyPosition | None:
        pos = self.positions.get(pid) if pid else None
        return pos if pos is not None and pos.state is not PositionState.CLOSED else None

    # ----- LEAP entry ------------------------------------------------------------------
    def leap_decision(self, ctx: MarketContext) -> Decision:
        """Buy the LEAP call, or decline with every unmet rule and its numbers."""
        p = self.p
        reasons: list[Reason] = []
        details: dict[str, object] = {}
        if self.leap():
            reasons.append(Reason("LEAP_HELD", f"LEAP {self.leap_id} already held or pending"))
        reasons += session_reasons(ctx)
        full = self._chain(ctx, reasons)
        if full is None:
            return self._decide(ctx, reasons, details)
        exp = choose_expiry(full, ctx.today_et, p.ipmcc_leap_dte_target, p.ipmcc_leap_dte_min, p.ipmcc_leap_dte_max)
        if exp is None:
            return self._decide(ctx, reasons + [Reason("NO_EXPIRY", "chain holds no unexpired contract")], details)
        chain = self._greeks(full, exp.expiry, ctx)
        details.update(leap_expiry=exp.expiry.isoformat(), leap_dte_days=exp.dte_days)
        if not exp.in_window:
            reasons.append(Reason("NO_EXPIRY_IN_WINDOW", f"no expiry within {p.ipmcc_leap_dte_min}-"
                                  f"{p.ipmcc_leap_dte_max} DTE; nearest {exp.expiry.isoformat()} at {exp.dte_days} DTE"))
        call = choose_by_delta(chain, exp.expiry, Right.CALL, p.ipmcc_leap_delta_target, 0.0, 1.0)
        spot = spot_pts(ctx, full)
        if call is None or not np.isfinite(spot):
            reasons.append(Reason("NO_CALL_DELTA", "no call with a computable delta at this expiry")
                           if call is None else Reason("NO_UNDERLYING", "no underlying price"))
            return self._decide(ctx, reasons, details)
        price = float(chain.mid_at(np.array([call.index]))[0])
        extrinsic = price - max(0.0, spot - call.strike_pts)
        # the rule's 5% is of the UNDERLYING's price (reference "IPMCC"; of the option's own
        # price an 80-delta one-year call almost never qualifies)
        of_spot = extrinsic / spot
        details.update(leap_strike_pts=call.strike_pts, leap_delta=round(call.abs_delta, 4), leap_price_pts=price,
                       leap_extrinsic_frac=round(of_spot, 4), leap_extrinsic_of_price_frac=round(extrinsic / price, 4),
                       spot_pts=spot)
        if not of_spot < p.ipmcc_leap_max_extrinsic_frac:
            reasons.append(Reason("LEAP_EXTRINSIC_TOO_HIGH", f"{call.strike_pts:g} call at {call.abs_delta:.2f} delta: "
                                  f"extrinsic {extrinsic:.2f} = {of_spot:.2%} of the underlying {spot:.2f} >= "
                                  f"{p.ipmcc_leap_max_extrinsic_frac:.0%}"))
        structure = self._single(chain, call.index, +1)
        return self._open(ctx, "leap", structure, chain, reasons, details,
                          f"buy LEAP {structure.describe()} {exp.dte_days} DTE at {call.abs_delta:.3f} delta, "
                          f"extrinsic {extrinsic:.2f} = {of_spot:.2%} of the underlying {spot:.2f}")

    # ----- weekly call -----------------------------------------------------------------
    def short_decision(self, ctx: MarketContext, *, after_roll: bool = False) -> Decision:
        """Sell the weekly call (``after_roll``: the replacement of a call just rolled, which
        skips the weekday rule), roll a weekly expiring today, or decline with every unmet
        rule and its numbers."""
        p = self.p
        reasons: list[Reason] = []
        details: dict[str, object] = {}
        if not after_roll and p.ipmcc_short_weekday >= 0 and ctx.today_et.weekday() != p.ipmcc_short_weekday:
            reasons.append(Reason("NOT_SHORT_DAY", f"{ctx.today_et.isoformat()} is a {ctx.today_et:%A}; weekly "
                                  f"calls are sold on weekday {p.ipmcc_short_weekday} (0=Mon)"))
        reasons += session_reasons(ctx)
        weekly = self.weekly()
        if not reasons and weekly is not None and weekly.state is PositionState.OPEN \
                and weekly.structure.legs[0].expiry <= ctx.today_et:
            return self._roll_weekly(weekly, ctx)
        leap = self.leap()
        if leap is None or leap.state is not PositionState.OPEN:
            reasons.append(Reason("NO_LEAP", "no LEAP call held to cover a weekly call"))
        if self.weekly():
            reasons.append(Reason("WEEKLY_OPEN", f"weekly call {self.weekly_id} still open or pending"))
        full = self._chain(ctx, reasons)
        if full is None:
            return self._decide(ctx, reasons, details)
        expiry = self._weekly_expiry(full, ctx, leap, reasons, details)
        trend = self._trend(ctx, reasons, details)
        spot = spot_pts(ctx, full)
        if expiry is None or trend is None or not np.isfinite(spot):
            if not np.isfinite(spot):
                reasons.append(Reason("NO_UNDERLYING", "no underlying price"))
            return self._decide(ctx, reasons, details)
        chain = self._greeks(full, expiry, ctx)
        idx = self._weekly_strike(chain, expiry, spot, trend, reasons, details)
        if idx is None:
            return self._decide(ctx, reasons, details)
        price = float(chain.mid_at(np.array([idx]))[0])
        extrinsic = price - max(0.0, spot - float(chain.strike_pts[idx]))
        details.update(spot_pts=spot, short_price_pts=price, short_extrinsic_pts=round(extrinsic, 4))
        if np.isfinite(extrinsic) and extrinsic <= 0:
            reasons.append(Reason("NO_EXTRINSIC", f"call at {price:.2f} holds no extrinsic value over "
                                  f"intrinsic {price - extrinsic:.2f}"))
        structure = self._single(chain, idx, -1)
        decision = self._open(ctx, "weekly", structure, chain, reasons, details,
                              f"sell {structure.describe()} ({details['strike_criterion']}); extrinsic "
                              f"{extrinsic:.2f} pts")
        if decision.intent is not None:
            self._entry_spot[decision.intent.position_id] = spot
        return decision

    def _roll_weekly(self, weekly: StrategyPosition, ctx: MarketContext) -> Decision:
        """Buy back a weekly call expiring today so that next week's can be sold without two
        short calls against one LEAP; the new call is sold at the first management check
        after this close fills."""
        expiry = weekly.structure.legs[0].expiry
        reason = Reason("WEEKLY_ROLL", f"{weekly.position_id} expires {expiry.isoformat()}: buying it back to "
                        "sell next week's call once this fills")
        decision = self._close(weekly, ctx, reason)
        if decision.intent is not None:
            self.sell_after_roll = weekly.position_id
        return decision

    def _weekly_expiry(self, chain: ChainSnapshot, ctx: MarketContext, leap: StrategyPosition | None,
                       reasons: list[Reason], details: dict[str, object]) -> date | None:
        """Nearest listed expiry at or before ``ipmcc_short_dte`` days (1 DTE at least)."""
        p = self.p
        dte = (chain.expiries() - np.datetime64(ctx.today_et, "D")).astype(np.int64)
        ok = (dte >= 1) & (dte <= p.ipmcc_short_dte)
        if not ok.any():
            later = dte[dte > p.ipmcc_short_dte]
            nearest = f"; nearest {int(later.min())} DTE" if later.size else ""
            reasons.append(Reason("NO_WEEKLY_EXPIRY", f"no expiry within 1-{p.ipmcc_short_dte} DTE{nearest}"))
            return None
        expiry: date = chain.expiries()[ok][-1].astype(date)
        details.update(short_expiry=expiry.isoformat(), short_dte_days=int(dte[ok][-1]))
        if leap is not None and expiry > leap.structure.legs[0].expiry:
            reasons.append(Reason("WEEKLY_BEYOND_LEAP", f"weekly expiry {expiry} after the LEAP's "
                                  f"{leap.structure.legs[0].expiry}: the call would be uncovered"))
        event = entry_event_block(ctx.today_et, expiry, ctx.event_dates, trading_days=p.event_avoid_trading_days,
                                  short_dte_days=p.event_avoid_short_dte_days) if p.event_avoidance_enabled else None
        if event is not None:
            reasons.append(Reason("EVENT_IN_WINDOW", f"event on {event.isoformat()} between "
                                  f"{ctx.today_et.isoformat()} and the weekly expiry {expiry.isoformat()} (or within "
                                  f"{p.event_avoid_trading_days} trading days)"))
        return expiry

    def _trend(self, ctx: MarketContext, reasons: list[Reason], details: dict[str, object]) -> bool | None:
        """True when EMA(fast) > EMA(slow) of the daily closes before today; None if unknown."""
        p = self.p
        bars = ctx.underlying_daily.before(ctx.today_et) if ctx.underlying_daily else None
        closes = bars.close_pts if bars is not None else np.empty(0)
        try:
            fast, slow = last_ema(closes, p.ipmcc_ema_fast_days), last_ema(closes, p.ipmcc_ema_slow_days)
        except ValueError as exc:
            reasons.append(Reason("EMA_UNAVAILABLE", str(exc)))
            return None
        details.update(ema_fast_pts=round(fast, 4), ema_slow_pts=round(slow, 4))
        return fast > slow

    def _weekly_strike(self, chain: ChainSnapshot, expiry: date, spot: float, up: bool,
                       reasons: list[Reason], details: dict[str, object]) -> int | None:
        """ATM (highest listed strike <= spot) when ``up``, else ``ipmcc_itm_strikes`` below it."""
        calls = np.flatnonzero((chain.expiry == np.datetime64(expiry, "D")) & (chain.right == int(Right.CALL)))
        ladder = np.unique(chain.strike_pts[calls])
        below = ladder[ladder <= spot][::-1]
        n = 0 if up else self.p.ipmcc_itm_strikes
        if below.size <= n:
            reasons.append(Reason("NO_STRIKE_AT_OR_BELOW_SPOT", f"{below.size} call strike(s) at or below spot "
                                  f"{spot:.2f} at {expiry}; need {n + 1}"))
            return None
        strike = float(below[n])
        trend = f"EMA{self.p.ipmcc_ema_fast_days} {details['ema_fast_pts']} {'>' if up else '<='} " \
                f"EMA{self.p.ipmcc_ema_slow_days} {details['ema_slow_pts']}"
        details.update(short_strike_pts=strike, strike_criterion=(
            f"{trend}: ATM = highest strike {strike:g} at or below spot {spot:.2f}" if up else
            f"{trend}: {n} strike(s) ITM below ATM {below[0]:g} (spot {spot:.2f})"))
        return int(calls[np.flatnonzero(chain.strike_pts[calls] == strike)[0]])

    # ----- management --------------------------------------------------------------------
    def manage(self, ctx: MarketContext) -> list[Decision]:
        """LEAP stop first (closing everything, weekly first), then the weekly call's exits."""
        out: list[Decision] = []
        leap = self.leap()
        if leap is not None and leap.state is PositionState.OPEN and self.stop is None:
            reason = self._leap_stop_reason(leap, ctx)
            if reason is not None and reason.code == "NO_QUOTES":
                out.append(self.held(ctx, leap, (reason,)))
            elif reason is not None:
                self.stop = reason
        if leap is not None and leap.state is PositionState.OPEN and self.stop is None:
            out += self._defend(leap, ctx)
        if self.stop is not None:
            return out + self._close_everything(ctx)
        weekly = self.weekly()
        if weekly is not None and weekly.state is PositionState.OPEN:
            reason = self._weekly_exit_reason(weekly, ctx)
            if reason is not None:
                out.append(self.held(ctx, weekly, (reason,)) if reason.code == "NO_QUOTES"
                           else self._close(weekly, ctx, reason))
        if self.sale_due and weekly is None:
            self.sale_due = False
            out.append(self.short_decision(ctx, after_roll=True))
        return out

    def _defend(self, leap: StrategyPosition, ctx: MarketContext) -> list[Decision]:
        """The 21-DTE defence (strategies/defense.py) on the LEAP: a close closes everything
        (weekly first); a review is one alert, kept until the close-by DTE."""
        verdict = defense_review(leap, ctx, self.p, reviewed=leap.position_id in self.reviewed)
        if verdict is None:
            return []
        if verdict.close:
            self.stop = verdict.reason
            return []
        if verdict.reason.code == "DEFENSE_REVIEW":
            self.reviewed.add(leap.position_id)
        return [self.held(ctx, leap, (verdict.reason,))]

    def _leap_stop_reason(self, leap: StrategyPosition, ctx: MarketContext) -> Reason | None:
        try:
            mid = leap.structure.net_mid_pts(ctx.chain) if ctx.chain is not None else float("nan")
        except QuoteError as exc:
            return Reason("NO_QUOTES", f"cannot value {leap.position_id}: {exc}")
        if not np.isfinite(mid):
            return Reason("NO_QUOTES", f"cannot value {leap.position_id}: {ctx.chain_problem or 'no chain'}")
        entry = leap.entry_net_pts or 0.0
        lost = (entry - mid) / entry if entry > 0 else 0.0
        if lost >= self.p.ipmcc_leap_stop_loss_frac:
            return Reason("LEAP_STOP", f"LEAP at {mid:.2f} has lost {lost:.1%} of its {entry:.2f} entry >= "
                          f"{self.p.ipmcc_leap_stop_loss_frac:.0%}: closing the whole position")
        return None

    def _close_everything(self, ctx: MarketContext) -> list[Decision]:
        assert self.stop is not None
        weekly, leap = self.weekly(), self.leap()
        if weekly is not None:
            if weekly.state is not PositionState.OPEN:
                return []  # its closing order is working; the LEAP waits for it
            text = f"{self.stop.text}; buying back the weekly call first, the LEAP after it"
            return [self._close(weekly, ctx, Reason(self.stop.code, text))]
        if leap is not None and leap.state is PositionState.OPEN:
            return [self._close(leap, ctx, self.stop)]
        return []

    def expiry_check(self, ctx: MarketContext) -> list[Decision]:
        """The ``expiry`` rule (``ipmcc_expiry_close_et``, module docstring): on the weekly
        call's expiry day buy it back when it is in the money or within the pin-risk buffer;
        nothing otherwise (it expires worthless); HELD with ``NO_QUOTES`` when no spot is known."""
        weekly = self.weekly()
        if weekly is None or weekly.state is not PositionState.OPEN or self.stop is not None \
                or weekly.structure.legs[0].expiry != ctx.today_et:
            return []
        reason = self._expiry_reason(weekly, ctx)
        if reason is None:
            return []
        return [self.held(ctx, weekly, (reason,)) if reason.code == "NO_QUOTES" else self._close(weekly, ctx, reason)]

    def _expiry_reason(self, pos: StrategyPosition, ctx: MarketContext) -> Reason | None:
        """On the expiry day: ``EXPIRY_ITM`` (spot > strike), ``EXPIRY_PIN_RISK`` (strike x (1 -
        ``ipmcc_expiry_buffer_frac``) < spot <= strike), ``NO_QUOTES`` (no spot), else None."""
        leg = pos.structure.legs[0]
        spot, now_et = spot_pts(ctx, ctx.chain), ctx.time_utc.astimezone(NEW_YORK).time()
        if not np.isfinite(spot):
            return Reason("NO_QUOTES", f"expiry day of {pos.position_id}: no underlying price to judge assignment")
        floor = leg.strike_pts * (1.0 - self.p.ipmcc_expiry_buffer_frac)
        if spot > leg.strike_pts:
            return Reason("EXPIRY_ITM", f"expiry day {now_et:%H:%M} ET: spot {spot:.2f} > strike "
                          f"{leg.strike_pts:g}; buying back rather than be assigned (physical settlement)")
        if spot > floor:
            return Reason("EXPIRY_PIN_RISK", f"expiry day {now_et:%H:%M} ET: spot {spot:.2f} within "
                          f"{self.p.ipmcc_expiry_buffer_frac:.1%} below strike {leg.strike_pts:g} (> {floor:.2f}); "
                          "buying back rather than risk assignment")
        return None

    def on_assigned(self, position_id: str, underlying_symbol: str, quantity: int, price_pts: float,
                    time_utc: datetime) -> Reason | None:
        """Shares a call of IPMCC delivered at expiry (the buy-back refused or unfilled) are
        IPMCC's: the position's exit reason becomes ``ASSIGNED`` and the host buys them back
        at once (``quantity`` signed units of 100 shares). A position of another strategy: None."""
        pos = self.positions.get(position_id)
        if pos is None:
            return None
        leg = pos.structure.legs[0]
        text = (f"{position_id}: {leg.symbol} assigned at strike {leg.strike_pts:g}, {quantity:+d} x "
                f"{pos.structure.multiplier_usd_per_pt:g} {underlying_symbol} delivered at {price_pts:.2f}; booked to "
                f"{self.name} and closed at once (never held against the LEAP)")
        pos.exit_reason = f"ASSIGNED: {text}"
        pos.notes.append(pos.exit_reason)
        return Reason("ASSIGNED", text)

    def _weekly_exit_reason(self, pos: StrategyPosition, ctx: MarketContext) -> Reason | None:
        leg = pos.structure.legs[0]
        chain, now_et = ctx.chain, ctx.time_utc.astimezone(NEW_YORK).time()
        spot = spot_pts(ctx, chain)
        if ctx.today_et == leg.expiry and now_et >= self.p.ipmcc_expiry_close_et:
            expiring = self._expiry_reason(pos, ctx)
            if expiring is not None and expiring.code != "NO_QUOTES":
                return expiring
        entry = self.entry_extrinsic_pts.get(pos.position_id, float("nan"))
        try:
            cost, basis = buyback_cost_pts(pos.structure, chain) if chain is not None else (float("nan"), "")
        except QuoteError as exc:
            return Reason("NO_QUOTES", f"cannot value {pos.position_id}: {exc}")
        if not (np.isfinite(cost) and np.isfinite(spot)):
            return Reason("NO_QUOTES", f"cannot value {pos.position_id}: {ctx.chain_problem or 'no chain or spot'}")
        left = cost - leg.intrinsic_pts(spot)
        captured = (entry - left) / entry if entry > 0 else float("nan")
        if captured >= self.p.ipmcc_short_take_profit_frac:
            return Reason("TAKE_PROFIT", f"captured {captured:.0%} of the {entry:.2f} pt extrinsic value (left "
                          f"{left:.2f}, cost to close {cost:.2f} at {basis}) >= "
                          f"{self.p.ipmcc_short_take_profit_frac:.0%}")
        return None

    # ----- orders and book-keeping -------------------------------------------------------
    def on_filled(self, intent: OrderIntent, fill_net_pts: float, time_utc: datetime) -> None:
        super().on_filled(intent, fill_net_pts, time_utc)
        pid = intent.position_id
        if intent.purpose is IntentPurpose.OPEN and pid == self.weekly_id:
            leg = intent.structure.legs[0]
            self.entry_extrinsic_pts[pid] = -fill_net_pts - leg.intrinsic_pts(self._entry_spot.get(pid, np.nan))
        if intent.purpose is IntentPurpose.CLOSE and pid == self.leap_id:
            self.stop = None
        if intent.purpose is IntentPurpose.CLOSE and pid == self.sell_after_roll:
            self.sell_after_roll, self.sale_due = None, True

    def on_unfilled(self, intent: OrderIntent, reason: str) -> None:
        """As the base class; a roll whose close did not fill sells no new call this week."""
        super().on_unfilled(intent, reason)
        if intent.position_id == self.sell_after_roll:
            self.sell_after_roll = None

    @staticmethod
    def _chain(ctx: MarketContext, reasons: list[Reason]) -> ChainSnapshot | None:
        if ctx.chain is None or len(ctx.chain) == 0:
            reasons.append(Reason("NO_CHAIN", ctx.chain_problem or "no option chain"))
            return None
        return ctx.chain

    def _greeks(self, chain: ChainSnapshot, expiry: date, ctx: MarketContext) -> ChainSnapshot:
        """IV and greeks of the chosen expiry only: every later rule reads that expiry."""
        return expiry_greeks(chain, expiry, model=self.product.model, rate_frac=ctx.rate_frac,
                             yield_frac=self.yield_frac, expiry_time_et=self.product.expiry_time_et)

    def _single(self, chain: ChainSnapshot, i: int, ratio: int) -> Structure:
        return single_leg(chain, i, ratio, self.product)

    def _open(self, ctx: MarketContext, kind: str, structure: Structure, chain: ChainSnapshot,
              reasons: list[Reason], details: dict[str, object], text: str) -> Decision:
        reasons += quote_reasons(structure, chain, ctx, self.p.max_quote_age_min)
        if reasons:
            return self._decide(ctx, reasons, details)
        limit = combo_limit(structure, chain, self.product, self.p.order_limit_toward_far_frac, details)
        pid = f"{self.name}-{kind}-{ctx.time_utc:%Y%m%dT%H%M}"
        intent = OrderIntent(self.name, IntentPurpose.OPEN, structure, LEAP_CONTRACTS, limit, pid, tag=f"{pid} open")
        self.positions[pid] = StrategyPosition(pid, structure, LEAP_CONTRACTS, PositionState.OPENING)
        if kind == "leap":
            self.leap_id = pid
        else:
            self.weekly_id = pid
        return Decision(ctx.time_utc, self.name, Action.ENTERED, (Reason("ENTRY", f"{text}; limit {limit:+.2f} pts"),),
                        intent, details)

    def _close(self, pos: StrategyPosition, ctx: MarketContext, reason: Reason) -> Decision:
        return close_decision(self.name, pos, ctx, reason, self.p.order_limit_toward_far_frac, self.product)

    def _decide(self, ctx: MarketContext, reasons: list[Reason], details: dict[str, object]) -> Decision:
        return Decision(ctx.time_utc, self.name, Action.DECLINED, tuple(reasons), None, details)


# ----- single-leg helpers (shared with strategies.leap_puts) ---------------------------------
