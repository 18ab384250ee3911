"""Minute quote and trade bars from LEAN's zip files, parsed vectorised.

Mirrors ``Common/Data/Market/QuoteBar.cs`` (``ParseQuote``) and ``TradeBar.cs`` for minute
files, with the names of :mod:`.paths`:

* quote row ``ms, bid o,h,l,c, bid size, ask o,h,l,c, ask size``; trade row
  ``ms, o,h,l,c, volume``. ``ms`` is milliseconds since midnight of the file's date in the
  entry's ``dataTimeZone`` (market-hours database) and marks the bar START; bars end one
  minute later. Times are returned as UTC (LEAN's lenient mapping: an ambiguous local time
  takes the later instant, a skipped one the first instant after the gap).
* prices of ``equity``, ``option`` and ``indexoption`` are integers scaled by 10,000 and are
  divided (``LeanData.OptionUseScaleFactor`` covers Option and IndexOption; the SPXW files
  confirm: ``651000`` is 65.10). ``index``, ``future`` and ``futureoption`` are plain.
* an empty field is NaN. A quote side whose open, high, low and close are all empty or 0 has
  no quote (LEAN sets ``Bid``/``Ask`` to null): all five fields of that side become NaN, so a
  missing quote is never read as a price of 0.

Errors (missing zip, not a zip, empty, wrong field count, non-numeric field) raise
:class:`DataError` naming the zip, the member and the line.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar, cast, overload
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from .errors import DataError
from .market_hours import MarketHours
from .paths import (
    OptionKey,
    SecurityType,
    available_minute_days,
    find_minute_zip,
    future_option_months_with_day,
    minute_entry_name,
    parse_future_entry_name,
    parse_option_entry_name,
)

BarKind = Literal["quote", "trade"]
QUOTE_FIELDS = 11
TRADE_FIELDS = 6
PRICE_SCALE = 10_000.0
SCALED_TYPES = frozenset({"equity", "option", "indexoption"})
_MS_PER_DAY = 86_400_000
_T = TypeVar("_T")
__all__ = [
    "Bars", "QuoteBars", "TradeBars", "available_minute_days", "data_time_zone",
    "read_equity_minute", "read_future_minute", "read_index_minute", "read_option_minute",
    "parse_bars", "parse_bars_batch", "open_zip", "read_member", "parse_numeric_csv",
    "check_field_counts", "local_ms_to_utc", "bar_columns", "freeze_arrays",
]


def freeze_arrays(obj: object) -> None:
    """Check every array field of a bars dataclass has the same ``(n,)`` shape, then make
    them read-only. Raises ValueError on a shape mismatch."""
    arrays = {f.name: getattr(obj, f.name) for f in fields(obj)}  # type: ignore[arg-type]
    shapes = {name: np.shape(a) for name, a in arrays.items()}
    if len(set(shapes.values())) != 1 or len(next(iter(shapes.values()))) != 1:
        raise ValueError(f"{type(obj).__name__} needs equal (n,) arrays, got {shapes}")
    for a in arrays.values():
        a.flags.writeable = False


@dataclass(frozen=True, eq=False)
class QuoteBars:
    """Minute quote bars of one instrument and day; every array has shape ``(n,)``.

    ``time_utc`` is ``datetime64[ms]`` (naive, UTC) bar start. Prices are in points
    (already unscaled), sizes in contracts/shares; NaN where the side had no quote.
    The arrays are read-only.
    """

    time_utc: np.ndarray
    bid_open: np.ndarray
    bid_high: np.ndarray
    bid_low: np.ndarray
    bid_close: np.ndarray
    bid_size: np.ndarray
    ask_open: np.ndarray
    ask_high: np.ndarray
    ask_low: np.ndarray
    ask_close: np.ndarray
    ask_size: np.ndarray

    def __post_init__(self) -> None:
        freeze_arrays(self)

    def __len__(self) -> int:
        return int(self.time_utc.shape[0])


@dataclass(frozen=True, eq=False)
class TradeBars:
    """Minute trade bars; arrays ``(n,)``: ``time_utc`` ``datetime64[ms]`` bar start (UTC),
    prices in points, ``volume`` in contracts/shares. Read-only arrays."""

    time_utc: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        freeze_arrays(self)

    def __len__(self) -> int:
        return int(self.time_utc.shape[0])


Bars = QuoteBars | TradeBars


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open a LEAN zip. Raises DataError if missing, not a zip, or without members."""
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError as exc:
        raise DataError("file not found", path=path) from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"not a readable zip file: {exc}", path=path) from exc
    if not zf.namelist():
        zf.close()
        raise DataError("zip file has no members", path=path)
    return zf


