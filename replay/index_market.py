"""SPX index options (SPXW weeklies/0DTE or SPX monthlies) on minute data, and the index.

The index has trades only: its series holds bid = ask = last trade close. Index minute
files are in Chicago time and index-option files in New York time; the readers convert
both to UTC. Contract ids: ``SPXW 210104C03700000`` (OSI-like, strike x 1000).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

from replay.lean_data.bars import (
    QuoteBars,
    TradeBars,
    available_minute_days,
    read_index_minute,
    read_option_minute,
)
from replay.lean_data.daily import read_index_daily
from replay.lean_data.errors import NoDataError
from replay.lean_data.interest_rate import interest_rate_path, read_interest_rates
from replay.lean_data.market_hours import MarketHours
from replay.lean_data.paths import OptionKey
from replay.lean_data.symbol_properties import SymbolProperties
from replay.market import _BAR, OptionMarket, _Contract, _Series, _series
from thetacore.market_stats import DailyBars

INDEX_OF = {"SPXW": "SPX", "SPX": "SPX"}


def trade_series(parts: list[TradeBars]) -> _Series:
    """A quote series from trade bars: bid = ask = close (an index has no quotes)."""
    end = np.concatenate([p.time_utc for p in parts]) + _BAR
    close = np.concatenate([p.close for p in parts])
    order = np.argsort(end, kind="stable")
    return _Series(end[order], close[order], close[order])


class IndexOptionMarket(OptionMarket):
    """Index options of ``root`` (``"SPXW"`` or ``"SPX"``) and their index."""

    @classmethod
    def load(cls, data_root: Path | str, root: str, start: date, end: date,
             max_quote_age_min: int = 15) -> IndexOptionMarket:
        """Read the index and index-option minute files of ``[start, end]``.

        Raises:
            DataError: naming the file for a corrupt file, or when the window has no option data.
        """
        data_root = Path(data_root)
        index = INDEX_OF[root]
        hours = MarketHours.from_data_root(data_root).entry("index", "usa", index)
        props = SymbolProperties.from_data_root(data_root).get("usa", root, "indexoption")
        opt_days = [d for d in available_minute_days(data_root, "indexoption", "usa", root) if start <= d <= end]
        if not opt_days:
            raise NoDataError(f"no {root} index-option minute data between {start} and {end}",
                            path=data_root / "indexoption" / "usa" / "minute" / root.lower())
        idx_days = [d for d in available_minute_days(data_root, "index", "usa", index) if start <= d <= end]
        idx_parts = [read_index_minute(data_root, index, d) for d in idx_days]
        opt_parts: dict[OptionKey, list[QuoteBars]] = {}
        for d in opt_days:
            for key, bars in read_option_minute(data_root, "indexoption", "usa", root, d, "quote").items():
                opt_parts.setdefault(key, []).append(bars)
        options = [
            _Contract(f"{root} {k.expiry:%y%m%d}{'C' if k.right > 0 else 'P'}{round(k.strike_pts * 1000):08d}",
                      index, k.strike_pts, k.expiry, int(k.right), _series(parts))
            for k, parts in sorted(opt_parts.items())
        ]
        underlyings = {index: trade_series(idx_parts)} if idx_parts else {}
        daily = {}
        if (data_root / "index" / "usa" / "daily" / f"{index.lower()}.zip").exists():
            b = read_index_daily(data_root, index)
            daily[index] = DailyBars(b.day, b.high, b.low, b.close)
        return cls(root, hours, underlyings, options, props.multiplier, props.minimum_price_variation,
                   read_interest_rates(interest_rate_path(data_root)), daily, max_quote_age_min)

    def front_underlying(self, today: date) -> str:
        return INDEX_OF[self.root]
