"""The exchange's margin of an outright future by date, and the SPAN price scan range it implies.

File format (LEAN's ``data/future/<market>/margins/<ROOT>.csv``, read by LEAN in
``Common/Securities/Future/FutureMarginModel.cs``, ``FromCsvFile``, with each line parsed by
``Common/Securities/Future/MarginRequirementsEntry.cs``, ``Create``): a header line, then
``yyyyMMdd,initial,maintenance[,initial intraday,maintenance intraday]`` in USD per
contract; lines starting with ``#`` and blank lines are skipped; a row holds from its date
until the next row's (``GetCurrentMarginRequirements``: the last row dated on or before the
day). Before the first row LEAN keeps the first row; we return ``None`` (no exchange number:
the caller uses its parameter).

CME's SPAN price scan range of a product is the outright future's maintenance margin
(CME "Risk Arrays - Standard", pubspan); the initial margin is 110% of it for speculators.
The scan as a fraction of the futures price is ``initial / (multiplier x price)``: on
2020-01-06 the ES row of 2019-11-15 (initial 6,930 USD) and the ES March 2020 close of
3,242.75 give ``6930 / (50 x 3242.75) = 4.27%``, not the 7% parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

__all__ = ["MarginRow", "MarginTable", "parse_margin_csv", "scan_range_frac"]


@dataclass(frozen=True)
class MarginRow:
    """One margin change: effective ``day``, ``initial_usd`` and ``maintenance_usd`` per contract."""

    day: date
    initial_usd: float
    maintenance_usd: float


@dataclass(frozen=True)
class MarginTable:
    """A root's margin history, rows sorted by date (:func:`parse_margin_csv`)."""

    rows: tuple[MarginRow, ...]

    def on(self, day: date) -> MarginRow | None:
        """The row in force on ``day`` (the last one dated on or before it), ``None`` before
        the first row."""
        found = None
        for row in self.rows:
            if row.day > day:
                break
            found = row
        return found


def parse_margin_csv(text: str, *, source: str = "margins csv") -> MarginTable:
    """Parse a LEAN margin file's text (format in the module docstring).

    Raises:
        ValueError: naming ``source`` and the line, for a malformed date or a non-positive
            or non-numeric margin, or when the file has no rows.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        parts = line.split(",")
        try:
            day = datetime.strptime(parts[0].strip(), "%Y%m%d").date()
            initial, maintenance = float(parts[1]), float(parts[2])
        except (IndexError, ValueError) as exc:
            raise ValueError(f"{source}: line {number} {line!r} is not 'yyyyMMdd,initial,maintenance'") from exc
        if not (math.isfinite(initial) and math.isfinite(maintenance) and initial > 0 and maintenance > 0):
            raise ValueError(f"{source}: line {number} {line!r} needs positive margins")
        rows.append(MarginRow(day, initial, maintenance))
    if not rows:
        raise ValueError(f"{source}: no margin rows")
    return MarginTable(tuple(sorted(rows, key=lambda r: r.day)))


def scan_range_frac(initial_margin_usd: float, multiplier_usd_per_pt: float, future_pts: float,
                    fallback_frac: float) -> float:
    """The SPAN price scan range as a fraction of the futures price:
    ``initial_margin_usd / (multiplier_usd_per_pt x future_pts)``, or ``fallback_frac`` (the
    ``futures_scan_range_frac`` parameter) when the margin or the price is unknown (NaN) or
    not positive.
    """
    notional = multiplier_usd_per_pt * future_pts
    if not (math.isfinite(initial_margin_usd) and initial_margin_usd > 0 and math.isfinite(notional) and notional > 0):
        return fallback_frac
    return initial_margin_usd / notional
