"""Exchange hours, holidays and data time zones from LEAN's ``market-hours-database.json``.

Mirrors, for the security types ThetaDesk uses:

* ``Common/Util/MarketHoursDatabaseJsonConverter.cs`` - how an entry is built: an option
  entry with no holidays / early closes / late opens of its own takes its underlying's
  (``IndexOption-usa-SPXW`` -> ``Index-usa-SPX``); every entry then unions the holidays of
  its market's ``[*]`` entry and merges its early closes and late opens (own values win),
  when that ``[*]`` entry comes earlier in the file, as LEAN processes them in file order.
* ``Common/Securities/MarketHoursDatabase.cs`` ``TryGetEntryImpl`` - lookup: exact key
  ``Type-market-TICKER``, then ``Type-market-[*]``, then for future options the underlying
  future's entry (``FuturesOptionsSymbolMappings.MapFromOption``). Keys are case-insensitive.
* ``Common/Securities/SecurityExchangeHours.cs`` / ``LocalMarketHours.cs`` - a day's segments
  (holiday -> none; early close cuts, late open trims, both can leave a gap), ``IsOpen``,
  ``IsDateOpen`` and ``GetNextMarketClose`` including sessions that run through midnight
  (CME ``end: 1.00:00:00`` followed by a ``00:00:00`` start the next day).

All segment times are wall-clock times in the entry's *exchange* time zone. Minute-file
times are in the *data* time zone, which may differ (ES: data UTC, exchange New York).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import DataError

_ONE_DAY = timedelta(days=1)
_LEAN_TYPE = {
    "equity": "Equity", "index": "Index", "option": "Option",
    "indexoption": "IndexOption", "future": "Future", "futureoption": "FutureOption",
}
_UNDERLYING_TYPE = {"option": "equity", "indexoption": "index", "futureoption": "future"}
# IndexOptionSymbol._nonStandardOptionToIndex
_INDEX_OPTION_TO_INDEX = {"RUTW": "RUT", "SPXW": "SPX", "VIXW": "VIX", "NDXP": "NDX", "NQX": "NDX"}
# FuturesOptionsSymbolMappings, option ticker -> future ticker (others map to themselves)
_FOP_TO_FUTURE = {
    "OEH": "EH", "OKE": "KE", "OTN": "TN", "OUB": "UB", "OYM": "YM", "OZB": "ZB", "OZC": "ZC",
    "OZF": "ZF", "OZL": "ZL", "OZM": "ZM", "OZN": "ZN", "OZO": "ZO", "OZS": "ZS", "OZT": "ZT",
    "OZW": "ZW", "RTO": "RTY", "OG": "GC", "HXE": "HG", "SO": "SI", "LO": "CL", "HCO": "HCL",
    "OH": "HO", "ON": "NG", "PAO": "PA", "PO": "PL", "OB": "RB", "OYG": "YG", "OZG": "ZG",
    "OZI": "ZI", "ADU": "6A", "GBU": "6B", "CAU": "6C", "EUU": "6E", "JPU": "6J", "CHU": "6S",
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DB_RELATIVE_PATH = Path("market-hours") / "market-hours-database.json"


class SessionState(Enum):
    """State of a market-hours segment (LEAN ``MarketHoursState``; ``closed`` is dropped)."""

    PREMARKET = "premarket"
    MARKET = "market"
    POSTMARKET = "postmarket"


@dataclass(frozen=True)
class Segment:
    """One segment of a day, as offsets from local midnight in the exchange time zone.

    ``end`` may equal one day (``"1.00:00:00"``): the session runs on past midnight when the
    next day starts with a ``00:00`` segment. Contains ``t`` when ``start <= t < end``.
    """

    state: SessionState
    start: timedelta
    end: timedelta


@dataclass(frozen=True, eq=False)
class MarketHoursEntry:
    """A resolved entry (``MarketHoursDatabase.Entry`` + ``SecurityExchangeHours``).

    ``weekly[d]`` holds the segments of ``date.weekday() == d`` (Monday 0). ``holidays``
    close the whole day; ``bank_holidays`` are kept for settlement rules and do not close
    the market; ``early_closes`` / ``late_opens`` are exchange-tz wall-clock times.
    """

    key: str
    data_tz: ZoneInfo
    exchange_tz: ZoneInfo
    weekly: tuple[tuple[Segment, ...], ...]
    holidays: frozenset[date]
    bank_holidays: frozenset[date]
    early_closes: Mapping[date, time]
    late_opens: Mapping[date, time]

    def segments(self, day: date) -> tuple[Segment, ...]:
        """Segments of ``day`` after holidays, early closes and late opens
        (``SecurityExchangeHours.GetMarketHours``). Empty on holidays and closed days."""
        if day in self.holidays:
            return ()
        segs = self.weekly[day.weekday()]
        close = _offset(self.early_closes.get(day))
        opening = _offset(self.late_opens.get(day))
        return _adjust(segs, close, opening)

    def last_market_close(self, day: date, full_day: bool = False) -> timedelta | None:
        """End of ``day``'s last regular-market segment, from local midnight
        (``SecurityExchangeHours.GetLastDailyMarketClose(date, extendedMarketHours=false)``,
        which ``TimeRules.BeforeMarketClose`` uses); ``full_day``: the weekday's close
        without that day's early close. ``None`` when the market does not open that day."""
        segs = self.weekly[day.weekday()] if full_day else self.segments(day)
        ends = [seg.end for seg in segs if seg.state is SessionState.MARKET and seg.end > seg.start]
        return max(ends) if ends else None

    def early_close_min(self, day: date) -> int:
        """Minutes by which ``day``'s regular close is earlier than the weekday's full-day
        close (0 on a full day or a closed day)."""
        close, full = self.last_market_close(day), self.last_market_close(day, full_day=True)
        if close is None or full is None or close >= full:
            return 0
        return int((full - close).total_seconds() // 60)

    def sessions(self, day: date) -> list[tuple[datetime, datetime, SessionState]]:
        """``(start, end, state)`` of each segment of ``day`` as aware exchange-tz datetimes.

        Pre- and post-market segments are included and flagged by ``state``.
        """
        midnight = datetime.combine(day, time())
        return [
            ((midnight + s.start).replace(tzinfo=self.exchange_tz),
             (midnight + s.end).replace(tzinfo=self.exchange_tz), s.state)
            for s in self.segments(day)
        ]

    def is_trading_day(self, day: date, extended_hours: bool = False) -> bool:
        """``SecurityExchangeHours.IsDateOpen``: the day has regular-market time (or, with
        ``extended_hours``, any segment; e.g. the CME Sunday evening premarket)."""
        segs = self.segments(day)
        if not segs:
            return False
        return extended_hours or any(s.state is SessionState.MARKET and s.end > s.start
                                     for s in segs)

    def is_open(self, when: datetime, extended_hours: bool = False) -> bool:
        """``SecurityExchangeHours.IsOpen`` at an instant.

        Raises ValueError for a naive ``when`` (the time zone must be explicit).
        """
        local = _to_local(when, self.exchange_tz)
        tod = _time_of_day(local)
        for s in self.segments(local.date()):
            if s.start <= tod < s.end:
                return extended_hours or s.state is SessionState.MARKET
        return False

    def next_market_close(self, when: datetime, extended_hours: bool = False) -> datetime:
        """First close strictly after ``when`` (``SecurityExchangeHours.GetNextMarketClose``).

        A segment ending at midnight that continues at 00:00 the next day is not a close.
        Returns an aware exchange-tz datetime. Raises DataError if none within 15 days.
        """
        local = _to_local(when, self.exchange_tz).replace(tzinfo=None)
        for k in range(15):
            day = local.date() + timedelta(days=k)
            segs = self.segments(day)
            if not segs:
                continue
            tod = _time_of_day(local) if k == 0 else timedelta(0)
            close = _market_close(segs, tod, extended_hours, self._next_day_start(day))
            if close is not None and local < datetime.combine(day, time()) + close:
                return (datetime.combine(day, time()) + close).replace(tzinfo=self.exchange_tz)
        raise DataError(f"{self.key}: no market close within 15 days after {when.isoformat()}")

    def _next_day_start(self, day: date) -> timedelta | None:
        nxt = day + _ONE_DAY
        if nxt in self.early_closes:
            return None
        segs = self.segments(nxt)
        return segs[0].start if segs else None


class MarketHours:
    """LEAN's market-hours database, with entries resolved lazily and cached.

    Use :meth:`load` (a path to the JSON) or :meth:`from_data_root` (cached per folder).
    """

    def __init__(self, raw_entries: dict[str, Any], path: Path) -> None:
        self.path = path
        self._raw: dict[str, tuple[int, str, dict[str, Any]]] = {
            k.lower(): (i, k, v) for i, (k, v) in enumerate(raw_entries.items())
        }
        self._built: dict[str, MarketHoursEntry] = {}

    @classmethod
    def load(cls, path: Path) -> MarketHours:
        """Read the JSON file. Raises DataError if missing, not JSON, or without ``entries``."""
        path = Path(path)
        try:
            with path.open("r", encoding="utf-8") as fh:
                doc = json.load(fh)
        except FileNotFoundError as exc:
            raise DataError("file not found", path=path) from exc
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON: {exc.msg}", path=path, line=exc.lineno) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read: {exc}", path=path) from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("entries"), dict):
            raise DataError("no 'entries' object at the top level", path=path)
        return cls(doc["entries"], path)

    @classmethod
    def from_data_root(cls, data_root: Path) -> MarketHours:
        """The database of a LEAN data folder, loaded once per resolved folder path."""
        return _load_cached(str(Path(data_root).resolve() / DB_RELATIVE_PATH))

    def keys(self) -> list[str]:
        """All entry keys in file order, as written (``Future-cme-ES``...)."""
        return [k for _, k, _ in sorted(self._raw.values(), key=lambda t: t[0])]

    def entry(self, security_type: str, market: str, ticker: str) -> MarketHoursEntry:
        """Resolved entry for ``("future", "cme", "ES")`` etc., with LEAN's fallbacks.

        Raises DataError naming the key tried when nothing matches.
        """
        lean_type = _LEAN_TYPE.get(security_type)
        if lean_type is None:
            raise ValueError(f"unknown security type {security_type!r}")
        for key in self._candidates(security_type, lean_type, market, ticker):
            if key.lower() in self._raw:
                return self._build(key.lower())
        raise DataError(f"no market-hours entry for {lean_type}-{market}-{ticker} "
                        f"(nor {lean_type}-{market}-[*])", path=self.path)

    def _candidates(self, security_type: str, lean_type: str, market: str, ticker: str
                    ) -> list[str]:
        keys = [f"{lean_type}-{market}-{ticker}", f"{lean_type}-{market}-[*]"]
        if security_type == "futureoption":
            future = future_ticker_of_option(ticker)
            keys += [f"Future-{market}-{future}", f"Future-{market}-[*]"]
        return keys

    def _build(self, lkey: str) -> MarketHoursEntry:
        if lkey not in self._built:
            self._built[lkey] = self._convert(lkey)
        return self._built[lkey]

    def _convert(self, lkey: str) -> MarketHoursEntry:
        """``MarketHoursDatabaseEntryJson.Convert(underlyingEntry, marketEntry)``."""
        position, key, raw = self._raw[lkey]
        try:
            own = _parse_entry(key, raw)
        except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError) as exc:
            raise DataError(f"bad entry {key}: {exc}", path=self.path) from exc
        lean_type, market, symbol = key.split("-", 2)
        holidays, bank = own.holidays, own.bank_holidays
        closes, opens = dict(own.early_closes), dict(own.late_opens)
        under = self._underlying(lean_type, market, symbol)
        if under is not None:  # an option with no list of its own takes its underlying's
            holidays, bank = holidays or under.holidays, bank or under.bank_holidays
            closes, opens = closes or dict(under.early_closes), opens or dict(under.late_opens)
        common = f"{lean_type}-{market}-[*]".lower()
        if common != lkey and common in self._raw and self._raw[common][0] < position:
            base = self._build(common)
            holidays, bank = holidays | base.holidays, bank | base.bank_holidays
            closes, opens = {**base.early_closes, **closes}, {**base.late_opens, **opens}
        return MarketHoursEntry(key, own.data_tz, own.exchange_tz, own.weekly, holidays, bank,
                                closes, opens)

    def _underlying(self, lean_type: str, market: str, symbol: str) -> MarketHoursEntry | None:
        """Built entry of an option key's underlying (``GetUnderlyingEntry``), else None."""
        ours = {v: k for k, v in _LEAN_TYPE.items()}.get(lean_type)
        if ours not in _UNDERLYING_TYPE:
            return None
        u_type = _LEAN_TYPE[_UNDERLYING_TYPE[ours]]
        sym = symbol.upper()
        u_sym = _INDEX_OPTION_TO_INDEX.get(sym, sym) if ours == "indexoption" else (
            future_ticker_of_option(sym) if ours == "futureoption" else sym)
        for cand in (f"{u_type}-{market}-{u_sym}", f"{u_type}-{market}-[*]"):
            if cand.lower() in self._raw:
                return self._build(cand.lower())
        return None


