"""End-of-day option chains from LEAN ``universes`` files (coarse resolution: LEAPs).

A universes file dated D holds each contract's close of session D (checked against the
underlying's own daily bars: the file's underlying close is D's close). The replay makes
D's closes visible from 16:00 ET on D (no look-ahead) and keeps them usable until the next
file, at most ``EOD_MAX_AGE_DAYS`` calendar days (a weekend plus a holiday).

These files carry no bid or ask. The replay quotes each contract at bid = ask = its close
(zero spread), and its chains carry the label ``*eod`` so that no journal row can pass a
close off as a two-sided market. Contracts without a positive close have no quote (NaN).
Stored IV and greeks in these files are ignored (many are wrong); the core computes its own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from replay.lean_data.daily import read_equity_daily, read_index_daily
from replay.lean_data.errors import NoDataError
from replay.lean_data.interest_rate import interest_rate_path, read_interest_rates
from replay.lean_data.market_hours import MarketHours
from replay.lean_data.symbol_properties import SymbolProperties
from replay.lean_data.universes import read_universe, universe_files
from replay.market import OptionMarket, _Contract, _Series
from replay.schedule import NEW_YORK
from thetacore.market_stats import DailyBars
from thetacore.products import product
from thetacore.structures import UnderlyingKind

EOD_MAX_AGE_DAYS = 4


def _close_ms(day: date) -> np.datetime64:
    t = datetime.combine(day, time(16, 0), tzinfo=NEW_YORK)
    return np.datetime64(t.astimezone(UTC).replace(tzinfo=None), "ms")


class EodOptionMarket(OptionMarket):
    """Daily option chains of one root from its universes files."""

    label = "*eod"

    @classmethod
    def load(cls, data_root: Path | str, root: str, start: date, end: date) -> EodOptionMarket:
        """Read the universes files dated within ``[start - 5 days, end]``.

        Raises:
            DataError: naming the file for a malformed file, or when there is none in the window.
        """
        data_root = Path(data_root)
        prod = product(root)
        equity = prod.underlying_kind is UnderlyingKind.EQUITY
        stype = "option" if equity else "indexoption"
        folder = data_root / stype / "usa" / "universes" / root.lower()
        lo = start - timedelta(days=EOD_MAX_AGE_DAYS + 1)
        days = [(d, f) for d, f in universe_files(folder) if lo <= d <= end]
        if not days:
            raise NoDataError(f"no {root} universes file between {lo} and {end}", path=folder)
        underlying = root if equity else "SPX"
        series: dict[tuple[float, date, int], list[tuple[np.datetime64, float]]] = {}
        under: list[tuple[np.datetime64, float]] = []
        for d, f in days:
            snap = read_universe(f, drop_malformed_greeks=True)
            t = _close_ms(d)
            under.append((t, snap.underlying_close_pts))
            for e, k, r, c in zip(snap.expiry, snap.strike_pts, snap.right, snap.close_pts, strict=True):
                series.setdefault((float(k), e.astype(object), int(r)), []).append((t, c if c > 0 else np.nan))
        options = [
            _Contract(f"{root} {e:%y%m%d}{'C' if r > 0 else 'P'}{round(k * 1000):08d}", underlying, k, e, r,
                      _points(pts)) for (k, e, r), pts in sorted(series.items())
        ]
        mh = MarketHours.from_data_root(data_root)
        hours = mh.entry("equity", "usa", root) if equity else mh.entry("index", "usa", "SPX")
        props = SymbolProperties.from_data_root(data_root).get("usa", root, stype)
        daily = {}
        daily_file = data_root / ("equity" if equity else "index") / "usa" / "daily" / f"{underlying.lower()}.zip"
        if daily_file.exists():
            b = read_equity_daily(data_root, underlying) if equity else read_index_daily(data_root, underlying)
            daily[underlying] = DailyBars(b.day, b.high, b.low, b.close)
        market = cls(root, hours, {underlying: _points(under)}, options, props.multiplier,
                     props.minimum_price_variation, read_interest_rates(interest_rate_path(data_root)), daily,
                     EOD_MAX_AGE_DAYS * 24 * 60)
        market.file_days = [d for d, _ in days]
        return market

    def data_days(self) -> set[date]:
        """The trading day after each file's date: the first day its closes are known."""
        out = set()
        for d in self.file_days:
            nxt = d + timedelta(days=1)
            while not self.hours.is_trading_day(nxt) and nxt - d < timedelta(days=EOD_MAX_AGE_DAYS):
                nxt += timedelta(days=1)
            out.add(nxt)
        return out


def _points(points: list[tuple[np.datetime64, float]]) -> _Series:
    points = sorted(points, key=lambda p: p[0])
    t = np.array([p[0] for p in points], dtype="datetime64[ms]")
    v = np.array([p[1] for p in points], dtype=float)
    return _Series(t, v, v)
