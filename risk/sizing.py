"""Position sizing: fractional Kelly, capped by the per-trade risk (docs/strategy-rules.md, "Risk").

Full Kelly for a bet that wins ``avg_win`` with probability ``W`` and loses ``avg_loss``
otherwise (Kelly 1956; Thorp, *The Kelly Criterion in Blackjack, Sports Betting and the Stock
Market*, 2006, eq. 3.3): ``f* = W - (1 - W) / R`` with ``R = avg_win / avg_loss``, the
fraction of capital to put at risk. We risk ``kelly_fraction`` (0.25) of it:

    units = floor(kelly_fraction x f* x NLV / risk per unit)

then ``min(units, per-trade risk target units)``, and at least 1 (the gate refuses the
order when one unit fails any limit). Fewer than ``kelly_min_trades`` (20) closed trades:
1 unit (``KELLY_MIN_TRADES``). ``f* <= 0`` (no edge) refuses (``KELLY_NO_EDGE``); stats that
cannot give a Kelly fraction refuse (``KELLY_STATS_INVALID``). While the drawdown halve
step is tripped the size is halved, rounded down (``DRAWDOWN_HALVE``). 1 unit halves to 0
(strategy-rules, "Risk": "a 1-contract entry moves to the micro product where one exists,
else it is refused"): for a root with a micro product (ES -> MES, :data:`thetacore.products.PRODUCTS`)
the refusal is ``DRAWDOWN_HALVE_MICRO`` and names the micro (the gate is handed one root's
chain and cannot see the micro's; a host that has the micro quoted moves the entry with
:func:`risk.micro_move.review_on_micro`); for a root without one it is ``DRAWDOWN_HALVE``. Sizing never increases the quantity a strategy asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from thetacore.decisions import Reason
from thetacore.parameters import Parameters
from thetacore.products import PRODUCTS

_EPS = 1e-9


@dataclass(frozen=True)
class StrategyStats:
    """A strategy's closed-trade record (hosts keep it from exits' P&L).

    Attributes:
        strategy: strategy name.
        wins, losses: closed trades with P&L >= 0 and < 0.
        avg_win_usd: mean P&L of the wins (USD, >= 0).
        avg_loss_usd: mean loss of the losses as a positive number (USD).
    """

    strategy: str
    wins: int
    losses: int
    avg_win_usd: float
    avg_loss_usd: float

    @property
    def trades(self) -> int:
        """Closed trades."""
        return self.wins + self.losses


def full_kelly(stats: StrategyStats) -> float:
    """``f* = W - (1 - W) / R``; 1.0 with no losses; raises on unusable stats.

    Raises:
        ValueError: negative counts, no trades, or averages that are not finite and > 0
            where they are needed.
    """
    if stats.wins < 0 or stats.losses < 0 or stats.trades == 0:
        raise ValueError(f"wins={stats.wins}, losses={stats.losses}")
    if stats.losses == 0:
        return 1.0
    if stats.wins == 0:
        return -1.0
    win, loss = stats.avg_win_usd, stats.avg_loss_usd
    if not (math.isfinite(win) and math.isfinite(loss) and win > 0 and loss > 0):
        raise ValueError(f"avg_win_usd={win}, avg_loss_usd={loss} must be finite and > 0")
    w = stats.wins / stats.trades
    return w - (1.0 - w) / (win / loss)


def kelly_units(stats: StrategyStats | None, risk_usd_per_unit: float, nlv_usd: float,
                p: Parameters, min_units: int = 1) -> tuple[int | None, Reason | None]:
    """``(units, reason)``: Kelly units (None: unlimited, a riskless unit) and the reason
    that explains them; units 0 with a refusal reason when Kelly forbids the trade.
    ``min_units``: the units of one unit of the product the strategy sized (10 MES for 1 ES:
    :attr:`risk.gate_inputs.GateMarket.unit_scale`), allowed before ``kelly_min_trades``."""
    trades = stats.trades if stats else 0
    if stats is None or trades < p.kelly_min_trades:
        unit = "1 unit" if min_units == 1 else f"{min_units} units (1 unit of the product sized)"
        return min_units, Reason("KELLY_MIN_TRADES", f"{trades} closed trade(s) < {p.kelly_min_trades}: {unit}")
    try:
        f = full_kelly(stats)
    except ValueError as exc:
        return 0, Reason("KELLY_STATS_INVALID", f"{stats.strategy}: {exc}")
    w = stats.wins / trades
    basis = (f"f*={f:.3f} (win rate {w:.2f}, avg win {stats.avg_win_usd:,.0f} / avg loss "
             f"{stats.avg_loss_usd:,.0f} USD)")
    if f <= 0:
        return 0, Reason("KELLY_NO_EDGE", f"{stats.strategy}: {basis} <= 0")
    if risk_usd_per_unit <= 0:
        return None, None
    budget = p.kelly_fraction * f * nlv_usd
    units = math.floor(budget / risk_usd_per_unit + _EPS)
    return units, Reason("KELLY_SIZE", f"{p.kelly_fraction:g} x {basis} x NLV {nlv_usd:,.0f} = "
                         f"{budget:,.0f} USD / {risk_usd_per_unit:,.0f} per unit = {units} unit(s)")


def micro_root(root: str) -> str | None:
    """The micro product of ``root`` (``"ES"`` -> ``"MES"``) when :data:`PRODUCTS` lists
    ``"M" + root`` as a micro; None otherwise (a micro itself, SPX, SPY...)."""
    prod = PRODUCTS.get("M" + root)
    return prod.root if prod is not None and prod.micro else None


def halve(units: int, root: str | None = None) -> tuple[int, Reason]:
    """Drawdown halving: ``floor(units / 2)`` with its reason (see the module docstring for
    a 1-unit entry of a ``root`` that has a micro product)."""
    half = units // 2
    text = f"drawdown step halves new sizes: {units} -> {half} unit(s)"
    micro = micro_root(root) if half == 0 and root is not None else None
    if micro is None:
        return half, Reason("DRAWDOWN_HALVE", text)
    return half, Reason("DRAWDOWN_HALVE_MICRO", f"{text} of {root}; a 1-contract {root} entry moves to the micro "
                        f"{micro} (same strikes and expiry), but the gate sees no {micro} chain: refused")