def future_ticker_of_option(ticker: str) -> str:
    """Underlying future ticker of a future-option ticker (``OZN`` -> ``ZN``; ``ES`` -> ``ES``),
    as ``FuturesOptionsSymbolMappings.MapFromOption``; upper case."""
    return _FOP_TO_FUTURE.get(ticker.upper(), ticker.upper())


@lru_cache(maxsize=8)
def _load_cached(path: str) -> MarketHours:
    return MarketHours.load(Path(path))


def _parse_entry(key: str, raw: dict[str, Any]) -> MarketHoursEntry:
    weekly = tuple(tuple(_parse_segment(s) for s in raw.get(day) or []
                         if str(s.get("state", "")).lower() != "closed") for day in _WEEKDAYS)
    return MarketHoursEntry(
        key=key,
        data_tz=ZoneInfo(raw["dataTimeZone"]),
        exchange_tz=ZoneInfo(raw["exchangeTimeZone"]),
        weekly=weekly,
        holidays=frozenset(_parse_date(d) for d in raw.get("holidays") or []),
        bank_holidays=frozenset(_parse_date(d) for d in raw.get("bankHolidays") or []),
        early_closes=_parse_times(raw.get("earlyCloses")),
        late_opens=_parse_times(raw.get("lateOpens")),
    )


