"""LEAN option chain snapshots: ``<type>/<market>/universes/<root>/<yyyymmdd>.csv``.

One file per trading day and option root (for future options one per futures contract
month: ``futureoption/cme/universes/es/202003/20200106.csv``), written by QuantConnect's data
pipeline and read by LEAN's ``Common/Data/UniverseSelection/OptionUniverse.cs``::

    #expiry,strike,right,open,high,low,close,volume,open_interest,implied_volatility,delta,gamma,vega,theta,rho
    ,,,4350.18,4366.55,4341.34,4348.23,0,,,,,,,
    20230630,4440,C,2.8750,5.1500,0.7500,1.7000,893,1209,0.0956202,0.0675138,...

* The first data row, with empty expiry/strike/right, is the underlying's daily bar. Some
  old files have none (``indexoption/usa/universes/spx/20151222.csv``): then the underlying
  fields are NaN.
* Prices are plain points for every security type, equity options included: universe files
  are *not* scaled by 10,000 like LEAN's equity and equity-option zip files.
* Future-option files have no greek columns; greeks are then NaN. LEAN's greeks are vega per
  vol point, theta per calendar day, rho per rate point. They are LEAN's values, kept as
  ``stored_*`` for validation only (:func:`thetacore.pricing.stored_greeks_coherence`).
* Empty fields (open interest, greeks) become NaN; a missing value is never 0.
* LEAN's own sample holds at least one corrupt greek field
  (``option/usa/universes/spy/20240105.csv`` line 17, rho ``-0.0009296.0025941``). By
  default it is a :class:`DataError`; with ``drop_malformed_greeks=True`` every stored greek
  of such a row becomes NaN (the row is then never trusted) and the line is listed in
  :attr:`UniverseSnapshot.dropped_greek_lines`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np

from .errors import DataError

log = logging.getLogger("replay")

BASE_COLUMNS = ("expiry", "strike", "right", "open", "high", "low", "close", "volume",
                "open_interest")
GREEK_COLUMNS = ("implied_volatility", "delta", "gamma", "vega", "theta", "rho")
_RIGHTS = {"C": 1, "P": -1}


@dataclass(frozen=True)
class UniverseSnapshot:
    """One universe file as arrays of equal length ``n`` (contracts; underlying excluded).

    Attributes:
        path: the file read.
        date: trading day in the file name.
        underlying_open_pts, underlying_high_pts, underlying_low_pts, underlying_close_pts,
            underlying_volume: the underlying row; NaN when the file has none.
        expiry: ``(n,)`` ``datetime64[D]``.
        strike_pts: ``(n,)`` float64.
        right: ``(n,)`` int8, +1 call / -1 put (:class:`thetacore.enums.Right` values).
        open_pts, high_pts, low_pts, close_pts: ``(n,)`` float64 day bar of each contract.
        volume, open_interest: ``(n,)`` float64 (NaN where empty).
        stored_iv_frac, stored_delta, stored_gamma, stored_vega_pts_per_vol_pt,
            stored_theta_pts_per_day, stored_rho_pts_per_rate_pt: ``(n,)`` float64 as LEAN
            wrote them; NaN where absent. Not trusted until validated.
        has_stored_greeks: whether the header has the greek columns.
        dropped_greek_lines: 1-based lines whose stored greeks were unparsable and dropped
            (only with ``drop_malformed_greeks=True``).
    """

    path: Path
    date: date
    underlying_open_pts: float
    underlying_high_pts: float
    underlying_low_pts: float
    underlying_close_pts: float
    underlying_volume: float
    expiry: np.ndarray
    strike_pts: np.ndarray
    right: np.ndarray
    open_pts: np.ndarray
    high_pts: np.ndarray
    low_pts: np.ndarray
    close_pts: np.ndarray
    volume: np.ndarray
    open_interest: np.ndarray
    stored_iv_frac: np.ndarray
    stored_delta: np.ndarray
    stored_gamma: np.ndarray
    stored_vega_pts_per_vol_pt: np.ndarray
    stored_theta_pts_per_day: np.ndarray
    stored_rho_pts_per_rate_pt: np.ndarray
    has_stored_greeks: bool
    dropped_greek_lines: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.strike_pts)

    @property
    def has_underlying(self) -> bool:
        """True when the file carries an underlying row with a close."""
        return bool(np.isfinite(self.underlying_close_pts))


def universe_path(
    data_root: Path | str, security_type: str, market: str, root: str, day: date,
    *, future_month: str | None = None,
) -> Path:
    """Path of a universe file, e.g. ``option/usa/universes/spy/20231228.csv``.

    ``future_month`` (``"202003"``) is required for ``futureoption`` and adds the contract
    month folder. Names are lower-cased as LEAN writes them.

    Raises:
        ValueError: ``future_month`` missing for future options or given for others.
    """
    folder = Path(data_root) / security_type.lower() / market.lower() / "universes" / root.lower()
    if (security_type.lower() == "futureoption") != (future_month is not None):
        raise ValueError("future_month is required for futureoption universes and only there")
    if future_month is not None:
        folder = folder / future_month
    return folder / f"{day:%Y%m%d}.csv"


def universe_files(folder: Path) -> list[tuple[date, Path]]:
    """``(day, path)`` of every ``yyyymmdd.csv`` file in a universes folder, by day; ``[]``
    when the folder does not exist.

    Anything else in the folder (a stray ``notes.csv``, a backup, a sub-folder) is skipped
    with a logged warning naming it: LEAN's own reader looks files up by date and never
    lists the folder, so such a file is not data, and it must not stop a run.
    """
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.iterdir()):
        try:
            day = datetime.strptime(path.stem, "%Y%m%d").date() if path.suffix == ".csv" else None
        except ValueError:
            day = None
        if day is None or not path.is_file() or path.name != f"{day:%Y%m%d}.csv":
            log.warning("skipped %s: not a yyyymmdd.csv universe file", path)
            continue
        out.append((day, path))
    return out


def read_universe(path: Path | str, *, drop_malformed_greeks: bool = False) -> UniverseSnapshot:
    """Read one LEAN universe CSV.

    Args:
        path: the CSV file.
        drop_malformed_greeks: turn an unparsable stored greek into NaN greeks for its row
            (listed in ``dropped_greek_lines``) instead of raising.

    Raises:
        DataError: missing/unreadable file, file name not ``yyyymmdd.csv``, no header or an
            unknown header, a row with the wrong number of fields, an underlying row that is
            not the first data row, a bad expiry/right/number; the message names the file and
            the 1-based line.
    """
    path = Path(path)
    try:
        day = datetime.strptime(path.stem, "%Y%m%d").date()
    except ValueError as exc:
        raise DataError("universe file name is not yyyymmdd.csv", path=path) from exc
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read universe file ({exc.strerror})", path=path) from exc
    columns = _parse_header(path, lines)
    width = len(columns)
    underlying = [np.nan] * 5
    rows: list[tuple[int, list[str]]] = []
    for number, raw in enumerate(lines[1:], start=2):
        if not raw.strip():
            continue
        fields = raw.rstrip("\r").split(",")
        if len(fields) != width:
            raise DataError(f"row has {len(fields)} fields, expected {width}", path=path,
                            line=number)
        if fields[0] == "":
            if rows or np.isfinite(underlying[3]):
                raise DataError("underlying row (empty expiry) is not the first data row",
                                path=path, line=number)
            underlying = [_number(path, number, f, "underlying") for f in fields[3:8]]
            continue
        rows.append((number, fields))
    return _build(path, day, underlying, rows, has_greeks=width > len(BASE_COLUMNS),
                  drop_malformed_greeks=drop_malformed_greeks)


def _parse_header(path: Path, lines: list[str]) -> tuple[str, ...]:
    if not lines or not lines[0].startswith("#"):
        raise DataError("missing '#expiry,...' header line", path=path, line=1)
    columns = tuple(c.strip() for c in lines[0][1:].split(","))
    if columns not in (BASE_COLUMNS, BASE_COLUMNS + GREEK_COLUMNS):
        raise DataError(f"unknown header {lines[0]!r}", path=path, line=1)
    return columns


def _number(path: Path, line: int, text: str, what: str) -> float:
    """Float of a CSV field; '' is NaN (missing), anything unparsable a DataError."""
    if text == "":
        return float("nan")
    try:
        return float(text)
    except ValueError as exc:
        raise DataError(f"{what} field {text!r} is not a number", path=path, line=line) from exc


def _build(
    path: Path, day: date, underlying: list[float], rows: list[tuple[int, list[str]]],
    *, has_greeks: bool, drop_malformed_greeks: bool,
) -> UniverseSnapshot:
    n = len(rows)
    expiry = np.empty(n, dtype="datetime64[D]")
    right = np.empty(n, dtype=np.int8)
    numbers = np.full((n, 12), np.nan)  # strike, o, h, l, c, volume, oi, iv, d, g, v, t(+rho)
    rho = np.full(n, np.nan)
    dropped: list[int] = []
    for i, (number, fields) in enumerate(rows):
        try:
            expiry[i] = datetime.strptime(fields[0], "%Y%m%d").date()
        except ValueError as exc:
            raise DataError(f"expiry {fields[0]!r} is not yyyymmdd", path=path,
                            line=number) from exc
        if fields[2] not in _RIGHTS:
            raise DataError(f"right {fields[2]!r} is not C or P", path=path, line=number)
        right[i] = _RIGHTS[fields[2]]
        values = [_number(path, number, f, "contract") for f in (fields[1], *fields[3:9])]
        try:
            values += [_number(path, number, f, "stored greek") for f in fields[9:]]
        except DataError:
            if not drop_malformed_greeks:
                raise
            values += [float("nan")] * len(fields[9:])
            dropped.append(number)
        if not values[0] > 0:
            raise DataError(f"strike {fields[1]!r} is not a positive number", path=path,
                            line=number)
        numbers[i, : min(len(values), 12)] = values[:12]
        if len(values) > 12:
            rho[i] = values[12]
    col = numbers.T
    return UniverseSnapshot(
        path=path, date=day,
        underlying_open_pts=underlying[0], underlying_high_pts=underlying[1],
        underlying_low_pts=underlying[2], underlying_close_pts=underlying[3],
        underlying_volume=underlying[4],
        expiry=expiry, strike_pts=col[0].copy(), right=right,
        open_pts=col[1].copy(), high_pts=col[2].copy(), low_pts=col[3].copy(),
        close_pts=col[4].copy(), volume=col[5].copy(), open_interest=col[6].copy(),
        stored_iv_frac=col[7].copy(), stored_delta=col[8].copy(), stored_gamma=col[9].copy(),
        stored_vega_pts_per_vol_pt=col[10].copy(), stored_theta_pts_per_day=col[11].copy(),
        stored_rho_pts_per_rate_pt=rho, has_stored_greeks=has_greeks,
        dropped_greek_lines=tuple(dropped),
    )
