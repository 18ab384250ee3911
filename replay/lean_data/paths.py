"""File and zip-member names of LEAN's data folder, built and parsed.

Mirrors ``Common/Util/LeanData.cs`` (``GenerateRelativeZipFilePath``, ``GenerateZipFileName``,
``GenerateZipEntryName``) for minute and daily data of the six security types ThetaDesk reads:

=============  ==============================================================================
equity         ``equity/usa/minute/spy/20230803_quote.zip`` -> ``20230803_spy_minute_quote.csv``
index          ``index/usa/minute/spx/20210104_trade.zip`` -> ``20210104_spx_minute_trade.csv``
option         ``option/usa/minute/spy/20230803_quote_american.zip``, one CSV per contract
indexoption    ``indexoption/usa/minute/spxw/20210104_quote_european.zip``, one CSV per contract
future         ``future/cme/minute/es/20200106_quote.zip``, one CSV per contract month
               (``20200106_es_minute_quote_202003.csv``)
futureoption   ``futureoption/cme/minute/es/202003/20200106_quote_american.zip``, CSVs named
               ``20200106_es_minute_quote_american_put_30000000_20200320.csv``
=============  ==============================================================================

Option CSV names carry right, strike x 10,000 and expiry; :func:`parse_option_entry_name`
turns them into an :class:`OptionKey`. Some files of LEAN's sample carry a doubled extension
(``20210104_openinterest_european.zip.zip``); :func:`find_minute_zip` accepts it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from thetacore.enums import Right

from .errors import DataError

SecurityType = Literal["equity", "index", "option", "indexoption", "future", "futureoption"]
TickKind = Literal["quote", "trade", "openinterest"]

OPTION_TYPES: frozenset[str] = frozenset({"option", "indexoption", "futureoption"})
SECURITY_TYPES: frozenset[str] = frozenset(
    {"equity", "index", "option", "indexoption", "future", "futureoption"}
)
# LEAN's default OptionStyle per security type, as it appears in file names.
DEFAULT_OPTION_STYLE: dict[str, str] = {
    "option": "american",
    "indexoption": "european",
    "futureoption": "american",
}
_STRIKE_SCALE = 10_000  # LeanData.Scale: strike x 10,000 written as an integer
_DAY_PREFIX = re.compile(r"^(\d{8})_")
_MONTH = re.compile(r"^\d{6}$")


@dataclass(frozen=True, order=True)
class OptionKey:
    """One option contract of a chain file, as named by its CSV member.

    Attributes
    ----------
    right: ``Right.CALL`` (+1) or ``Right.PUT`` (-1); an ``IntEnum``, so it is also the int.
    strike_pts: strike in index/underlying points (``30000000`` in the name -> ``3000.0``).
    expiry: expiry date written in the name (LEAN ``SecurityIdentifier.Date``).
    future_month: for future options the underlying future's contract month (``"202003"``,
        the folder it was read from); ``""`` for equity and index options.
    """

    right: Right
    strike_pts: float
    expiry: date
    future_month: str = ""


def _check_type(security_type: str) -> None:
    if security_type not in SECURITY_TYPES:
        known = sorted(SECURITY_TYPES)
        raise ValueError(f"unknown security type {security_type!r}; one of {known}")


def minute_dir(
    data_root: Path, security_type: SecurityType, market: str, ticker: str,
    *, future_month: str | None = None,
) -> Path:
    """Folder holding the minute zips: ``<root>/<type>/<market>/minute/<ticker>[/<yyyymm>]``.

    ``future_month`` is required for ``futureoption`` (its zips sit in one folder per
    underlying contract month) and refused for the other types.
    """
    _check_type(security_type)
    base = Path(data_root) / security_type / market.lower() / "minute" / ticker.lower()
    if security_type == "futureoption":
        if future_month is None or not _MONTH.match(future_month):
            raise ValueError(f"futureoption needs future_month as 'yyyymm', got {future_month!r}")
        return base / future_month
    if future_month is not None:
        raise ValueError(f"future_month only applies to futureoption, not {security_type}")
    return base


def minute_zip_name(
    security_type: SecurityType, day: date, kind: TickKind, *, style: str | None = None
) -> str:
    """Zip file name of one day: ``20200106_quote.zip`` or ``20200106_quote_american.zip``."""
    _check_type(security_type)
    name = f"{day:%Y%m%d}_{kind}"
    if security_type in OPTION_TYPES:
        name += "_" + (style or DEFAULT_OPTION_STYLE[security_type])
    return name + ".zip"


def minute_zip_path(
    data_root: Path, security_type: SecurityType, market: str, ticker: str, day: date,
    kind: TickKind, *, future_month: str | None = None, style: str | None = None,
) -> Path:
    """Canonical path of one minute zip (it may not exist; see :func:`find_minute_zip`)."""
    folder = minute_dir(data_root, security_type, market, ticker, future_month=future_month)
    return folder / minute_zip_name(security_type, day, kind, style=style)


def find_minute_zip(
    data_root: Path, security_type: SecurityType, market: str, ticker: str, day: date,
    kind: TickKind, *, future_month: str | None = None, style: str | None = None,
) -> Path:
    """Existing minute zip of one day, accepting a doubled ``.zip.zip`` extension.

    Raises
    ------
    DataError: neither ``<name>.zip`` nor ``<name>.zip.zip`` exists (names the first).
    """
    path = minute_zip_path(
        data_root, security_type, market, ticker, day, kind, future_month=future_month,
        style=style,
    )
    for candidate in (path, path.with_name(path.name + ".zip")):
        if candidate.is_file():
            return candidate
    raise DataError("file not found (also tried a .zip.zip name)", path=path)


def minute_entry_name(
    security_type: SecurityType, ticker: str, day: date, kind: TickKind,
    *, contract_month: str | None = None, key: OptionKey | None = None, style: str | None = None,
) -> str:
    """CSV member name inside a minute zip (``LeanData.GenerateZipEntryName``).

    ``contract_month`` is needed for futures, ``key`` for the option types. For equity
    options the ticker is the underlying's; for index and future options the option ticker.
    """
    _check_type(security_type)
    stem = f"{day:%Y%m%d}_{ticker.lower()}_minute_{kind}"
    if security_type == "future":
        if contract_month is None:
            raise ValueError("a future entry name needs contract_month")
        return f"{stem}_{contract_month}.csv"
    if security_type in OPTION_TYPES:
        if key is None:
            raise ValueError("an option entry name needs key")
        right = "call" if key.right == Right.CALL else "put"
        strike = round(key.strike_pts * _STRIKE_SCALE)
        style = style or DEFAULT_OPTION_STYLE[security_type]
        return f"{stem}_{style}_{right}_{strike}_{key.expiry:%Y%m%d}.csv"
    return f"{stem}.csv"


def parse_option_entry_name(name: str, *, future_month: str = "") -> OptionKey:
    """Parse ``..._put_30000000_20200320.csv`` into ``OptionKey(PUT, 3000.0, 2020-03-20)``.

    Works for minute (``<date>_<ticker>_minute_<kind>_<style>_...``) and hour/daily
    (``<ticker>_<kind>_<style>_...``) names: the last three ``_`` fields are read.

    Raises
    ------
    DataError: the name does not end in ``_<call|put>_<integer>_<yyyymmdd>.csv``.
    """
    parts = Path(name).stem.split("_")
    if len(parts) < 4 or parts[-3] not in ("call", "put") or not parts[-2].isdigit():
        raise DataError("not an option CSV name (…_<call|put>_<strike*10000>_<yyyymmdd>.csv)",
                        member=name)
    right = Right.CALL if parts[-3] == "call" else Right.PUT
    return OptionKey(right, int(parts[-2]) / _STRIKE_SCALE, _parse_yyyymmdd(parts[-1], name),
                     future_month)


def parse_future_entry_name(name: str) -> str:
    """Contract month ``"202003"`` of ``20200106_es_minute_quote_202003.csv`` or
    ``es_quote_202003.csv``.

    Raises
    ------
    DataError: the name does not end in ``_<yyyymm>.csv``.
    """
    month = Path(name).stem.rsplit("_", 1)[-1]
    if not _MONTH.match(month):
        raise DataError("not a future CSV name (…_<yyyymm>.csv)", member=name)
    return month


def parse_zip_day(name: str) -> date | None:
    """Day of a minute zip name (``20200106_quote.zip`` -> 2020-01-06), or None if not one."""
    match = _DAY_PREFIX.match(name)
    if match is None or not name.endswith(".zip"):
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%d").date()
    except ValueError:
        return None


def future_option_months(data_root: Path, market: str, ticker: str) -> list[str]:
    """Underlying contract months (``"202003"``...) that have a futureoption minute folder."""
    base = Path(data_root) / "futureoption" / market.lower() / "minute" / ticker.lower()
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if p.is_dir() and _MONTH.match(p.name))


def daily_zip_path(
    data_root: Path, security_type: SecurityType, market: str, ticker: str,
    kind: TickKind | None = None,
) -> Path:
    """Daily zip: ``equity/usa/daily/spy.zip``, ``index/usa/daily/spx.zip``,
    ``future/cme/daily/es_quote.zip`` (futures need ``kind``; the others ignore it)."""
    _check_type(security_type)
    folder = Path(data_root) / security_type / market.lower() / "daily"
    if security_type == "future":
        if kind is None:
            raise ValueError("a future daily zip needs kind ('quote' or 'trade')")
        return folder / f"{ticker.lower()}_{kind}.zip"
    return folder / f"{ticker.lower()}.zip"


def _parse_yyyymmdd(text: str, name: str) -> date:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError as exc:
        raise DataError(f"bad date {text!r} in name", member=name) from exc


def future_option_months_with_day(data_root: Path, market: str, ticker: str, day: date,
                                  kind: TickKind) -> list[str]:
    """Underlying months whose folder holds a ``<day>_<kind>`` zip (sorted)."""
    months = []
    for month in future_option_months(data_root, market, ticker):
        try:
            find_minute_zip(data_root, "futureoption", market, ticker, day, kind,
                            future_month=month)
        except DataError:
            continue
        months.append(month)
    return months


def available_minute_days(data_root: Path, security_type: SecurityType, market: str,
                          ticker: str, *, kind: TickKind | None = None) -> list[date]:
    """Sorted days that have a minute zip (of ``kind``, or of any kind), for future options
    the union over all month folders. An absent folder gives ``[]``."""
    if security_type == "futureoption":
        folders = [minute_dir(data_root, security_type, market, ticker, future_month=m)
                   for m in future_option_months(data_root, market, ticker)]
    else:
        folders = [minute_dir(data_root, security_type, market, ticker)]
    days: set[date] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        for item in folder.iterdir():
            day = parse_zip_day(item.name)
            if day is not None and (kind is None or item.name[9:].startswith(kind + "_")
                                    or item.name[9:].startswith(kind + ".")):
                days.add(day)
    return sorted(days)