def read_member(zf: zipfile.ZipFile, member: str, path: Path) -> bytes:
    """Bytes of one member. Raises DataError if absent, corrupt or empty."""
    try:
        raw = zf.read(member)
    except KeyError as exc:
        raise DataError("member not in zip", path=path, member=member) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise DataError(f"corrupt zip member: {exc}", path=path, member=member) from exc
    if not raw.strip():
        raise DataError("empty CSV", path=path, member=member)
    return raw


def parse_numeric_csv(raw: bytes, n_fields: int, path: Path, member: str
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Parse CSV bytes of numbers into ``(rows, n_fields)`` float64 (empty field -> NaN)
    and the ``(rows,)`` 1-based line number of each row (blank lines are skipped).
 Raises DataError (with 1-based line) on a row with another
    field count or a field that is not a number.
    """
    line_numbers = check_field_counts(raw, n_fields, path, member)
    try:
        table = pd.read_csv(io.BytesIO(raw), header=None, dtype=np.float64, engine="c")
    except (ValueError, pd.errors.ParserError) as exc:
        number, field = _first_bad_number(raw)
        raise DataError(f"non-numeric field {field!r}", path=path, member=member,
                        line=number) from exc
    values = table.to_numpy(dtype=np.float64)
    if values.shape != (len(line_numbers), n_fields):
        raise DataError(f"parsed shape {values.shape}, expected ({len(line_numbers)}, "
                        f"{n_fields})", path=path, member=member)
    return values, line_numbers


def check_field_counts(raw: bytes, n_fields: int, path: Path, member: str) -> np.ndarray:
    """1-based line numbers of the non-blank lines, after checking each has ``n_fields``
    comma-separated fields (vectorised over the bytes). Raises DataError on the first bad
    line."""
    if not raw.strip():
        raise DataError("empty CSV", path=path, member=member)
    buf = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(buf == ord("\n"))
    if buf.size and buf[-1] != ord("\n"):
        ends = np.append(ends, buf.size)
    starts = np.concatenate(([0], ends[:-1] + 1))
    commas = np.concatenate(([0], np.cumsum(buf == ord(","))))
    per_line = commas[ends] - commas[starts]
    length = ends - starts
    first = buf[np.minimum(starts, buf.size - 1)]
    blank = (length == 0) | ((length == 1) & (first == ord("\r")))
    bad = np.flatnonzero((per_line != n_fields - 1) & ~blank)
    if bad.size:
        i = int(bad[0])
        raise DataError(f"row has {per_line[i] + 1} fields, expected {n_fields}",
                        path=path, member=member, line=i + 1)
    return np.flatnonzero(~blank) + 1


def _first_bad_number(raw: bytes) -> tuple[int | None, str]:
    """Slow path for the error message: first line and field that is not a float."""
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        for field in line.split(","):
            if field.strip():
                try:
                    float(field)
                except ValueError:
                    return number, field
    return None, ""


def local_ms_to_utc(day: date, ms: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """``datetime64[ms]`` UTC instants of ``ms`` after local midnight of ``day`` in ``tz``.

    Fast path when the UTC offset is the same at both midnights; otherwise pandas with
    LEAN's resolver (ambiguous -> later instant, nonexistent -> shift forward).
    """
    local = np.datetime64(day, "ms") + ms.astype(np.int64).astype("timedelta64[ms]")
    start = datetime.combine(day, time(), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)
    offset = start.utcoffset()
    if offset == end.utcoffset() and offset is not None and bool((ms < _MS_PER_DAY).all()):
        return local - np.timedelta64(int(offset.total_seconds() * 1000), "ms")
    index = pd.DatetimeIndex(local).tz_localize(
        tz, ambiguous=np.zeros(local.size, dtype=bool), nonexistent="shift_forward")
    return np.asarray(index.tz_convert("UTC").tz_localize(None), dtype="datetime64[ms]")


def _check_times(ms: np.ndarray, bounds: np.ndarray, members: list[str],
                 lines: list[np.ndarray], path: Path) -> None:
    """Every time field must be a non-negative integer number of milliseconds."""
    bad = np.flatnonzero(~np.isfinite(ms) | (ms != np.round(ms)) | (ms < 0))
    if bad.size:
        row = int(bad[0])
        k = int(np.searchsorted(bounds, row, side="right")) - 1
        raise DataError(f"bad time field {ms[row]!r} (ms since midnight)", path=path,
                        member=members[k], line=int(lines[k][row - bounds[k]]))


def bar_columns(values: np.ndarray, kind: BarKind, scale: float) -> list[np.ndarray]:
    """Columns 1.. of a parsed ``(rows, 6|11)`` table in dataclass field order (time
    excluded): prices divided by ``scale``, quote sides without a quote set to NaN."""
    if kind == "quote":
        return _quote_side(values, 1, scale) + _quote_side(values, 6, scale)
    return [values[:, j] / scale for j in range(1, 5)] + [values[:, 5].copy()]


def _quote_side(values: np.ndarray, first: int, scale: float) -> list[np.ndarray]:
    """Five columns of one side from ``first``; OHLC unscaled, whole side NaN if no quote."""
    ohlc = values[:, first:first + 4] / scale
    size = values[:, first + 4].copy()
    missing = np.all(np.isnan(ohlc) | (ohlc == 0.0), axis=1)
    ohlc[missing] = np.nan
    size[missing] = np.nan
    return [ohlc[:, j] for j in range(4)] + [size]


def parse_bars_batch(raws: dict[str, bytes], kind: BarKind, day: date, tz: ZoneInfo,
                     scaled: bool, path: Path) -> dict[str, Bars]:
    """Parse the minute CSV members ``{member: bytes}`` of one zip with one pandas call.

    ``tz`` is the data time zone, ``scaled`` divides prices by 10,000. Returns
    ``{member: QuoteBars | TradeBars}``. Each member's field counts are checked first; if
    the joined parse fails, members are re-parsed one by one to name the bad line.
    """
    if not raws:
        return {}
    n_fields = QUOTE_FIELDS if kind == "quote" else TRADE_FIELDS
    members = list(raws)
    lines = [check_field_counts(raws[m], n_fields, path, m) for m in members]
    blob = b"".join(r if r.endswith(b"\n") else r + b"\n" for r in raws.values())
    try:
        values = pd.read_csv(io.BytesIO(blob), header=None, dtype=np.float64,
                             engine="c").to_numpy(dtype=np.float64)
    except (ValueError, pd.errors.ParserError) as exc:
        for m in members:
            parse_numeric_csv(raws[m], n_fields, path, m)  # raises with member and line
        raise DataError(f"cannot parse: {exc}", path=path) from exc
    bounds = np.cumsum([0] + [len(x) for x in lines])
    if values.shape != (bounds[-1], n_fields):
        raise DataError(f"parsed shape {values.shape}, expected ({bounds[-1]}, {n_fields})",
                        path=path)
    _check_times(values[:, 0], bounds, members, lines, path)
    times = local_ms_to_utc(day, values[:, 0], tz)
    columns = bar_columns(values, kind, PRICE_SCALE if scaled else 1.0)
    cls = QuoteBars if kind == "quote" else TradeBars
    return {m: cls(times[a:b].copy(), *(c[a:b].copy() for c in columns))
            for m, a, b in zip(members, bounds[:-1], bounds[1:], strict=True)}


def parse_bars(raw: bytes, kind: BarKind, day: date, tz: ZoneInfo, scaled: bool,
               path: Path, member: str) -> Bars:
    """Parse one minute CSV member (see :func:`parse_bars_batch`)."""
    return parse_bars_batch({member: raw}, kind, day, tz, scaled, path)[member]


# ---------------------------------------------------------------- readers by security type


def data_time_zone(data_root: Path, security_type: SecurityType, market: str, ticker: str
                   ) -> ZoneInfo:
    """``dataTimeZone`` of the market-hours entry (with LEAN's fallbacks)."""
    return MarketHours.from_data_root(data_root).entry(security_type, market, ticker).data_tz


def read_index_minute(data_root: Path, ticker: str, day: date, *, market: str = "usa"
                      ) -> TradeBars:
    """Minute trade bars of an index (``index/usa/minute/spx/<day>_trade.zip``).

    Index files have trades only; prices plain; times in the index data tz (Chicago).
    """
    return cast(TradeBars, _read_single(data_root, "index", market, ticker, day, "trade"))


@overload
def read_equity_minute(data_root: Path, ticker: str, day: date, kind: Literal["quote"],
                       *, market: str = ...) -> QuoteBars: ...
@overload
def read_equity_minute(data_root: Path, ticker: str, day: date, kind: Literal["trade"],
                       *, market: str = ...) -> TradeBars: ...
def read_equity_minute(data_root: Path, ticker: str, day: date, kind: BarKind,
                       *, market: str = "usa") -> Bars:
    """Minute bars of an equity (``equity/usa/minute/spy/<day>_<kind>.zip``), prices / 1e4."""
    return _read_single(data_root, "equity", market, ticker, day, kind)


@overload
def read_future_minute(data_root: Path, market: str, ticker: str, day: date,
                       kind: Literal["quote"]) -> dict[str, QuoteBars]: ...
@overload
def read_future_minute(data_root: Path, market: str, ticker: str, day: date,
                       kind: Literal["trade"]) -> dict[str, TradeBars]: ...
def read_future_minute(data_root: Path, market: str, ticker: str, day: date, kind: BarKind
                       ) -> dict[str, Any]:
    """Minute bars of every contract month in ``future/<market>/minute/<ticker>/<day>_<kind>.zip``,
    keyed by contract month ``"202003"`` (sorted). Times from the data tz (CME: UTC)."""
    path = find_minute_zip(data_root, "future", market, ticker, day, kind)
    tz = data_time_zone(data_root, "future", market, ticker)
    with open_zip(path) as zf:
        raws = {m: read_member(zf, m, path) for m in _csv_members(zf)}
    months = {m: _named(parse_future_entry_name, m, path) for m in raws}
    bars = parse_bars_batch(raws, kind, day, tz, False, path)
    return {months[m]: bars[m] for m in sorted(raws, key=months.__getitem__)}


OptionType = Literal["option", "indexoption", "futureoption"]


@overload
def read_option_minute(data_root: Path, security_type: OptionType, market: str, ticker: str,
                       day: date, kind: Literal["quote"], *, future_month: str | None = ...
                       ) -> dict[OptionKey, QuoteBars]: ...
@overload
def read_option_minute(data_root: Path, security_type: OptionType, market: str, ticker: str,
                       day: date, kind: Literal["trade"], *, future_month: str | None = ...
                       ) -> dict[OptionKey, TradeBars]: ...
def read_option_minute(
    data_root: Path, security_type: OptionType, market: str, ticker: str, day: date,
    kind: BarKind, *, future_month: str | None = None,
) -> dict[OptionKey, Any]:
    """Minute bars of every contract in one day's option zip, keyed by :class:`OptionKey`.

    ``ticker``: the underlying for equity options (``spy``), the option ticker for index and
    future options (``spxw``, ``es``). Equity and index option prices are divided by 1e4.

    Future options: ``future_month="202003"`` reads that underlying month's folder; with
    ``None`` every month folder holding the day is read. Either way each key carries its
    ``future_month``, so the keys of different months never collide
    (``OptionKey(PUT, 3000.0, date(2020, 3, 20), "202003")``).

    Raises DataError if no zip exists for the day (or for any month folder).
    """
    if security_type == "futureoption":
        months = [future_month] if future_month else future_option_months_with_day(
            data_root, market, ticker, day, kind)
        if not months:
            folder = Path(data_root) / "futureoption" / market.lower() / "minute" / ticker.lower()
            raise DataError(f"no month folder has a {day:%Y%m%d}_{kind} zip", path=folder)
        out: dict[OptionKey, Bars] = {}
        for month in months:
            out.update(_read_option_zip(data_root, security_type, market, ticker, day, kind,
                                        month))
        return out
    if future_month is not None:
        raise ValueError(f"future_month only applies to futureoption, not {security_type}")
    return _read_option_zip(data_root, security_type, market, ticker, day, kind, None)


def _read_single(data_root: Path, security_type: SecurityType, market: str, ticker: str,
                 day: date, kind: BarKind) -> Bars:
    """One-member zips (equity, index): the expected member, else the first CSV, as LEAN
    reads the first entry when none is named."""
    path = find_minute_zip(data_root, security_type, market, ticker, day, kind)
    tz = data_time_zone(data_root, security_type, market, ticker)
    with open_zip(path) as zf:
        members = _csv_members(zf)
        expected = minute_entry_name(security_type, ticker, day, kind)
        member = expected if expected in members else members[0]
        raw = read_member(zf, member, path)
    return parse_bars(raw, kind, day, tz, security_type in SCALED_TYPES, path, member)


def _read_option_zip(data_root: Path, security_type: SecurityType, market: str, ticker: str,
                     day: date, kind: BarKind, future_month: str | None
                     ) -> dict[OptionKey, Bars]:
    path = find_minute_zip(data_root, security_type, market, ticker, day, kind,
                           future_month=future_month)
    tz = data_time_zone(data_root, security_type, market, ticker)
    scaled = security_type in SCALED_TYPES
    with open_zip(path) as zf:
        raws = {m: read_member(zf, m, path) for m in _csv_members(zf)}
    month = future_month or ""
    keys = {m: _named(lambda n: parse_option_entry_name(n, future_month=month), m, path)
            for m in raws}
    bars = parse_bars_batch(raws, kind, day, tz, scaled, path)
    return {keys[m]: bars[m] for m in raws}


def _named(parse: Callable[[str], _T], member: str, path: Path) -> _T:
    """Run a name parser, re-raising its DataError with the zip path."""
    try:
        return parse(member)
    except DataError as exc:
        raise DataError(exc.reason, path=path, member=member) from exc


def _csv_members(zf: zipfile.ZipFile) -> list[str]:
    members = [n for n in zf.namelist() if not n.endswith("/")]
    if not members:
        raise DataError("zip file has no CSV members", path=zf.filename)
    return members
