"""Plain records every analytics input is turned into, whichever host produced the run.

A run is: the positions it traded (:class:`Trade`), the orders that filled
(:class:`Fill`, for slippage), the account's NLV marks, the buying power in use over time
(when the host records it), the risk gate's verdicts and the strategies' decisions. The
readers (:mod:`analytics.replay_input`, :mod:`analytics.lean_input`) build a
:class:`RunData`; :mod:`analytics.metrics` computes from it; nothing here imports LEAN.

Sign conventions: prices in points with LEAN's combo sign (negative = credit received,
positive = debit paid); money in USD, positive = to the account.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

import pandas as pd


class RunSource(Enum):
    """Which host produced a run."""

    REPLAY = "replay"
    LEAN = "lean"


@dataclass(frozen=True)
class Trade:
    """One position, from its opening fill to its close, settlement or the end of the run.

    Attributes:
        strategy: strategy name (``futures_strangle``...).
        position_id: the strategy's position id (the first word of every order tag).
        opened_utc: time of the opening fill (UTC, timezone-aware).
        closed_utc: time of the closing fill or settlement; ``None`` while still open.
        credit_usd: premium received at entry (negative: a debit paid), before fees.
        gross_pnl_usd: realized P&L, plus the end-of-run mark for an open position
            (``marked``); NaN when an open position has no mark (LEAN results carry none).
        fees_usd: every fee its orders paid (>= 0).
        bp_usd: buying power tied up at entry (NaN: unknown).
        marked: ``gross_pnl_usd`` includes an unrealized mark.
    """

    strategy: str
    position_id: str
    opened_utc: datetime
    closed_utc: datetime | None
    credit_usd: float
    gross_pnl_usd: float
    fees_usd: float
    bp_usd: float = math.nan
    marked: bool = False

    @property
    def net_pnl_usd(self) -> float:
        """P&L after fees, USD."""
        return self.gross_pnl_usd - self.fees_usd

    @property
    def is_open(self) -> bool:
        return self.closed_utc is None

    def days_in_trade(self, end_utc: datetime) -> float:
        """Calendar days from the opening fill to the close (or to ``end_utc`` while open)."""
        return ((self.closed_utc or end_utc) - self.opened_utc).total_seconds() / 86_400.0


@dataclass(frozen=True)
class Fill:
    """One filled order (a whole combo), for slippage.

    Attributes:
        time_utc: when the order was sent (the decision time).
        purpose: ``open`` / ``close`` (from the intent or the order tag).
        units: structure units filled (> 0).
        multiplier_usd_per_pt: contract multiplier, USD per point.
        limit_pts, fill_pts: net price per unit (LEAN sign).
        mid_pts: the structure's net mid per unit at decision time (NaN: not recorded).
    """

    strategy: str
    position_id: str
    time_utc: datetime
    purpose: str
    units: int
    multiplier_usd_per_pt: float
    limit_pts: float
    fill_pts: float
    mid_pts: float

    @property
    def slippage_usd(self) -> float:
        """What the fill cost against the decision-time mid, USD (positive = worse than mid):
        ``(fill - mid) x units x multiplier`` (a credit is negative, so a smaller credit and a
        larger debit are both positive slippage). NaN without a mid."""
        return (self.fill_pts - self.mid_pts) * self.units * self.multiplier_usd_per_pt


@dataclass(frozen=True)
class Verdict:
    """One risk-gate verdict (approve / resize / refuse) with its reason codes."""

    time_utc: datetime
    strategy: str
    action: str
    codes: tuple[str, ...]


@dataclass(frozen=True)
class DecisionRow:
    """One strategy decision (entered / declined / exited / held) with its reason codes."""

    time_utc: datetime
    strategy: str
    action: str
    codes: tuple[str, ...]


@dataclass
class RunData:
    """Everything the analytics read from one run.

    Attributes:
        equity_usd: NLV marks, USD, indexed by UTC timestamps, ascending (the first point
            is the starting cash at the run's start).
        bp_in_use_usd: buying power in use over time, USD (``None``: the host did not record it).
        bp_limit_usd: the BP-in-use limit of the VIX regime over time, USD (``None``: unknown).
        greeks: net greeks over time (``None``: the inputs carry none; never invented).
        notes: what the inputs lacked, in words, for the report.
    """

    source: RunSource
    name: str
    starting_cash_usd: float
    end_utc: datetime
    trades: list[Trade]
    fills: list[Fill]
    equity_usd: pd.Series
    bp_in_use_usd: pd.Series | None = None
    bp_limit_usd: pd.Series | None = None
    greeks: pd.DataFrame | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    decisions: list[DecisionRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def strategies(self) -> list[str]:
        """Strategies that traded, in order of first entry."""
        return list(dict.fromkeys(t.strategy for t in sorted(self.trades, key=lambda t: t.opened_utc)))
