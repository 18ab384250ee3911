"""What hosts hand the gate: an account snapshot and the market facts of one order.

All values are plain, frozen records so that both hosts (LEAN, replay) build them the same
way and a test can build them from numbers. Units are in the names (USD, points).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

from risk.concentration import is_bullish_multiweek, is_short_put_multiweek
from risk.correlation import group_of
from risk.sizing import StrategyStats
from safety.quote_validation import LegQuote
from thetacore.chain import ChainSnapshot
from thetacore.decisions import OrderIntent
from thetacore.products import product
from thetacore.structures import Structure

__all__ = ["AccountSnapshot", "GateMarket", "LegQuote", "OpenPosition", "StrategyStats"]


@dataclass(frozen=True)
class OpenPosition:
    """One open (or opening/closing) position, as the gate needs to count it.

    Attributes:
        position_id: the strategy's position identifier (a CLOSE intent names it).
        strategy: strategy name.
        root: option root (``"ES"``, ``"SPY"``).
        expiry: the position's earliest expiry.
        is_short_put_multiweek, is_bullish_multiweek: classification at entry
            (:mod:`risk.concentration`; :meth:`from_structure` fills them).
        risk_usd: the whole position's risk at entry (max loss, or margin stress loss for
            undefined risk), USD; journaled, not a limit input.
        group: correlation group; None: derived from ``root`` (still None if unknown).
        units: structure units held (an exit may close at most this many); None: unknown
            (the exit check then cannot compare).
        leg_ratios: ``(contract, signed contracts per unit)`` of the structure at entry: an
            exit of another shape (LT112's naked puts bought back alone, 2 single-leg units
            per structure unit) is compared contract by contract, ``|ratio| x units`` held.
    """

    position_id: str
    strategy: str
    root: str
    expiry: date
    is_short_put_multiweek: bool
    is_bullish_multiweek: bool
    risk_usd: float
    group: str | None = None
    units: int | None = None
    leg_ratios: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if self.group is None:
            object.__setattr__(self, "group", group_of(self.root))

    @classmethod
    def from_structure(cls, position_id: str, strategy: str, root: str, structure: Structure,
                       entry_date: date, risk_usd: float, multiweek_min_dte: int,
                       units: int | None = None) -> OpenPosition:
        """A record classified from the structure as of its entry date."""
        return cls(position_id, strategy, root, min(leg.expiry for leg in structure.legs),
                   is_short_put_multiweek(structure, entry_date, multiweek_min_dte),
                   is_bullish_multiweek(structure, entry_date, multiweek_min_dte),
                   risk_usd, units=units, leg_ratios=tuple((leg.symbol, leg.ratio) for leg in structure.legs))


@dataclass(frozen=True)
class AccountSnapshot:
    """The account as the host sees it at the decision time.

    Attributes:
        nlv_usd: net liquidation value, USD (NaN: unknown -> entries refused).
        buying_power_in_use_usd: our own buying power (:mod:`thetacore.margin`) of every open
            position, USD.
        positions: open positions (including ones opening or closing).
        stats: each strategy's closed-trade record (missing: 0 trades -> 1 unit).
    """

    nlv_usd: float
    buying_power_in_use_usd: float
    positions: tuple[OpenPosition, ...] = ()
    stats: tuple[StrategyStats, ...] = ()

    def stats_for(self, strategy: str) -> StrategyStats | None:
        """The record of ``strategy`` (None when it has none)."""
        return next((s for s in self.stats if s.strategy == strategy), None)


@dataclass(frozen=True)
class GateMarket:
    """Market facts for one order intent.

    Attributes:
        root: the option root of the intent (``"ES"``; a ``*model``/``*eod`` label is ignored).
        quotes: one quote per leg symbol (from the ChainSnapshot).
        vix_level, vix_prev_close: VIX now and at its previous close (NaN: unknown).
        underlying_pts, underlying_prev_close: the intent's underlying now and at its
            previous close, points (NaN: unknown).
        bp_usd_per_unit: our buying power for one structure unit, USD
            (:func:`thetacore.margin.buying_power_pts` x multiplier).
        max_loss_usd_per_unit: maximum loss of one unit at the limit price, USD; None for
            undefined risk.
        tick_pts: the combo's price increment (limit-band slack), points.
        unit_scale: units of this entry that stand for one unit of the product the strategy
            sized (10 for an ES entry moved to MES under the drawdown halve step,
            :func:`risk.micro_move.review_on_micro`; 1 otherwise): Kelly's one unit before
            ``kelly_min_trades`` closed trades is one unit of that product
            (:func:`risk.gate_checks.sizing_step`).
    """

    root: str
    quotes: tuple[LegQuote, ...]
    vix_level: float
    vix_prev_close: float
    underlying_pts: float
    underlying_prev_close: float
    bp_usd_per_unit: float
    max_loss_usd_per_unit: float | None
    tick_pts: float = 0.0
    unit_scale: int = 1

    def quote_map(self) -> dict[str, LegQuote]:
        """Quotes by symbol (entries that are not quotes, or no tuple at all, are no quotes:
        their legs are ``QUOTE_MISSING``)."""
        return {q.symbol: q for q in (self.quotes or ()) if isinstance(q, LegQuote)}

    @classmethod
    def from_chain(cls, intent: OrderIntent, chain: ChainSnapshot, *, vix_level: float, vix_prev_close: float,
                   underlying_prev_close: float, bp_usd_per_unit: float,
                   underlying_pts: float | None = None) -> GateMarket:
        """Market facts of ``intent`` read from ``chain``: leg quotes and times, the
        underlying (the first leg's, unless given), max loss per unit at the intent's limit
        (None when unbounded or the legs have several expiries), the product's combo tick."""
        s, quotes, mids = intent.structure, [], []
        for leg in s.legs:
            try:
                i = chain.index_of(leg.symbol)
            except KeyError:
                continue
            t = chain.quote_time_utc[i]
            when = None if np.isnat(t) else datetime.fromtimestamp(t.astype("int64") / 1000.0, UTC)
            quotes.append(LegQuote(leg.symbol, float(chain.bid_pts[i]), float(chain.ask_pts[i]), when))
            mids.append((quotes[-1].bid_pts + quotes[-1].ask_pts) / 2.0)
            if underlying_pts is None:
                underlying_pts = float(chain.underlying_pts[i])
        root = chain.root.split("*")[0]
        return cls(root, tuple(quotes), vix_level, vix_prev_close,
                   float("nan") if underlying_pts is None else underlying_pts, underlying_prev_close,
                   bp_usd_per_unit, _max_loss_usd(s, intent.limit_pts), _tick(root, mids, chain.min_tick_pts))


def _max_loss_usd(structure: Structure, limit_pts: float) -> float | None:
    try:
        loss = structure.max_loss_pts(limit_pts)
    except ValueError:
        return None
    return None if loss is None else loss * structure.multiplier_usd_per_pt


def _tick(root: str, mids: list[float], fallback: float) -> float:
    try:
        return product(root).combo_tick_pts(mids) if mids else fallback
    except KeyError:
        return fallback