def _parse_times(raw: dict[str, str] | None) -> dict[date, time]:
    return {_parse_date(d): _as_time(t) for d, t in (raw or {}).items()}


def _parse_segment(raw: dict[str, Any]) -> Segment:
    return Segment(SessionState(raw["state"].lower()), parse_timespan(raw["start"]),
                   parse_timespan(raw["end"]))


def parse_timespan(text: str) -> timedelta:
    """.NET ``TimeSpan`` text: ``hh:mm[:ss[.fff]]``, ``d.hh:mm:ss`` or ``d:hh:mm:ss``."""
    days = 0
    fields = text.strip().split(":")
    if len(fields) == 4:
        days = int(fields.pop(0))
    elif "." in fields[0]:
        head, fields[0] = fields[0].split(".", 1)
        days = int(head)
    if len(fields) not in (2, 3):
        raise ValueError(f"not a TimeSpan: {text!r}")
    seconds = float(fields[2]) if len(fields) == 3 else 0.0
    return timedelta(days=days, hours=int(fields[0]), minutes=int(fields[1]), seconds=seconds)


def _parse_date(text: str) -> date:
    return datetime.strptime(text, "%m/%d/%Y").date()


def _as_time(text: str) -> time:
    span = parse_timespan(text)
    if not timedelta(0) <= span < _ONE_DAY:
        raise ValueError(f"early close / late open outside the day: {text!r}")
    return (datetime.min + span).time()


