"""LEAN's futures margin file, ``<data>/future/<market>/margins/<ROOT>.csv`` (format and
LEAN's reader: :mod:`thetacore.futures_margins`; LEAN reads it in
``Common/Securities/Future/FutureMarginModel.cs``, ``FromCsvFile``)."""

from __future__ import annotations

from pathlib import Path

from replay.lean_data.errors import DataError
from thetacore.futures_margins import MarginTable, parse_margin_csv

__all__ = ["margins_path", "read_future_margins"]


def margins_path(data_root: Path | str, market: str, root: str) -> Path:
    """``<data>/future/<market>/margins/<ROOT>.csv`` (LEAN: ``symbol.ID.Symbol + ".csv"``)."""
    return Path(data_root) / "future" / market.lower() / "margins" / f"{root.upper()}.csv"


def read_future_margins(data_root: Path | str, market: str, root: str) -> MarginTable | None:
    """The root's margin history, or ``None`` when the data has no file for it (the scan
    range then comes from the ``futures_scan_range_frac`` parameter).

    Raises:
        DataError: naming the file, when it exists but cannot be read or is malformed.
    """
    path = margins_path(data_root, market, root)
    if not path.exists():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read futures margin file ({exc.strerror})", path=path) from exc
    try:
        return parse_margin_csv(text, source=str(path))
    except ValueError as exc:
        raise DataError(str(exc), path=path) from exc
