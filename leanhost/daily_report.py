"""The daily after-close report in LEAN: gathers plain data, lets the pure
:func:`analytics.daily_report.render_daily_report` write the text, and sends it through the
alert channel (:meth:`leanhost.alerts.AlertChannel.report`: logged always; in live runs
delivered by QuantConnect notify in its cloud and by SMTP when configured).

Scheduled once per trading day of the first feed's underlying at ``daily_report_time_et``
(default 16:30 New York; LEAN ``date_rules.every_day(symbol)`` + ``time_rules.at(h, m,
TimeZones.NEW_YORK)``), skipped during warm-up. The caller holds the entry lock
(leanhost/serial.py).

Data: open positions of every strategy with their net mid from the securities' bid/ask
(:meth:`leanhost.risk_desk.RiskDesk.quote`; a one-sided leg leaves the mark unknown), the
day's journal entries (decisions other than HELD; the gate's REFUSE/RESIZE verdicts), the
gate's BP in use (:meth:`risk.gate_session.GateSession.account`) against the VIX-regime
limit (:func:`risk.buying_power_limits.bp_limit_frac`), trading state and tripped limits,
and each strategy's schedule rules on the next weekday (exchange holidays are not looked up).
"""

from __future__ import annotations

import math
from datetime import date, time, timedelta
from typing import TYPE_CHECKING

from AlgorithmImports import TimeZones

from analytics.daily_report import (
    DailyReportInput,
    EventLine,
    PositionLine,
    RiskLine,
    StrategyPlan,
    render_daily_report,
)
from leanhost.scheduling import NEW_YORK, now_et, now_utc
from leanhost.serial import schedule_on
from risk.buying_power_limits import bp_limit_frac
from strategies.base import PositionState
from thetacore.schedule import DailyAt, ScheduleRule

if TYPE_CHECKING:
    from collections.abc import Callable

    from AlgorithmImports import QCAlgorithm, Symbol

    from leanhost.risk_desk import RiskDesk

EVENT_NAME = "report:daily"


def schedule_daily_report(algorithm: QCAlgorithm, symbol: Symbol, at_et: time,
                          handler: Callable[[], None]) -> None:
    """Run ``handler`` once per trading day of ``symbol`` at wall time ``at_et`` (New York),
    inside the entry lock (:func:`leanhost.serial.schedule_on`)."""
    schedule_on(algorithm, EVENT_NAME, algorithm.date_rules.every_day(symbol),
                algorithm.time_rules.at(at_et.hour, at_et.minute, TimeZones.NEW_YORK), handler)


def _positions(desk: RiskDesk, today: date) -> tuple[PositionLine, ...]:
    out = []
    for strategy in desk.strategies.values():
        for pos in strategy.open_positions():
            if pos.entry_net_pts is None or pos.state is PositionState.OPENING:
                continue
            expiry = min(leg.expiry for leg in pos.structure.legs)
            out.append(PositionLine(strategy.name, pos.position_id, pos.structure.describe(), pos.quantity,
                                    pos.entry_net_pts, pos.structure.quoted_mid_pts(desk.quote),
                                    pos.structure.multiplier_usd_per_pt, (expiry - today).days))
    return tuple(out)


def _risk(desk: RiskDesk) -> RiskLine:
    nlv = float(desk.algorithm.portfolio.total_portfolio_value)
    vix = desk.market.vix_level()
    try:
        frac, basis = bp_limit_frac(vix, desk.params)
        limit = frac * nlv
    except ValueError:
        limit, basis = math.nan, "VIX unknown: no limit, entries refused"
    state = desk.session.gate.state
    return RiskLine(nlv, desk.session.account(nlv).buying_power_in_use_usd, limit, basis, vix,
                    state.trading_state(desk.params.kill_switch).value,
                    tuple(f"{t.code}: {t.text}" for t in state.entry_blocks()))


def _next_runs(rules: list[ScheduleRule], day: date) -> tuple[str, ...]:
    out = []
    for rule in rules:
        if isinstance(rule, DailyAt):
            out.append(f"{rule.name} {day.isoformat()} {rule.time_et:%H:%M} ET")
        else:
            out.append(f"{rule.name} every {rule.interval_min} min {rule.start_et:%H:%M}-{rule.end_et:%H:%M} ET "
                       f"from {day.isoformat()}")
    return tuple(out)


def next_weekday(day: date) -> date:
    """The next Monday-Friday after ``day`` (holidays are not looked up)."""
    nxt = day + timedelta(days=1)
    while nxt.weekday() >= 5:
        nxt += timedelta(days=1)
    return nxt


def gather(desk: RiskDesk) -> DailyReportInput:
    """The report's data now (New York date of the algorithm's clock)."""
    today = now_et(desk.algorithm).date()
    entries = [e for e in desk.journal.entries if e.time_utc.astimezone(NEW_YORK).date() == today]
    decisions = tuple(EventLine(e.time_utc, e.strategy, e.action, e.text)
                      for e in entries if e.kind == "decision" and e.action != "HELD")
    verdicts = tuple(EventLine(e.time_utc, e.strategy, e.action, e.text)
                     for e in entries if e.kind == "gate" and e.action in ("REFUSE", "RESIZE"))
    nxt = next_weekday(today)
    plans = []
    for strategy in desk.strategies.values():
        last = [e for e in entries if e.kind == "decision" and e.strategy == strategy.name]
        plans.append(StrategyPlan(strategy.name, _next_runs(strategy.schedules(), nxt), len(strategy.open_positions()),
                                  f"{last[-1].action} {last[-1].text}"[:200] if last else ""))
    return DailyReportInput(today, _positions(desk, today), decisions, verdicts, _risk(desk), tuple(plans))


def send_daily_report(desk: RiskDesk) -> tuple[str, str]:
    """Gather, render and send today's report (not during warm-up); returns (subject, body)."""
    if desk.algorithm.is_warming_up:
        return "", ""
    desk.journal_verdicts()
    subject, body = render_daily_report(gather(desk))
    desk.alerts.report(subject, body)
    desk.algorithm.log(f"daily report sent at {now_utc(desk.algorithm):%Y-%m-%d %H:%M}Z")
    return subject, body
