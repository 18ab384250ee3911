"""LEAN's risk-free rate series: ``alternative/interest-rate/usa/interest-rate.csv``.

The file is the Federal Reserve primary credit rate (FRED series ``PCREDIT8``) that LEAN's
``Common/Data/InterestRateProvider.cs`` uses as the risk-free rate of its option models and
of the greeks it wrote into the ``universes`` files. Layout: a header line
(``DATE,PCREDIT8``), then ``yyyy-mm-dd,<rate in PERCENT>`` rows, one per rate change. LEAN
divides by 100 and carries each value forward to the next change; so does :meth:`rate_on`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np

from .errors import DataError

INTEREST_RATE_RELATIVE_PATH = Path("alternative", "interest-rate", "usa", "interest-rate.csv")


@dataclass(frozen=True)
class InterestRateSeries:
    """Step series of the risk-free rate.

    Attributes:
        path: the file it was read from.
        dates: ``(n,)`` ``datetime64[D]``, strictly increasing dates of rate changes.
        rate_frac: ``(n,)`` float64 rate from that date on, as a fraction (0.0525 = 5.25 %).
    """

    path: Path
    dates: np.ndarray
    rate_frac: np.ndarray

    def rate_on(self, day: date) -> float:
        """The rate in force on ``day``: the last row dated on or before it, as a fraction.

        Raises:
            DataError: if ``day`` is before the first row of the file.
        """
        key = np.datetime64(day.date() if isinstance(day, datetime) else day, "D")
        i = int(np.searchsorted(self.dates, key, side="right")) - 1
        if i < 0:
            raise DataError(f"no interest rate on {key}: the series starts on {self.dates[0]}",
                            path=self.path)
        return float(self.rate_frac[i])


def interest_rate_path(data_root: Path | str) -> Path:
    """``<data_root>/alternative/interest-rate/usa/interest-rate.csv``."""
    return Path(data_root) / INTEREST_RATE_RELATIVE_PATH


def read_interest_rates(path: Path | str) -> InterestRateSeries:
    """Read LEAN's interest-rate CSV (values in percent) into fractions.

    Raises:
        DataError: the file is missing or unreadable, has no rows, a row is not
            ``yyyy-mm-dd,<number>``, or dates are not strictly increasing; the message names
            the file and the 1-based line.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read interest-rate file ({exc.strerror})", path=path) from exc
    days: list[date] = []
    rates: list[float] = []
    for number, raw in enumerate(lines[1:], start=2):  # line 1 is the header, as in LEAN
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(",")
        if len(fields) != 2:
            raise DataError(f"expected 'yyyy-mm-dd,percent', got {line!r}", path=path,
                            line=number)
        try:
            day = date.fromisoformat(fields[0].strip())
            percent = float(fields[1])
        except ValueError as exc:
            raise DataError(f"bad date or rate in {line!r}", path=path, line=number) from exc
        if not np.isfinite(percent):
            raise DataError(f"rate is not a finite number: {line!r}", path=path, line=number)
        if days and day <= days[-1]:
            raise DataError(f"date {day} does not follow {days[-1]}", path=path, line=number)
        days.append(day)
        rates.append(percent / 100.0)
    if not days:
        raise DataError("no interest-rate rows", path=path)
    return InterestRateSeries(
        path=path,
        dates=np.array(days, dtype="datetime64[D]"),
        rate_frac=np.array(rates, dtype=np.float64),
    )
