"""Daily bars from LEAN's daily zips, for ATR and 20-day range calculations.

Files (``Common/Util/LeanData.cs`` daily names):

* ``equity/usa/daily/spy.zip`` -> ``spy.csv``, rows ``yyyymmdd 00:00,o,h,l,c,volume`` with
  prices x 10,000 (divided here);
* ``index/usa/daily/spx.zip`` -> ``spx.csv``, same columns, plain prices;
* ``future/cme/daily/es_trade.zip`` -> one ``es_trade_<yyyymm>.csv`` per contract month
  (``o,h,l,c,volume``); ``es_quote.zip`` -> ``es_quote_<yyyymm>.csv`` with
  ``bid o,h,l,c,size, ask o,h,l,c,size`` (as minute quotes). Plain prices.

``day`` is the date written in the file: the bar's start date in the entry's data time zone.
For CME futures that zone is UTC, so ES "days" run 00:00-24:00 UTC (a short Sunday bar
appears) and do not match the 17:00/18:00 ET session boundary; build session bars from
minute data when the session matters.

Empty price fields are NaN; a quote side with all-empty/zero OHLC is NaN (as minute quotes).
Errors raise :class:`DataError` naming the zip, member and line.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn

import numpy as np
import pandas as pd

from .bars import (
    PRICE_SCALE,
    QUOTE_FIELDS,
    TRADE_FIELDS,
    bar_columns,
    check_field_counts,
    freeze_arrays,
    open_zip,
    parse_numeric_csv,
    read_member,
)
from .errors import DataError
from .paths import daily_zip_path, parse_future_entry_name


@dataclass(frozen=True, eq=False)
class DailyTradeBars:
    """Daily trade bars, arrays ``(n,)`` sorted as in the file (ascending days).

    ``day`` ``datetime64[D]``; prices in points (unscaled); ``volume`` in shares/contracts.
    """

    day: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __post_init__(self) -> None:
        freeze_arrays(self)

    def __len__(self) -> int:
        return int(self.day.shape[0])


@dataclass(frozen=True, eq=False)
class DailyQuoteBars:
    """Daily quote bars, arrays ``(n,)``: ``day`` ``datetime64[D]``, bid/ask OHLC in points,
    sizes in contracts; NaN where a side had no quote."""

    day: np.ndarray
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
        return int(self.day.shape[0])


DailyBars = DailyTradeBars | DailyQuoteBars


def read_equity_daily(data_root: Path, ticker: str, *, market: str = "usa") -> DailyTradeBars:
    """Daily trade bars of an equity (``equity/usa/daily/<ticker>.zip``), prices / 10,000."""
    path = daily_zip_path(data_root, "equity", market, ticker)
    return _read_one(path, f"{ticker.lower()}.csv", scale=PRICE_SCALE)


def read_index_daily(data_root: Path, ticker: str, *, market: str = "usa") -> DailyTradeBars:
    """Daily trade bars of an index (``index/usa/daily/<ticker>.zip``), plain prices."""
    path = daily_zip_path(data_root, "index", market, ticker)
    return _read_one(path, f"{ticker.lower()}.csv", scale=1.0)


def read_future_daily(data_root: Path, market: str, ticker: str,
                      kind: Literal["quote", "trade"]) -> dict[str, DailyBars]:
    """Daily bars of every contract month in ``future/<market>/daily/<ticker>_<kind>.zip``,
    keyed by contract month ``"202003"`` (sorted). Plain prices."""
    path = daily_zip_path(data_root, "future", market, ticker, kind)
    n_fields = QUOTE_FIELDS if kind == "quote" else TRADE_FIELDS
    out: dict[str, DailyBars] = {}
    with open_zip(path) as zf:
        for member in sorted(n for n in zf.namelist() if not n.endswith("/")):
            try:
                month = parse_future_entry_name(member)
            except DataError as exc:
                raise DataError(exc.reason, path=path, member=member) from exc
            raw = read_member(zf, member, path)
            out[month] = _parse_daily(raw, n_fields, 1.0, path, member)
    return dict(sorted(out.items()))


def _read_one(path: Path, expected: str, scale: float) -> DailyTradeBars:
    """A one-member daily zip: the expected member, else the first (as LEAN)."""
    with open_zip(path) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        member = expected if expected in names else names[0]
        raw = read_member(zf, member, path)
    bars = _parse_daily(raw, TRADE_FIELDS, scale, path, member)
    assert isinstance(bars, DailyTradeBars)
    return bars


def _parse_daily(raw: bytes, n_fields: int, scale: float, path: Path, member: str
                 ) -> DailyBars:
    """Rows ``yyyymmdd HH:MM,<numbers>`` -> daily bars (quote if ``n_fields`` is 11)."""
    lines = check_field_counts(raw, n_fields, path, member)
    dtypes: dict[int, object] = {0: str, **{i: np.float64 for i in range(1, n_fields)}}
    try:
        table = pd.read_csv(io.BytesIO(raw), header=None, dtype=dtypes, engine="c")
    except (ValueError, pd.errors.ParserError) as exc:
        _raise_located(raw, n_fields, path, member, exc)
    days = _parse_days(table[0].to_numpy(dtype=str), lines, path, member)
    values = table.to_numpy(dtype=object)
    values[:, 0] = 0.0  # the date column; bar_columns reads columns 1.. only
    values = values.astype(np.float64)
    if n_fields == QUOTE_FIELDS:
        return DailyQuoteBars(days, *bar_columns(values, "quote", scale))
    return DailyTradeBars(days, *bar_columns(values, "trade", scale))


def _parse_days(text: np.ndarray, lines: np.ndarray, path: Path, member: str) -> np.ndarray:
    """``"yyyymmdd HH:MM"`` -> ``datetime64[D]``; DataError with the line of a bad date."""
    parsed = pd.to_datetime(pd.Series(text), format="%Y%m%d %H:%M", errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise DataError(f"bad date field {text[i]!r} (expected 'yyyymmdd HH:MM')", path=path,
                        member=member, line=int(lines[i]))
    return np.asarray(parsed, dtype="datetime64[D]")


def _raise_located(raw: bytes, n_fields: int, path: Path, member: str,
                   exc: Exception) -> NoReturn:
    """Re-parse the numeric columns alone to name the bad line, then raise DataError."""
    text = b"\n".join(b"0" + line[line.find(b","):] if b"," in line else line
                      for line in raw.splitlines())
    parse_numeric_csv(text, n_fields, path, member)
    raise DataError(f"cannot parse: {exc}", path=path, member=member) from exc
