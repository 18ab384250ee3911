"""Which replay market serves a strategy's subscription, and quotes across markets."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from replay.eod_market import EodOptionMarket
from replay.index_market import IndexOptionMarket
from replay.market import FutureOptionMarket, OptionMarket
from strategies.base import Subscription


def load_market(sub: Subscription, data_root: Path, start: date, end: date, max_quote_age_min: int) -> OptionMarket:
    """The market for ``sub``: futures options on minute data, index options on minute data,
    equity options (and coarse-resolution LEAP subscriptions) on end-of-day universes files.

    Raises:
        replay.lean_data.errors.DataError: when the data is missing or corrupt.
        ValueError: for a subscription kind the replay cannot serve.
    """
    if sub.kind == "future_option":
        return FutureOptionMarket.load(data_root, sub.root, start, end, max_quote_age_min)
    if sub.kind == "index_option" and sub.resolution == "minute":
        return IndexOptionMarket.load(data_root, sub.root, start, end, max_quote_age_min)
    if sub.kind in ("equity_option", "index_option"):
        return EodOptionMarket.load(data_root, sub.root, start, end)
    raise ValueError(f"replay has no market for subscription kind {sub.kind!r} ({sub.root})")


class Quotes:
    """Quotes across every loaded market, by contract or underlying symbol."""

    def __init__(self, markets: list[OptionMarket]) -> None:
        self.markets = markets

    def _owner(self, symbol: str) -> OptionMarket | None:
        return next((m for m in self.markets if m.has(symbol)), None)

    def quote(self, symbol: str, t_utc: datetime) -> tuple[float, float]:
        m = self._owner(symbol)
        return m.quote(symbol, t_utc) if m else (float("nan"), float("nan"))

    def last_mid(self, symbol: str, t_utc: datetime) -> float:
        m = self._owner(symbol)
        return m.last_mid(symbol, t_utc) if m else float("nan")

    def future_expiry(self, symbol: str) -> date | None:
        """Last trading day of the future ``symbol`` in whichever market lists it, else ``None``
        (:meth:`replay.market.FutureOptionMarket.future_expiry`)."""
        for m in self.markets:
            if isinstance(m, FutureOptionMarket) and (day := m.future_expiry(symbol)) is not None:
                return day
        return None

    def underlying_mids(self, t_utc: datetime) -> dict[str, float]:
        out: dict[str, float] = {}
        for m in self.markets:
            out.update(m.underlying_mids(t_utc))
        return out

    def next_underlying_quote_utc(self, symbol: str, t_utc: datetime) -> datetime | None:
        """End time (UTC) of the first bar of underlying ``symbol`` after ``t_utc``, across
        every market; ``None`` when no market has a later one."""
        t = np.datetime64(t_utc.astimezone(UTC).replace(tzinfo=None), "ms")
        later = []
        for m in self.markets:
            series = m.underlyings.get(symbol)
            if series is not None:
                j = int(np.searchsorted(series.end_ms, t, side="right"))
                if j < len(series.end_ms):
                    later.append(series.end_ms[j])
        if not later:
            return None
        return datetime.fromtimestamp(int(min(later).astype(np.int64)) / 1000.0, tz=UTC)
