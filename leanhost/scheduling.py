"""Schedule rules of :mod:`thetacore.schedule` as LEAN scheduled events, and host clocks.

LEAN APIs (docs: "Scheduled Events"; ``Common/Scheduling/TimeRules.cs``):

* :class:`~thetacore.schedule.DailyAt` -> ``schedule.on(name, date_rules.every_day(symbol),
  time_rules.at(h, m, TimeZones.NEW_YORK), fn)``: once per trading day of the underlying's
  exchange, at a New York wall-clock time;
* :class:`~thetacore.schedule.DailyAt` with ``before_close`` -> ``time_rules.before_market_close(
  symbol, minutes)`` (``Common/Scheduling/TimeRules.cs`` ``BeforeMarketClose``: each trading
  day at ``GetLastDailyMarketClose(date, extendedMarketClose=false) - minutes`` of the symbol's
  exchange hours, so early closes move it), with ``minutes`` = the symbol's full-day regular
  close (New York) - ``time_et`` (:func:`full_day_close_et`);
* :class:`~thetacore.schedule.EveryMinutes` -> ``schedule.on(name,
  date_rules.every_day(symbol), time_rules.every(timedelta(minutes=n)), fn)``. LEAN fires
  ``every`` at each multiple of ``n`` minutes after midnight in the algorithm's time zone
  (New York, LEAN's default, which ThetaDesk keeps); the handler passes on only the times
  inside ``[start_et, end_et]`` by the New York clock, read from ``algorithm.utc_time``.

Handlers receive the rule name; they run only when the algorithm is not warming up (LEAN
rejects orders during warm-up), and always inside the algorithm's entry lock
(:func:`leanhost.serial.schedule_on`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from AlgorithmImports import TimeZones

from thetacore.schedule import DailyAt, EveryMinutes, ScheduleRule, minutes_between

from .serial import schedule_on

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm, Symbol

NEW_YORK = ZoneInfo("America/New_York")

REFERENCE_WEEK = tuple(date(2024, 1, 8) + timedelta(days=k) for k in range(5))
"""A full Monday-Friday (no US or CME holiday or early close) on which a symbol's full-day
regular close is read: the latest of its five daily closes."""


def now_utc(algorithm: QCAlgorithm) -> datetime:
    """The algorithm's current time, timezone-aware UTC (LEAN's ``utc_time`` is naive UTC)."""
    t = algorithm.utc_time
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def now_et(algorithm: QCAlgorithm) -> datetime:
    """The algorithm's current time in America/New_York (timezone-aware)."""
    return now_utc(algorithm).astimezone(NEW_YORK)


def schedule_rule(
    algorithm: QCAlgorithm,
    symbol: Symbol,
    event_name: str,
    rule: ScheduleRule,
    handler: Callable[[str], None],
) -> None:
    """Register ``rule`` on the trading days of ``symbol``; ``handler(rule.name)`` runs at
    each admitted time outside warm-up. ``event_name`` names the LEAN scheduled event."""
    days = algorithm.date_rules.every_day(symbol)
    if isinstance(rule, DailyAt) and rule.before_close:
        minutes = minutes_between(rule.time_et, full_day_close_et(algorithm, symbol))
        if minutes < 0:
            raise ValueError(f"{event_name}: {rule.time_et:%H:%M} ET is after {symbol}'s close")
        at = algorithm.time_rules.before_market_close(symbol, minutes)
        schedule_on(algorithm, event_name, days, at, _guarded(algorithm, rule, handler))
    elif isinstance(rule, DailyAt):
        at = algorithm.time_rules.at(rule.time_et.hour, rule.time_et.minute, TimeZones.NEW_YORK)
        schedule_on(algorithm, event_name, days, at, _guarded(algorithm, rule, handler))
    elif isinstance(rule, EveryMinutes):
        every = algorithm.time_rules.every(timedelta(minutes=rule.interval_min))
        schedule_on(algorithm, event_name, days, every, _guarded(algorithm, rule, handler))
    else:  # pragma: no cover - ScheduleRule is a closed union
        raise TypeError(f"unknown schedule rule {rule!r}")


def full_day_close_et(algorithm: QCAlgorithm, symbol: Symbol) -> time:
    """New York wall time of ``symbol``'s regular close on a full day (SPX: 15:15 CT = 16:15
    ET): the latest ``exchange.hours.get_last_daily_market_close(day, False)``
    (``Common/Securities/SecurityExchangeHours.cs``) over :data:`REFERENCE_WEEK`, converted
    from the exchange's time zone.

    Raises:
        ValueError: when the symbol is not a security yet.
    """
    securities = algorithm.securities
    if not securities.contains_key(symbol):
        raise ValueError(f"{symbol} is not subscribed: no exchange hours for a before-close rule")
    exchange = securities[symbol].exchange
    zone = ZoneInfo(str(exchange.time_zone))
    closes = [exchange.hours.get_last_daily_market_close(day, False) for day in REFERENCE_WEEK]
    latest = max(c.replace(tzinfo=zone).astimezone(NEW_YORK).time() for c in closes)
    return latest.replace(second=0, microsecond=0)


def schedule_every_minute(
    algorithm: QCAlgorithm, symbol: Symbol, event_name: str, handler: Callable[[], None]
) -> None:
    """Run ``handler`` every minute of ``symbol``'s trading days (order time-outs)."""
    schedule_on(
        algorithm,
        event_name,
        algorithm.date_rules.every_day(symbol),
        algorithm.time_rules.every(timedelta(minutes=1)),
        handler,
    )


def _guarded(
    algorithm: QCAlgorithm, rule: ScheduleRule, handler: Callable[[str], None]
) -> Callable[[], None]:
    def fire() -> None:
        if algorithm.is_warming_up:
            return
        if isinstance(rule, EveryMinutes) and not rule.admits(now_et(algorithm).time()):
            return
        handler(rule.name)

    return fire
