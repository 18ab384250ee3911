"""REAL daily paths for the modelled chains: bars, dividends, splits and the rate series.

Sources (all in ``data/``, LEAN sample data, see ``data/PROVENANCE.md``):

* ``equity/usa/daily/<ticker>.zip`` -- unadjusted daily bars (read by
  :func:`replay.lean_data.daily.read_equity_daily`): SPY 1998-01-02..2021-03-31, QQQ
  1999-03-10..2021-03-31, IWM 2000-05-26..2021-03-31, AAPL 1998-01-02..2021-03-31.
* ``equity/usa/factor_files/<ticker>.csv`` -- rows ``yyyymmdd,price_factor,split_factor,
  reference_price``. LEAN derives the corporate actions from consecutive rows
  (``Common/Data/Auxiliary/CorporateFactorRow.cs``, ``GetDividend`` / ``GetSplit``): the action
  takes effect on the trading day after the row's date; a dividend pays
  ``round(reference x (1 - pf_i / pf_i+1), 2)`` (``Common/Data/Market/Dividend.cs``,
  ``ComputeDistribution``) and a split multiplies prices by ``sf_i / sf_i+1``.
* ``alternative/interest-rate/usa/interest-rate.csv`` -- LEAN's risk-free rate (FRED
  ``PCREDIT8``), read by :mod:`replay.lean_data.interest_rate`. It starts on 2003-01-09; for
  earlier days :class:`RateCurve` uses the first value (2.25 %) and says so
  (:meth:`RateCurve.is_backfilled`): a documented approximation, the real 1998-2002 rates
  were higher (the federal funds target was 1.75-6.5 %).

No value here looks ahead: a return on day ``t`` uses closes up to ``t`` and the actions that
took effect on ``t``; the dividend yield on ``t`` sums the dividends gone ex in the 365 days up
to ``t``. :meth:`UnderlyingPath.truncated` cuts a path after a day (the no-look-ahead tests).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from pathlib import Path

import numpy as np

from replay.lean_data.daily import read_equity_daily
from replay.lean_data.errors import DataError
from replay.lean_data.interest_rate import InterestRateSeries, interest_rate_path, read_interest_rates

TICKERS = ("SPY", "QQQ", "IWM", "AAPL")
_YEAR = np.timedelta64(365, "D")


@dataclass(frozen=True, eq=False)
class UnderlyingPath:
    """One underlying's real daily path, arrays ``(n,)`` in ascending ``day`` order.

    Attributes:
        ticker: ``"SPY"``.
        day: ``datetime64[D]`` trading days.
        close_pts: unadjusted close (what the options were struck on), points.
        dividend_pts: cash dividend going ex on that day (0 if none), points per share.
        split_ratio: price multiplier of a split taking effect that day (0.5 for 2:1), else 1.
        log_return: total log return from the previous close (dividend and split adjusted),
            ``log((close + dividend) / (prev_close x split_ratio))``; NaN on the first day.
    """

    ticker: str
    day: np.ndarray
    close_pts: np.ndarray
    dividend_pts: np.ndarray
    split_ratio: np.ndarray
    log_return: np.ndarray

    def __len__(self) -> int:
        return int(self.day.shape[0])

    def index_of(self, day: date) -> int:
        """Position of ``day``.

        Raises:
            KeyError: when ``day`` is not a trading day of the path.
        """
        key = np.datetime64(day, "D")
        i = int(np.searchsorted(self.day, key))
        if i >= len(self) or self.day[i] != key:
            raise KeyError(f"{self.ticker}: no daily bar on {day}")
        return i

    @cached_property
    def dividend_yield_frac(self) -> np.ndarray:
        """``(n,)`` trailing dividend yield: dividends ex in ``(day - 365 d, day]`` / close
        (computed once per path).

        In the file's first year it covers less than a year (understated); documented.
        """
        cum = np.cumsum(self.dividend_pts)
        start = np.searchsorted(self.day, self.day - _YEAR, side="right")
        before = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
        out: np.ndarray = (cum - before) / self.close_pts
        return out

    def truncated(self, last_day: date) -> UnderlyingPath:
        """The same path with every day after ``last_day`` removed."""
        keep = self.day <= np.datetime64(last_day, "D")
        return replace(self, **{k: getattr(self, k)[keep] for k in
                                ("day", "close_pts", "dividend_pts", "split_ratio", "log_return")})


@dataclass(frozen=True)
class CorporateActions:
    """Actions from a factor file: ``(m,)`` arrays of the row dates (the action takes effect
    on the next trading day), dividend per share (points) and split price multiplier."""

    row_day: np.ndarray
    dividend_pts: np.ndarray
    split_ratio: np.ndarray


def read_factor_file(path: Path) -> CorporateActions:
    """Corporate actions of a LEAN factor file (module doc for the rule).

    Raises:
        DataError: unreadable file, a row that is not four numbers, or a zero factor.
    """
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except OSError as exc:
        raise DataError(f"cannot read factor file ({exc.strerror})", path=path) from exc
    rows: list[tuple[np.datetime64, float, float, float]] = []
    for number, line in enumerate(lines, start=1):
        fields = line.split(",")
        try:
            day = np.datetime64(f"{fields[0][:4]}-{fields[0][4:6]}-{fields[0][6:8]}", "D")
            price_f, split_f, ref_pts = (float(x) for x in fields[1:4])
        except (ValueError, IndexError) as exc:
            raise DataError(f"bad factor row {line!r}", path=path, line=number) from exc
        if price_f <= 0 or split_f <= 0:
            raise DataError(f"zero or negative factor in {line!r}", path=path, line=number)
        rows.append((day, price_f, split_f, ref_pts))
    days = np.array([r[0] for r in rows[:-1]], dtype="datetime64[D]")
    pf = np.array([r[1] for r in rows])
    sf = np.array([r[2] for r in rows])
    ref = np.array([r[3] for r in rows[:-1]])
    dividend = np.round(ref * (1.0 - pf[:-1] / pf[1:]), 2)
    return CorporateActions(days, np.where(np.abs(dividend) > 0, dividend, 0.0), sf[:-1] / sf[1:])


def read_path(data_root: Path, ticker: str) -> UnderlyingPath:
    """The real daily path of ``ticker`` (bars + factor file), module doc for the sources.

    Raises:
        DataError: a missing or malformed file.
    """
    bars = read_equity_daily(data_root, ticker.lower())
    acts = read_factor_file(Path(data_root) / "equity" / "usa" / "factor_files" / f"{ticker.lower()}.csv")
    day = np.asarray(bars.day, dtype="datetime64[D]")
    close = np.asarray(bars.close, dtype=np.float64)
    if not (np.isfinite(close).all() and (close > 0).all()):
        raise DataError(f"{ticker}: a daily close is missing or not positive")
    dividend = np.zeros(len(day))
    split = np.ones(len(day))
    effect = np.searchsorted(day, acts.row_day, side="right")  # next trading day after the row
    for i, d, s in zip(effect, acts.dividend_pts, acts.split_ratio, strict=True):
        if i < len(day):
            dividend[i] += d
            split[i] *= s
    log_ret = np.full(len(day), np.nan)
    log_ret[1:] = np.log((close[1:] + dividend[1:]) / (close[:-1] * split[1:]))
    return UnderlyingPath(ticker.upper(), day, close, dividend, split, log_ret)


@dataclass(frozen=True)
class RateCurve:
    """LEAN's rate series with the documented backfill before its first row."""

    series: InterestRateSeries

    @classmethod
    def from_data_root(cls, data_root: Path) -> RateCurve:
        """Read ``alternative/interest-rate/usa/interest-rate.csv`` under ``data_root``."""
        return cls(read_interest_rates(interest_rate_path(data_root)))

    def is_backfilled(self, day: date) -> bool:
        """True when ``day`` is before the series' first row (the first value is used)."""
        return bool(np.datetime64(day, "D") < self.series.dates[0])

    def rate_frac(self, day: date) -> float:
        """Rate in force on ``day`` (fraction); the first row's value before the series."""
        if self.is_backfilled(day):
            return float(self.series.rate_frac[0])
        return self.series.rate_on(day)
