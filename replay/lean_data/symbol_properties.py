"""Contract multipliers, tick sizes and lot sizes from LEAN's symbol-properties database.

Mirrors ``Common/Securities/SymbolPropertiesDatabase.cs``:

* file ``symbol-properties/symbol-properties-database.csv``; lines starting with ``#`` and
  blank lines are skipped, then the first remaining line (the header) is skipped;
* columns ``market,symbol,type,description,quote_currency,contract_multiplier,
  minimum_price_variation,lot_size[,market_ticker,minimum_order_size,price_magnifier,
  strike_multiplier]``; rows whose type is not a LEAN ``SecurityType`` are ignored;
  a repeated ``(market, symbol, type)`` key is an error;
* lookup (``GetSymbolProperties``): exact ``(market, ticker, type)``; for a future option
  with no row of its own, the underlying future's row (ES options -> ``cme,ES,future``,
  multiplier 50, tick 0.25); then the ``(market, [*], type)`` row (``usa,[*],option``:
  multiplier 100; ``usa,[*],indexoption``: multiplier 100, tick 0.05). Keys compare
  case-insensitively (``SecurityDatabaseKey``).

Where LEAN would fall back to ``SymbolProperties.GetDefault`` (multiplier 1), this module
raises :class:`DataError` instead: a replay must not silently price a contract at x1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import DataError
from .market_hours import future_ticker_of_option

DB_RELATIVE_PATH = Path("symbol-properties") / "symbol-properties-database.csv"
# LEAN SecurityType names, lower case, as they appear in the ``type`` column.
_LEAN_TYPES = frozenset({
    "base", "equity", "option", "commodity", "forex", "future", "cfd", "crypto",
    "futureoption", "index", "indexoption", "cryptofuture",
})
_MIN_FIELDS = 8


@dataclass(frozen=True)
class SymbolPropertiesEntry:
    """One row of the database (LEAN ``SymbolProperties``).

    Attributes
    ----------
    key: the row that matched, ``"market,symbol,type"`` as written (``"usa,[*],option"``).
    multiplier: contract multiplier, USD (quote currency) per point per contract.
    minimum_price_variation: tick size in price points.
    lot_size: smallest tradable quantity step, in contracts/shares.
    quote_currency: ``"USD"``...
    description: free text, may be empty.
    market_ticker, minimum_order_size, price_magnifier, strike_multiplier: optional columns
        9-12; ``""``, ``None``, ``1.0``, ``1.0`` when absent (LEAN's defaults).
    line: the row's 1-based line in the file, for error messages.
    """

    key: str
    multiplier: float
    minimum_price_variation: float
    lot_size: float
    quote_currency: str
    description: str
    market_ticker: str = ""
    minimum_order_size: float | None = None
    price_magnifier: float = 1.0
    strike_multiplier: float = 1.0
    line: int = field(default=0, compare=False)  # 1-based line in the file (0: not from a file)


class SymbolProperties:
    """The parsed database. Use :meth:`load` or the cached :meth:`from_data_root`."""

    def __init__(self, entries: dict[tuple[str, str, str], SymbolPropertiesEntry],
                 path: Path) -> None:
        self.path = path
        self._entries = entries

    @classmethod
    def load(cls, path: Path) -> SymbolProperties:
        """Parse the CSV.

        Raises
        ------
        DataError: missing/unreadable file; a row with fewer than 8 fields, a non-numeric
            multiplier/tick/lot, or a duplicate key (message names file and line).
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise DataError("file not found", path=path) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read: {exc}", path=path) from exc
        entries: dict[tuple[str, str, str], SymbolPropertiesEntry] = {}
        header_seen = False
        for number, line in enumerate(text.splitlines(), start=1):
            if line.startswith("#") or not line.strip():
                continue
            if not header_seen:
                header_seen = True
                continue
            parsed = _parse_row(line, path, number)
            if parsed is None:
                continue
            key, entry = parsed
            if key in entries:
                raise DataError(f"duplicate key {entry.key}", path=path, line=number)
            entries[key] = entry
        return cls(entries, path)

    @classmethod
    def from_data_root(cls, data_root: Path) -> SymbolProperties:
        """The database of a LEAN data folder, loaded once per resolved folder path."""
        return _load_cached(str(Path(data_root).resolve() / DB_RELATIVE_PATH))

    def get(self, market: str, ticker: str, security_type: str) -> SymbolPropertiesEntry:
        """Properties of ``(market, ticker, security_type)`` with LEAN's fallbacks.

        ``security_type`` is LEAN's name in lower case (``"future"``, ``"futureoption"``,
        ``"indexoption"``, ``"option"``...). Raises DataError naming the key when neither
        the exact row, the underlying future's row (future options) nor the ``[*]`` row
        exists, and when the row found has a contract multiplier or a tick that is not a
        positive number (a price times a zero or negative multiplier is no price).
        """
        stype = security_type.lower()
        for key in self._candidates(market, ticker, stype):
            entry = self._entries.get(key)
            if entry is not None:
                return _usable(entry, self.path)
        raise DataError(f"no symbol properties for {market},{ticker},{stype} "
                        f"(nor {market},[*],{stype})", path=self.path)

    @staticmethod
    def _candidates(market: str, ticker: str, stype: str) -> list[tuple[str, str, str]]:
        m, t = market.lower(), ticker.lower()
        keys = [(m, t, stype)]
        if stype == "futureoption":
            keys.append((m, future_ticker_of_option(ticker).lower(), "future"))
        keys.append((m, "[*]", stype))
        return keys


@lru_cache(maxsize=8)
def _load_cached(path: str) -> SymbolProperties:
    return SymbolProperties.load(Path(path))


def _parse_row(line: str, path: Path, number: int
               ) -> tuple[tuple[str, str, str], SymbolPropertiesEntry] | None:
    """``SymbolPropertiesDatabase.FromCsvLine``; None for a type LEAN does not know."""
    csv = line.split(",")
    if len(csv) >= 3 and csv[2].strip().lower() not in _LEAN_TYPES:
        return None
    if len(csv) < _MIN_FIELDS:
        raise DataError(f"row has {len(csv)} fields, expected >= {_MIN_FIELDS}",
                        path=path, line=number)
    market, symbol, stype = csv[0], csv[1], csv[2].strip().lower()
    try:
        entry = SymbolPropertiesEntry(
            key=f"{market},{symbol},{stype}",
            multiplier=float(csv[5]),
            minimum_price_variation=float(csv[6]),
            lot_size=float(csv[7]),
            quote_currency=csv[4],
            description=csv[3],
            market_ticker=_optional(csv, 8) or "",
            minimum_order_size=_optional_float(csv, 9),
            price_magnifier=_optional_float(csv, 10) or 1.0,
            strike_multiplier=_optional_float(csv, 11) or 1.0,
            line=number,
        )
    except ValueError as exc:
        raise DataError(f"non-numeric field: {exc}", path=path, line=number) from exc
    return (market.lower(), symbol.lower(), stype), entry


def _usable(entry: SymbolPropertiesEntry, path: Path) -> SymbolPropertiesEntry:
    """``entry`` when its multiplier and tick are positive numbers, else a DataError naming
    the file and line (LEAN itself would accept the row and price every order at zero)."""
    for name, value in (("contract multiplier", entry.multiplier), ("minimum price variation",
                                                                    entry.minimum_price_variation)):
        if not (math.isfinite(value) and value > 0):
            raise DataError(f"{entry.key}: {name} {value:g} is not positive", path=path,
                            line=entry.line or None)
    return entry


def _optional(csv: list[str], index: int) -> str | None:
    """``HasValidValue``: the column exists and is not blank."""
    if index < len(csv) and csv[index].strip():
        return csv[index].strip()
    return None


def _optional_float(csv: list[str], index: int) -> float | None:
    value = _optional(csv, index)
    return float(value) if value is not None else None
