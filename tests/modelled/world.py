"""Shared MODELLED worlds over the REAL SPY path (built once per test session)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from modelled.chains import ModelledMarket
from modelled.paths import RateCurve, UnderlyingPath, read_path
from modelled.vol import GarchSettings, build_vol_path
from replay.lean_data.market_hours import MarketHours

DATA = Path(__file__).resolve().parents[2] / "data"


@lru_cache(maxsize=4)
def spy_path() -> UnderlyingPath:
    """REAL SPY daily path, 1998-01-02..2021-03-31."""
    return read_path(DATA, "SPY")


@lru_cache(maxsize=1)
def holidays() -> frozenset[date]:
    """US equity holidays of LEAN's market-hours database."""
    return MarketHours.from_data_root(DATA).entry("equity", "usa", "SPY").holidays


@lru_cache(maxsize=1)
def rates() -> RateCurve:
    """LEAN's rate series."""
    return RateCurve.from_data_root(DATA)


def market_on(path: UnderlyingPath, settings: GarchSettings | None = None) -> ModelledMarket:
    """A modelled market over ``path`` (the default GARCH settings unless given)."""
    return ModelledMarket(path, build_vol_path(path, settings), rates(), holidays())


@lru_cache(maxsize=1)
def full_market() -> ModelledMarket:
    """The modelled market over the whole SPY path with the default settings."""
    return market_on(spy_path())
