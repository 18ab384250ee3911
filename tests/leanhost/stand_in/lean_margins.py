"""LEAN's futures margin model as the LEAN host reads it (issue 11).

Copies ``Common/Securities/Future/FutureMarginModel.cs`` (QuantConnect/Lean):
``InitialOvernightMarginRequirement`` is ``GetCurrentMarginRequirements(_security)?.InitialOvernight
?? 0``; ``GetCurrentMarginRequirements`` returns null (so 0) while the security has no last data
(``security.GetLastData()``), else the row of ``LoadMarginRequirementsHistory(symbol)`` in force
on ``lastData.Time.Date`` (the index only moves forward to the last row dated on or before that
date: before the first row, the FIRST row); ``FromCsvFile`` reads
``<Globals.DataFolder>/<security type>/<market>/margins/<symbol.ID.Symbol>.csv``, skips lines
starting with ``#`` and blank lines, skips the header, parses each line with
``MarginRequirementsEntry.Create`` (``yyyyMMdd,initialOvernight,maintenanceOvernight[,...]``)
and sorts by date; with no file or no rows it logs an error and uses one entry of zeros.
Every future contract (``Common/Securities/Future/Future.cs`` constructor:
``BuyingPowerModel = new FutureMarginModel(0, this)``) gets one
(:meth:`lean_types.Security.__post_init__`).

Stand-in difference: the stand-in's data carry only their exchange-time ``end_time``, not
``Time`` (the bar's start); the date is taken from ``end_time`` (they differ only for a bar
ending exactly at midnight).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any


class FutureMarginModel:
    """``Common/Securities/Future/FutureMarginModel.cs`` (the members the host reads)."""

    def __init__(self, required_free_buying_power_percent: float = 0.0, security: Any = None) -> None:
        self.required_free_buying_power_percent = required_free_buying_power_percent
        self._security = security

    @property
    def initial_overnight_margin_requirement(self) -> float:
        """``InitialOvernightMarginRequirement`` (USD per contract; 0 without data or file)."""
        row = _current(self._security)
        return row[1] if row is not None else 0.0

    @property
    def maintenance_overnight_margin_requirement(self) -> float:
        """``MaintenanceOvernightMarginRequirement`` (USD per contract)."""
        row = _current(self._security)
        return row[2] if row is not None else 0.0


def _current(security: Any) -> tuple[datetime, float, float] | None:
    """``GetCurrentMarginRequirements``: the row in force on the last data's date."""
    last = security.get_last_data() if security is not None else None
    if last is None or last.end_time is None:
        return None
    rows = _from_csv_file(security.symbol)
    day = last.end_time.date()
    index = 0
    while index + 1 < len(rows) and rows[index + 1][0].date() <= day:
        index += 1
    return rows[index]


def _from_csv_file(symbol: Any) -> list[tuple[datetime, float, float]]:
    """``FromCsvFile``: the sorted rows, or one row of zeros (LEAN logs an error)."""
    from lean_types import Globals

    path = (Path(Globals.data_folder) / symbol.security_type.name.lower() / symbol.id.market.lower()
            / "margins" / f"{symbol.id.symbol}.csv")
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    lines = [ln for ln in lines if not ln.startswith("#") and ln.strip()][1:]
    rows = []
    for line in lines:
        parts = line.split(",")
        rows.append((datetime.strptime(parts[0], "%Y%m%d"), float(parts[1]), float(parts[2])))
    return sorted(rows, key=lambda r: r[0]) or [(datetime.min, 0.0, 0.0)]