def _offset(t: time | None) -> timedelta | None:
    if t is None:
        return None
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _adjust(segs: tuple[Segment, ...], close: timedelta | None, opening: timedelta | None
            ) -> tuple[Segment, ...]:
    """Early-close / late-open rules of ``SecurityExchangeHours.GetMarketHours``, verbatim
    (including LEAN's ``index = i - 1`` when the close falls in a gap between segments)."""
    if close is None and opening is None:
        return segs
    before: list[Segment] | None = None
    if close is not None:
        index, cut = len(segs), None
        for i, s in enumerate(segs):
            if s.start <= close <= s.end:
                index, cut = i, Segment(s.state, s.start, close)
                break
            if close < s.start:
                index = i - 1
                break
        before = list(segs[:max(index, 0)]) + ([cut] if cut else [])
        if opening is None or close >= opening:
            segs = tuple(before)
    after: list[Segment] = []
    if opening is not None:
        index = 0
        for i, s in enumerate(segs):
            if s.start <= opening <= s.end:
                after.append(Segment(s.state, opening, s.end))
                index = i + 1
                break
            if opening < s.start:
                index = i
                break
        segs = tuple(after + list(segs[index:]))
    if before is not None and opening is not None and close is not None and close <= opening:
        segs = tuple(before + after)
    return segs


def _market_close(segs: tuple[Segment, ...], tod: timedelta, extended: bool,
                  next_day_start: timedelta | None) -> timedelta | None:
    """``LocalMarketHours.GetMarketClose`` (lastClose = false)."""
    for i, s in enumerate(segs):
        if s.end <= tod:
            continue
        if i < len(segs) - 1:
            nxt = segs[i + 1]
            next_start = nxt.start if (nxt.state is SessionState.MARKET or extended) else None
            continuous = next_start is not None and s.end == next_start
        else:
            continuous = (next_day_start is not None and s.end == _ONE_DAY
                          and next_day_start == timedelta(0))
        if (s.state is SessionState.MARKET or extended) and not continuous:
            return s.end
    return None


def _to_local(when: datetime, tz: ZoneInfo) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"naive datetime {when!r}: give a time zone")
    return when.astimezone(tz)


def _time_of_day(local: datetime) -> timedelta:
    return timedelta(hours=local.hour, minutes=local.minute, seconds=local.second,
                     microseconds=local.microsecond)
