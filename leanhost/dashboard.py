"""What a LEAN user looks at: per-strategy charts, runtime and summary statistics.

LEAN APIs (``Algorithm/QCAlgorithm.Plotting.cs``): ``plot(chart, series, value)`` (chart and
series created on first use; the reserved charts "Strategy Equity", "Capacity", "Drawdown",
"Benchmark", "Assets Sales Volume", "Exposure", "Portfolio Margin" and "Portfolio Turnover"
are avoided), ``set_runtime_statistic(name, value)`` (the live banner) and
``set_summary_statistic(name, value)`` (the backtest/live summary; names "0".."100" are
reserved).

Limits (``Common/Packets/Controls.cs`` defaults, raised by organization tier in the cloud;
``Engine/Results/BacktestingResultHandler.cs`` ``SampleRange``): at most
``MaximumChartSeries`` = 10 distinct SERIES NAMES over all custom charts (further names are
ignored) and ``MaximumDataPointsPerChartSeries`` = 4,000 points per series (further points
are skipped). Hence: every strategy's chart reuses the same three series names
(:data:`SERIES`), plus "VIX" on the "Market" chart: 4 names whatever the number of
strategies; and points are plotted once per New York day, at the first NLV mark at or after
:data:`PLOT_AFTER_ET` (about 252 points a year: 4,000 points last 15 years).

Figures per strategy (never a guess; a figure that cannot be computed is not plotted):

* P&L (USD): realized ``-(entry + exit) x quantity x multiplier`` less fees of every closed
  position (as the risk gate counts it) plus the open positions marked at the mid of each leg
  (LEAN sign; a leg without a fresh two-sided quote leaves the P&L unplotted that day);
* buying power in use (USD): the risk gate's own buying power of the strategy's open records
  (:class:`risk.gate_session.GateSession`);
* net delta (USD per underlying point): ``sum(delta x ratio x quantity x multiplier)`` over the
  open legs, from the strategy's last decision's chain (and the micro's chain that decision
  read, for a position moved to MES: :mod:`leanhost.micro_desk`) with the project's own greeks
  (:func:`thetacore.chain_greeks.with_greeks`);
* open positions and trips (tripped gate limits) as runtime statistics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from risk.gate_session import GateSession
from strategies.base import MarketContext, PositionState, Strategy, StrategyPosition
from thetacore.chain import ChainSnapshot
from thetacore.chain_greeks import with_greeks
from thetacore.products import PRODUCTS

from .risk_desk import realized_usd
from .scheduling import NEW_YORK

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm

SERIES = ("P&L USD", "BP in use USD", "Net delta USD/pt")
"""Series names of every strategy chart (shared: LEAN counts distinct series names)."""

PLOT_AFTER_ET = time(15, 45)
"""Plots are sampled once a day at the first NLV mark at or after this New York time."""

OPEN_STATES = (PositionState.OPEN, PositionState.CLOSING)


@dataclass(frozen=True)
class StrategyFigures:
    """One strategy's figures now (NaN: not computable)."""

    realized_usd: float
    pnl_usd: float
    bp_in_use_usd: float
    net_delta_usd_per_pt: float
    open_positions: int


