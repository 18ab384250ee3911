"""Loss limits, losing-exit count and drawdown steps (docs/strategy-rules.md, "Risk").

* ``LOSS_LIMIT_DAILY`` / ``_WEEKLY`` / ``_MONTHLY``: the NLV has fallen by
  ``loss_limit_{daily,weekly,monthly}_frac`` (5% / 10% / 15%) or more of the period's start
  NLV (the period's first NLV mark): no new entries for the rest of that period;
* ``LOSING_EXITS_DAILY``: ``max_losing_exits_per_day`` (3) exits with a loss on one day: no
  new entries that day;
* drawdown from the peak NLV: ``DRAWDOWN_HALVE`` (10%) halves new position sizes (a
  1-contract entry moves to the micro product or is refused: :mod:`risk.gate`),
  ``DRAWDOWN_STOP`` (15%) stops entries and asks hosts to close losing positions,
  ``DRAWDOWN_FLATTEN`` (20%) stops entries, asks hosts to flatten everything and starts a
  break of ``drawdown_break_days`` CALENDAR days (M1: "a 2-week break").

Each limit trips automatically on an NLV mark or an exit and says so in an alert text. A loss
limit holds until its period ends. The halve and stop drawdown steps hold while the drawdown
is at or beyond their line and lift at the first NLV mark above it (strategy-rules, "Risk":
"lift when NLV recovers above the line"); the flatten step lifts at the first mark after its
break whose drawdown is above (smaller than) the STOP line, so entries resume only where the
stop step would not refuse them at once (an engineering choice: after a flatten the book is
flat and NLV barely moves, so without an operator clear the break ends only on a recovery).
Every automatic lift is audit-logged (``who`` = ``gate``) and alerted. An operator clear is
audit-logged and re-bases the limit so that it does not re-trip at once on the same loss: a
loss limit's period start NLV (or the drawdown peak) becomes the latest NLV mark. A loss
counts from its threshold inclusive (a 5.0% loss trips the 5% limit).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from risk.state import NO_PERIOD, GateState, roll_periods
from thetacore.parameters import Parameters

_EPS = 1e-12
LOSS_LIMITS = (
    ("day", "loss_daily", "LOSS_LIMIT_DAILY", "loss_limit_daily_frac"),
    ("week", "loss_weekly", "LOSS_LIMIT_WEEKLY", "loss_limit_weekly_frac"),
    ("month", "loss_monthly", "LOSS_LIMIT_MONTHLY", "loss_limit_monthly_frac"),
)
DRAWDOWN_STEPS = (
    ("drawdown_halve", "DRAWDOWN_HALVE", "drawdown_halve_frac", "new position sizes halved"),
    ("drawdown_stop", "DRAWDOWN_STOP", "drawdown_stop_frac", "no new entries; close losing positions"),
    ("drawdown_flatten", "DRAWDOWN_FLATTEN", "drawdown_flatten_frac", "no new entries; flatten everything"),
)


def mark_nlv(state: GateState, p: Parameters, nlv_usd: float, now_utc: datetime) -> list[str]:
    """Record an NLV mark: roll periods, set period starts and the peak, trip limits.

    Returns:
        Alert texts (limits newly tripped or cleared by a period change). An NLV that is not
        a positive finite number (:func:`valid_nlv`) is ignored with an ``NLV_INVALID`` alert: it never moves the
        peak or a period start.
    """
    alerts = roll_periods(state, now_utc)
    if not valid_nlv(nlv_usd):
        return [*alerts, f"NLV_INVALID: NLV mark {nlv_usd!r} at {now_utc.isoformat()} ignored"]
    for period in state.period_start_nlv_usd:
        if state.period_start_nlv_usd[period] is None:
            state.period_start_nlv_usd[period] = float(nlv_usd)
    state.last_nlv_usd = float(nlv_usd)
    state.peak_nlv_usd = max(state.peak_nlv_usd or 0.0, float(nlv_usd))
    alerts += _trip_loss_limits(state, p, nlv_usd, now_utc)
    alerts += _trip_drawdown(state, p, nlv_usd, now_utc)
    return alerts


def valid_nlv(nlv_usd: object) -> bool:
    """True for a positive, finite number that is not a boolean (``True`` would mark 1 USD)."""
    return (isinstance(nlv_usd, int | float) and not isinstance(nlv_usd, bool) and math.isfinite(nlv_usd)
            and nlv_usd > 0)


def _trip_loss_limits(state: GateState, p: Parameters, nlv_usd: float, now_utc: datetime) -> list[str]:
    alerts = []
    for period, name, code, param in LOSS_LIMITS:
        start = state.period_start_nlv_usd[period]
        limit = getattr(p, param)
        assert start is not None
        loss = start - nlv_usd
        if loss <= 0 or loss / start < limit - _EPS:
            continue
        text = (f"lost {loss:,.0f} USD = {loss / start:.1%} of start-of-{period} NLV {start:,.0f} >= "
                f"{limit:.1%}; no new entries until the {period} {state.period_key[period]} ends")
        if state.trip(name, code, text, period, now_utc):
            alerts.append(f"{code} tripped: {text}")
    return alerts


def _trip_drawdown(state: GateState, p: Parameters, nlv_usd: float, now_utc: datetime) -> list[str]:
    peak = state.peak_nlv_usd
    assert peak is not None
    dd = (peak - nlv_usd) / peak
    alerts = _lift_drawdown(state, p, dd, nlv_usd, now_utc)
    for name, code, param, effect in DRAWDOWN_STEPS:
        limit = getattr(p, param)
        if dd <= 0 or dd < limit - _EPS:
            continue
        if name == "drawdown_flatten":
            until = (now_utc + timedelta(days=p.drawdown_break_days)).date().isoformat()
            hold = (f"break of {p.drawdown_break_days} calendar days: entries resume after {until} only with "
                    f"the drawdown above the {p.drawdown_stop_frac:.1%} line, or by an operator clear")
        else:
            hold = f"holds while the drawdown is at or beyond {limit:.1%}"
        text = (f"drawdown {dd:.1%} from peak NLV {peak:,.0f} (NLV {nlv_usd:,.0f}) >= {limit:.1%}: "
                f"{effect}; {hold}")
        if state.trip(name, code, text, NO_PERIOD, now_utc):
            alerts.append(f"{code} tripped: {text}")
    return alerts


def _lift_drawdown(state: GateState, p: Parameters, dd: float, nlv_usd: float, now_utc: datetime) -> list[str]:
    """Lift the halve / stop steps whose line the drawdown ``dd`` (fraction) is now above,
    and the flatten step once its break is over and ``dd`` is above the stop line."""
    alerts = []
    for name, code, param, _ in DRAWDOWN_STEPS:
        trip = state.tripped.get(name)
        if trip is None:
            continue
        if name == "drawdown_flatten":
            ends = datetime.fromisoformat(trip.time_utc) + timedelta(days=p.drawdown_break_days)
            line = p.drawdown_stop_frac
            if now_utc < ends or dd >= line - _EPS:
                continue
            why = f"break ended {ends.isoformat()} and drawdown {dd:.3%} < stop line {line:.1%}"
        else:
            line = getattr(p, param)
            if dd >= line - _EPS:
                continue
            why = f"drawdown {dd:.3%} (NLV {nlv_usd:,.0f}) recovered above the {line:.1%} line"
        del state.tripped[name]
        state.audit(now_utc, "gate", f"lift {name}", trip.text, f"lifted: {why}", "automatic lift on an NLV mark")
        alerts.append(f"{code} lifted: {why}")
    return alerts


def record_exit(state: GateState, p: Parameters, pnl_usd: float, now_utc: datetime) -> list[str]:
    """Count one closed position's P&L (USD); trips ``LOSING_EXITS_DAILY`` at the limit.

    A P&L that is not a finite number counts as a loss (an exit whose result is unknown is
    not assumed a win) and says so in an alert.
    """
    alerts = roll_periods(state, now_utc)
    known = isinstance(pnl_usd, int | float) and math.isfinite(pnl_usd)
    if known and pnl_usd >= 0:
        return alerts
    if not known:
        alerts.append(f"EXIT_PNL_UNKNOWN: exit P&L {pnl_usd!r} counted as a losing exit")
    state.losing_exits_today += 1
    n, limit = state.losing_exits_today, p.max_losing_exits_per_day
    if n >= limit:
        text = f"{n} losing exits on {state.period_key['day']} >= {limit}; no new entries today"
        if state.trip("losing_exits", "LOSING_EXITS_DAILY", text, "day", now_utc):
            alerts.append(f"LOSING_EXITS_DAILY tripped: {text}")
    return alerts


def drawdown_halving(state: GateState) -> bool:
    """True while the halve-sizes drawdown step is tripped."""
    return "drawdown_halve" in state.tripped


def clear_limit(state: GateState, name: str, who: str, now_utc: datetime, why: str = "") -> str:
    """Operator clear of one tripped limit (re-based, audit-logged). Returns the alert text.

    Clearing any drawdown step re-bases the peak to the latest NLV and clears every step.

    Raises:
        ValueError: for an unknown limit name, one that is not tripped, or no ``who``.
    """
    if name not in state.tripped:
        raise ValueError(f"{name!r} is not tripped; tripped: {', '.join(state.tripped) or 'none'}")
    old = state.tripped[name].text
    if name.startswith("drawdown_"):
        rebase = f"peak NLV {state.peak_nlv_usd} -> {state.last_nlv_usd}"
        state.peak_nlv_usd = state.last_nlv_usd
        for step, _, _, _ in DRAWDOWN_STEPS:
            state.tripped.pop(step, None)
    elif name == "losing_exits":
        rebase = f"losing exits today {state.losing_exits_today} -> 0"
        state.losing_exits_today = 0
    elif name.startswith("loss_"):
        period = next(per for per, n, _, _ in LOSS_LIMITS if n == name)
        rebase = f"start-of-{period} NLV {state.period_start_nlv_usd[period]} -> {state.last_nlv_usd}"
        state.period_start_nlv_usd[period] = state.last_nlv_usd
    else:
        rebase = "latch removed (re-trips while its condition holds)"
    state.tripped.pop(name, None)
    state.audit(now_utc, who, f"clear {name}", old, f"cleared; {rebase}", why)
    return f"{name} cleared by {who}: {rebase}"
