"""What the risk gate needs to see in the fake LEAN world: VIX now and its previous close
(GIVEN: no VIX series is in data/), and daily history frames shaped as LEAN's ``history``
returns them (index ``symbol``/``time``, each bar ending at midnight after its session)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

VIX_LEVEL, VIX_PREV_CLOSE = 13.85, 14.02
"""GIVEN VIX levels, as tests/replay/test_replay_gate.py (regime 2, no jump)."""


def daily_frame(ticker: str, bars: dict[date, tuple[float, float, float]]) -> pd.DataFrame:
    """A LEAN daily history frame of ``ticker`` from ``{session: (high, low, close)}``."""
    ends = [datetime.combine(d, datetime.min.time()) + timedelta(days=1) for d in bars]
    index = pd.MultiIndex.from_arrays([[ticker] * len(ends), ends], names=["symbol", "time"])
    high, low, close = (list(col) for col in zip(*bars.values(), strict=True)) if bars else ([], [], [])
    return pd.DataFrame({"high": high, "low": low, "close": close}, index=index)


def give_vix(algorithm: Any, prev_day: date, level: float = VIX_LEVEL, prev_close: float = VIX_PREV_CLOSE) -> None:
    """GIVEN VIX: ``level`` now and ``prev_close`` on the session ``prev_day``."""
    vix = next(s for s in algorithm.securities.values() if s.symbol.value == "VIX")
    vix.price = level
    algorithm.history_frames["VIX"] = daily_frame("VIX", {prev_day: (prev_close, prev_close, prev_close)})


def mark_nlv(algorithm: Any, nlv_usd: float) -> None:
    """A GIVEN account value, then the scheduled ``gate:nlv`` mark."""
    algorithm.portfolio.total_portfolio_value = nlv_usd
    [event] = [e for e in algorithm.schedule.events if e.name == "gate:nlv"]
    event.callback()


def trip_daily_loss(algorithm: Any) -> None:
    """GIVEN NLV marks: 100,000 then 94,000 (-6% on the day > the 5% daily limit); the account
    value is 100,000 again afterwards."""
    mark_nlv(algorithm, 100_000.0)
    mark_nlv(algorithm, 94_000.0)
    algorithm.portfolio.total_portfolio_value = 100_000.0
