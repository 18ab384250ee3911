"""Event avoidance: no new short premium across a listed earnings or event date.

The dates come from a file the user maintains in the data folder,
``data/events/events.csv`` with the header ``symbol,date,kind,note`` (one row per event;
``date`` as yyyy-mm-dd; ``symbol`` the underlying ticker, upper case). Both hosts read the
file and hand the parsed dates to strategies through the market context.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from pathlib import Path

HEADER = ("symbol", "date", "kind", "note")


class EventFileError(ValueError):
    """The events file is malformed; the message names the line."""


def parse_events_csv(text: str, source: str = "events.csv") -> dict[str, tuple[date, ...]]:
    """``{SYMBOL: sorted event dates}`` from the events file's text.

    Raises:
        EventFileError: naming ``source`` and the line, for a wrong header, a missing
            field or a date that is not yyyy-mm-dd.
    """
    reader = csv.reader(io.StringIO(text))
    out: dict[str, set[date]] = {}
    for n, row in enumerate(reader, start=1):
        if n == 1:
            if tuple(c.strip().lower() for c in row[:4]) != HEADER:
                raise EventFileError(f"{source}:1: header must be {','.join(HEADER)}, got {row}")
            continue
        if not row or not "".join(row).strip() or row[0].startswith("#"):
            continue
        if len(row) < 2 or not row[0].strip():
            raise EventFileError(f"{source}:{n}: need at least symbol and date, got {row}")
        try:
            day = date.fromisoformat(row[1].strip())
        except ValueError as exc:
            raise EventFileError(f"{source}:{n}: bad date {row[1]!r}: {exc}") from exc
        out.setdefault(row[0].strip().upper(), set()).add(day)
    return {sym: tuple(sorted(days)) for sym, days in out.items()}


def read_events_file(path: Path) -> dict[str, tuple[date, ...]]:
    """:func:`parse_events_csv` of the file at ``path``.

    Raises:
        EventFileError: naming ``path``, when it cannot be read (a folder, no permission)
            or is not UTF-8 text, and for everything :func:`parse_events_csv` refuses.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise EventFileError(f"{path}: cannot read the events file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise EventFileError(f"{path}: not UTF-8 text (byte {exc.start}): {exc.reason}") from exc
    return parse_events_csv(text, str(path))


def first_event_between(start: date, end: date, event_dates: Iterable[date]) -> date | None:
    """The first event dated on or after ``start`` and on or before ``end``, else ``None``.

    A short-premium position opened on ``start`` and held to ``end`` (its expiry) is
    exposed to every event in that span, so the span is inclusive at both ends.
    """
    hits = sorted(d for d in event_dates if start <= d <= end)
    return hits[0] if hits else None


def add_weekdays(start: date, n: int) -> date:
    """The date ``n`` weekdays (Monday-Friday) after ``start``; ``start`` itself for 0.
    Exchange holidays are not skipped (the core has no holiday calendar): the window is then
    one day longer in calendar days than it would be, never shorter in trading days."""
    day, left = start, n
    while left > 0:
        day = date.fromordinal(day.toordinal() + 1)
        if day.weekday() < 5:
            left -= 1
    return day


def entry_event_block(today: date, expiry: date, event_dates: Iterable[date], *, trading_days: int,
                      short_dte_days: int) -> date | None:
    """The event that blocks a new short-premium entry, else ``None`` (reference "Event
    avoidance"): an event today or within the next ``trading_days`` trading days (weekdays,
    :func:`add_weekdays`); for a position shorter than ``short_dte_days`` DTE also any event
    before (or on) its ``expiry``. A one-year LEAP rung is not blocked by events later in
    its life."""
    end = add_weekdays(today, trading_days)
    if (expiry - today).days < short_dte_days:
        end = max(end, expiry)
    return first_event_between(today, end, event_dates)