@dataclass
class Dashboard:
    """Charts and statistics of the run (see the module docstring)."""

    algorithm: QCAlgorithm
    strategies: Mapping[str, Strategy]
    session: GateSession
    fees_usd: Mapping[tuple[str, str], float]
    quote: Callable[[str], tuple[float, float]]
    vix_level: Callable[[], float]
    partial_realized_usd: Mapping[tuple[str, str], float] = field(default_factory=dict)
    last_context: dict[str, MarketContext] = field(default_factory=dict)
    plotted_on: date | None = None
    points_plotted: int = 0

    def saw(self, strategy: str, ctx: MarketContext) -> None:
        """Keep ``strategy``'s latest decision context whose chain was read (its chain serves
        the net delta). Called after the decision: a lazy context the rule never read is not
        kept, so the dashboard never reads a chain later stamped with an old decision time."""
        if getattr(ctx, "chain_loaded", True):
            self.last_context[strategy] = ctx

    def figures(self, name: str) -> StrategyFigures:
        """``name``'s figures now."""
        strategy = self.strategies[name]
        closed = [p for p in strategy.positions.values() if p.state is PositionState.CLOSED]
        realized = sum(_realized(p, self.fees_usd.get((name, p.position_id), 0.0)) for p in closed)
        realized += sum(v for (s, _), v in self.partial_realized_usd.items() if s == name)  # partial closes
        opened = [p for p in strategy.positions.values() if p.state in OPEN_STATES and p.entry_net_pts is not None]
        unrealized = sum(self._unrealized(p) for p in opened)
        bp = sum(r.bp_usd for r in self.session.records.values() if r.position.strategy == name)
        return StrategyFigures(realized, realized + unrealized, bp, self._net_delta(name, opened), len(opened))

    def update(self, now_utc: datetime) -> None:
        """At each NLV mark: runtime statistics; once a New York day after
        :data:`PLOT_AFTER_ET`, one point per series."""
        figures = {name: self.figures(name) for name in self.strategies}
        state = self.session.gate.state
        self.algorithm.set_runtime_statistic("Open positions", str(sum(f.open_positions for f in figures.values())))
        self.algorithm.set_runtime_statistic("BP in use", _usd(sum(f.bp_in_use_usd for f in figures.values())))
        self.algorithm.set_runtime_statistic("Trips", str(len(state.tripped)))
        for name, f in figures.items():
            self.algorithm.set_runtime_statistic(f"P&L {name}", _usd(f.pnl_usd))
        local = now_utc.astimezone(NEW_YORK)
        if local.time() < PLOT_AFTER_ET or self.plotted_on == local.date():
            return
        self.plotted_on = local.date()
        for name, f in figures.items():
            for series, value in zip(SERIES, (f.pnl_usd, f.bp_in_use_usd, f.net_delta_usd_per_pt), strict=True):
                self._plot(f"Strategy {name}", series, value)
        self._plot("Market", "VIX", self.vix_level())

    def summarize(self) -> None:
        """``on_end_of_algorithm``: summary statistics per strategy and for the gate."""
        for name in self.strategies:
            f = self.figures(name)
            closed = sum(p.state is PositionState.CLOSED for p in self.strategies[name].positions.values())
            self.algorithm.set_summary_statistic(f"{name} realized P&L", _usd(f.realized_usd))
            self.algorithm.set_summary_statistic(f"{name} closed positions", str(closed))
            self.algorithm.set_summary_statistic(f"{name} open positions", str(f.open_positions))
        self.algorithm.set_summary_statistic("Gate trips", str(len(self.session.gate.state.tripped)))

    # ----- figures -----------------------------------------------------------------------------
    def _unrealized(self, pos: StrategyPosition) -> float:
        """P&L of an open position at mid, USD (NaN when a leg has no usable quote)."""
        assert pos.entry_net_pts is not None
        mid = pos.structure.quoted_mid_pts(self.quote)
        return (mid - pos.entry_net_pts) * pos.quantity * pos.structure.multiplier_usd_per_pt

    def _net_delta(self, name: str, opened: list[StrategyPosition]) -> float:
        if not opened:
            return 0.0
        ctx = self.last_context.get(name)
        if ctx is None or ctx.chain is None:
            return math.nan
        # the decision's chain, and the micro's when that decision read it (a position moved to
        # MES under the halve step: leanhost/micro_desk.py); each with the project's greeks once
        raw = [c for c in (ctx.chain, ctx.micro_chain_read()) if c is not None]
        greeks: dict[int, ChainSnapshot | None] = {}
        total = 0.0
        for pos in opened:
            for leg in pos.structure.legs:
                k = next((k for k, c in enumerate(raw) if leg.symbol in c.symbol_index()), None)
                if k is None:
                    return math.nan
                if k not in greeks:
                    greeks[k] = _with_greeks(raw[k], ctx.rate_frac)
                chain = greeks[k]
                if chain is None:
                    return math.nan
                i = chain.index_of(leg.symbol)
                total += float(chain.delta[i]) * leg.ratio * pos.quantity * pos.structure.multiplier_usd_per_pt
        return total

    def _plot(self, chart: str, series: str, value: float) -> None:
        if math.isfinite(value):
            self.algorithm.plot(chart, series, float(value))
            self.points_plotted += 1


def _with_greeks(chain: ChainSnapshot, rate_frac: float) -> ChainSnapshot | None:
    """``chain`` with the project's greeks (:func:`thetacore.chain_greeks.with_greeks`, the
    product's model and expiry time); None for a root without product facts."""
    facts = PRODUCTS.get(chain.root.partition("*")[0])
    if facts is None:
        return None
    return with_greeks(chain, model=facts.model, rate_frac=rate_frac, yield_frac=0.0,
                       expiry_time_et=facts.expiry_time_et)


def _realized(pos: StrategyPosition, fees_usd: float) -> float:
    """:func:`leanhost.risk_desk.realized_usd`; 0 when a price is unknown (the gate alerts it)."""
    pnl = realized_usd(pos, fees_usd)
    return pnl if math.isfinite(pnl) else 0.0


def _usd(value: float) -> str:
    return f"${value:,.0f}" if math.isfinite(value) else "unknown"
