"""Readers for LEAN's data folder (``data/``): minute and daily bars, exchange hours and
contract properties, with LEAN's own file names, scaling, time zones and fallback rules.

Each module names the LEAN source file it mirrors. Every read failure raises
:class:`DataError` naming the file (and member and line where known).
"""

from .bars import (
    Bars,
    QuoteBars,
    TradeBars,
    available_minute_days,
    data_time_zone,
    read_equity_minute,
    read_future_minute,
    read_index_minute,
    read_option_minute,
)
from .daily import (
    DailyQuoteBars,
    DailyTradeBars,
    read_equity_daily,
    read_future_daily,
    read_index_daily,
)
from .errors import DataError
from .market_hours import MarketHours, MarketHoursEntry, Segment, SessionState
from .paths import (
    OptionKey,
    SecurityType,
    daily_zip_path,
    find_minute_zip,
    minute_entry_name,
    minute_zip_path,
    parse_future_entry_name,
    parse_option_entry_name,
)
from .symbol_properties import SymbolProperties, SymbolPropertiesEntry

__all__ = [
    "Bars",
    "DailyQuoteBars",
    "DailyTradeBars",
    "DataError",
    "MarketHours",
    "MarketHoursEntry",
    "OptionKey",
    "QuoteBars",
    "SecurityType",
    "Segment",
    "SessionState",
    "SymbolProperties",
    "SymbolPropertiesEntry",
    "TradeBars",
    "available_minute_days",
    "daily_zip_path",
    "data_time_zone",
    "find_minute_zip",
    "minute_entry_name",
    "minute_zip_path",
    "parse_future_entry_name",
    "parse_option_entry_name",
    "read_equity_daily",
    "read_equity_minute",
    "read_future_daily",
    "read_future_minute",
    "read_index_daily",
    "read_index_minute",
    "read_option_minute",
]
