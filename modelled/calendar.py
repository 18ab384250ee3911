"""Expiry calendars and strike grids like the real listings (APPROXIMATIONS, stated here).

Every expiry belongs to a :class:`Series` with a listing rule; an expiry is in the chain on day
``t`` when ``listed_from <= t <= expiry``. Dates of the series' introduction are approximate
(exchange announcements, from memory of the public record, not from a file in ``data/``); they
are parameters of :class:`EquityCalendar` so a later session can correct them.

SPY (and other ETF options, :class:`EquityCalendar`):

* options themselves from ``launch`` (SPY: 2005-01-10, when SPY options started trading);
* MONTHLY: the third Friday of each month, listed from the Monday after the third Friday three
  months earlier (so the next three months are always there); until 2015 the monthly contract
  expired on the Saturday after, trading ended on the Friday: the model uses the Friday;
* QUARTERLY_CYCLE: third Fridays of Mar/Jun/Sep/Dec, listed 12 months ahead;
* LEAP: third Friday of January, listed from the third Friday of May 32 months earlier (new
  LEAP years appear in the spring, ~2.7 years out);
* QUARTER_END: the last trading day of Mar/Jun/Sep/Dec, from ``quarter_end_from`` (2008),
  listed 12 months ahead;
* WEEKLY_FRI: every other Friday from ``weekly_fri_from`` (2010-06-04, the first weekly expiry; the
  ``*_from`` dates are first expiries, listed ahead like the rest), listed 5 weeks ahead;
  WEEKLY_WED / WEEKLY_MON from ``weekly_wed_from`` (2016-02-24) / ``weekly_mon_from``
  (2018-08-13), WEEKLY_TUE_THU from ``weekly_tue_thu_from`` (2022-11-14); listed 3 weeks ahead.
* An expiry falling on an exchange holiday moves to the previous trading day (OCC rule), using
  the holidays of LEAN's market-hours database (``data/market-hours``) passed in by the caller.

ES options (:class:`FuturesCalendar`): quarterly options on the future of the same quarter,
expiring with it on the third Friday of Mar/Jun/Sep/Dec, listed 12 months ahead (four listed);
serial monthly options (the other months' third Fridays) on the next quarterly future, listed
four months ahead (an approximation: CME's listing cycle for serial E-mini S&P options changed
over the years; four months keeps a monthly expiry near the strangle's 90 and LT112's 120 DTE
targets, as the strategies' rules assume) (CME E-mini S&P 500 options contract specs, simplified: weeklies and
end-of-month options left out).

Strikes (:func:`strike_grid`): a fine step near the forward and a coarse step outside, from
``lower = F exp(-z_lo s sqrt(T))`` to ``upper = F exp(z_hi s sqrt(T))`` with ``s`` the ATM
level (at least +/-``min_band_frac``): SPY $1 within the near band for expiries up to a year,
$5 outside and for LEAPs (Cboe $1 strike program for ETFs; LEAPs in $5); ES 5 points near, 25
outside (CME lists ES option strikes in 5-point steps near the money, wider far out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

import numpy as np

QUARTER_MONTHS = (3, 6, 9, 12)
FUTURE_MONTH_CODES = "FGHJKMNQUVXZ"


class Series(Enum):
    """Expiry series (module doc)."""

    MONTHLY = "monthly"
    QUARTERLY_CYCLE = "quarterly_cycle"
    LEAP = "leap"
    QUARTER_END = "quarter_end"
    WEEKLY = "weekly"
    FUTURE_QUARTERLY = "future_quarterly"
    FUTURE_SERIAL = "future_serial"


def third_friday(year: int, month: int) -> date:
    """Third Friday of ``month`` (the standard monthly expiry)."""
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    k = year * 12 + month - 1 + n
    return k // 12, k % 12 + 1


def previous_trading_day(day: date, holidays: frozenset[date]) -> date:
    """``day`` or the closest earlier weekday that is not a holiday."""
    while day.weekday() >= 5 or day in holidays:
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class Listing:
    """One listed expiry: ``expiry`` (after the holiday rule), its ``series`` and the first
    day it is listed (``listed_from``)."""

    expiry: date
    series: Series
    listed_from: date


@dataclass(frozen=True)
class EquityCalendar:
    """ETF option listings (module doc for the rules and the approximate dates)."""

    launch: date = date(2005, 1, 10)
    quarter_end_from: date = date(2008, 1, 1)
    weekly_fri_from: date = date(2010, 6, 4)
    weekly_wed_from: date = date(2016, 2, 24)
    weekly_mon_from: date = date(2018, 8, 13)
    weekly_tue_thu_from: date = date(2022, 11, 14)

    def listings(self, today: date, holidays: frozenset[date]) -> list[Listing]:
        """Every expiry listed on ``today`` (``listed_from <= today <= expiry``), sorted,
        one per date (a date in two series keeps the first of MONTHLY, QUARTERLY_CYCLE, LEAP,
        QUARTER_END, WEEKLY). Empty before ``launch``."""
        if today < self.launch:
            return []
        out: dict[date, Listing] = {}
        for cand in self._candidates(today, holidays):
            if cand.listed_from <= today <= cand.expiry and cand.expiry not in out:
                out[cand.expiry] = cand
        return sorted(out.values(), key=lambda x: x.expiry)

    def _candidates(self, today: date, holidays: frozenset[date]) -> list[Listing]:
        y, m = today.year, today.month
        cands: list[Listing] = []
        for n in range(0, 16):
            yy, mm = _add_months(y, m, n)
            tf = third_friday(yy, mm)
            ly, lm = _add_months(yy, mm, -3)
            cands.append(Listing(previous_trading_day(tf, holidays), Series.MONTHLY,
                                 third_friday(ly, lm) + timedelta(days=3)))
            if mm in QUARTER_MONTHS:
                cands.append(Listing(previous_trading_day(tf, holidays), Series.QUARTERLY_CYCLE,
                                     third_friday(yy - 1, mm) + timedelta(days=3)))
        for yy in range(y, y + 4):
            cands.append(Listing(previous_trading_day(third_friday(yy, 1), holidays), Series.LEAP,
                                 third_friday(yy - 3, 5)))
        for n in range(0, 15):
            yy, mm = _add_months(y, m, n)
            if mm in QUARTER_MONTHS:
                ny, nm = _add_months(yy, mm, 1)
                end = previous_trading_day(date(ny, nm, 1) - timedelta(days=1), holidays)
                if end >= self.quarter_end_from:
                    cands.append(Listing(end, Series.QUARTER_END, end - timedelta(days=365)))
        cands += self._weeklies(today, holidays)
        order = list(Series)
        return sorted(cands, key=lambda c: order.index(c.series))

    def _weeklies(self, today: date, holidays: frozenset[date]) -> list[Listing]:
        out: list[Listing] = []
        for k in range(0, 40):
            day = today + timedelta(days=k)
            wd = day.weekday()
            if wd == 4 and day >= self.weekly_fri_from:
                ahead = 35
            elif (wd == 2 and day >= self.weekly_wed_from) or (wd == 0 and day >= self.weekly_mon_from) or (
                    wd in (1, 3) and day >= self.weekly_tue_thu_from):
                ahead = 21
            else:
                continue
            # on a holiday the weekly expires the trading day before (OCC rule), where it may meet
            # another expiry (the listing keeps one per date)
            out.append(Listing(previous_trading_day(day, holidays), Series.WEEKLY, day - timedelta(days=ahead)))
        return out


@dataclass(frozen=True)
class FutureListing:
    """An ES option expiry with the future it is written on: ``future_expiry`` and the
    LEAN-style ticker ``future_symbol`` (``ES20H20``: root, expiry day, month code, year)."""

    listing: Listing
    future_expiry: date
    future_symbol: str


@dataclass(frozen=True)
class FuturesCalendar:
    """ES future-option listings (module doc). ``root``: the futures root for symbols; a
    quarterly expiry is listed from the day after the third Friday ``quarterly_months_ahead``
    months before it (4 quarterlies with 12), a serial one ``serial_months_ahead`` months
    before it (2-3 serial months with 4)."""

    root: str = "ES"
    quarterly_months_ahead: int = 12
    serial_months_ahead: int = 4

    def listings(self, today: date, holidays: frozenset[date]) -> list[FutureListing]:
        """Quarterly and serial option expiries listed on ``today`` with their futures, sorted."""
        quarters: list[FutureListing] = []
        serials: list[tuple[date, date]] = []
        for n in range(0, self.quarterly_months_ahead + 4):
            yy, mm = _add_months(today.year, today.month, n)
            exp = previous_trading_day(third_friday(yy, mm), holidays)
            ahead = self.quarterly_months_ahead if mm in QUARTER_MONTHS else self.serial_months_ahead
            ly, lm = _add_months(yy, mm, -ahead)
            listed = third_friday(ly, lm) + timedelta(days=1)
            if not listed <= today <= exp:
                continue
            if mm in QUARTER_MONTHS:
                sym = f"{self.root}{exp.day:02d}{FUTURE_MONTH_CODES[mm - 1]}{yy % 100:02d}"
                quarters.append(FutureListing(Listing(exp, Series.FUTURE_QUARTERLY, listed), exp, sym))
            else:
                serials.append((exp, listed))
        out = list(quarters)
        for exp, listed in serials:  # on the next quarterly future (it expires after the serial)
            fut = next((q for q in quarters if q.future_expiry > exp), None)
            if fut is not None:
                out.append(FutureListing(Listing(exp, Series.FUTURE_SERIAL, listed), fut.future_expiry,
                                         fut.future_symbol))
        return sorted(out, key=lambda f: f.listing.expiry)


def strike_grid(forward_pts: float, atm_frac: float, t_years: float, fine_pts: float, coarse_pts: float,
                *, fine_z: float = 2.0, z_lo: float = 6.0, z_hi: float = 4.0, min_band_frac: float = 0.05,
                floor_frac: float = 0.2) -> np.ndarray:
    """Sorted strikes for one expiry (module doc): multiples of ``fine_pts`` within
    ``F exp(+/- max(fine_z s sqrt(T), min_band_frac))``, multiples of ``coarse_pts`` out to
    ``[max(F exp(-z_lo s sqrt(T)), floor_frac F), F exp(z_hi s sqrt(T))]``.

    Raises:
        ValueError: for a non-positive forward, ATM level, time or step.
    """
    if min(forward_pts, atm_frac, t_years, fine_pts, coarse_pts) <= 0:
        raise ValueError("strike_grid needs positive forward, ATM level, time and steps")
    sd = atm_frac * np.sqrt(t_years)
    near = max(fine_z * sd, min_band_frac)
    lo = max(forward_pts * np.exp(-max(z_lo * sd, min_band_frac)), floor_frac * forward_pts)
    hi = forward_pts * np.exp(max(z_hi * sd, min_band_frac))
    coarse = coarse_pts * np.arange(np.ceil(lo / coarse_pts), np.floor(hi / coarse_pts) + 1)
    f_lo, f_hi = forward_pts * np.exp(-near), forward_pts * np.exp(near)
    fine = fine_pts * np.arange(np.ceil(f_lo / fine_pts), np.floor(f_hi / fine_pts) + 1)
    out: np.ndarray = np.unique(np.round(np.concatenate((coarse, fine)), 8))
    return out[out > 0]
