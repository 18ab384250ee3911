"""Test doubles of strategies for the leanhost tests: a :class:`Scripted` strategy declares
the subscription and schedules it is given and answers each scheduled rule with what a test
function decides from the context, so the host's wiring can be driven for any kind of feed
and any order shape. The real strategies are wired in their own tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time

import numpy as np

from strategies.base import MarketContext, PositionState, Strategy, StrategyPosition, Subscription
from thetacore.chain import ChainSnapshot
from thetacore.decisions import Decision, OrderIntent, Reason
from thetacore.enums import Action, IntentPurpose, Right
from thetacore.legs import OptionLeg
from thetacore.schedule import DailyAt, ScheduleRule
from thetacore.structures import Structure, StructureKind, UnderlyingKind

Decide = Callable[["Scripted", str, MarketContext], list[Decision]]


class Scripted(Strategy):
    """A strategy whose decisions come from ``decide(self, rule_name, ctx)``; it records every
    context it is given and every settlement it is told."""

    def __init__(self, name: str, sub: Subscription, decide: Decide,
                 rules: list[ScheduleRule] | None = None) -> None:
        super().__init__()
        self.name = name
        self.sub = sub
        self.decide = decide
        self.rules = rules or [DailyAt("entry", time(10, 0))]
        self.contexts: list[MarketContext] = []
        self.settlements: list[tuple[str, float]] = []

    def schedules(self) -> list[ScheduleRule]:
        return self.rules

    def subscription(self) -> Subscription:
        return self.sub

    def on_schedule(self, rule_name: str, ctx: MarketContext) -> list[Decision]:
        self.contexts.append(ctx)
        return self.decide(self, rule_name, ctx)

    def on_settled(self, position_id: str, settle_net_pts: float, time_utc: datetime) -> None:
        self.settlements.append((position_id, settle_net_pts))
        super().on_settled(position_id, settle_net_pts, time_utc)


def row(chain: ChainSnapshot, expiry: np.datetime64, right: Right, strike_pts: float) -> int:
    """Index of the contract (``expiry``, ``right``, ``strike_pts``) in ``chain``."""
    [i] = np.flatnonzero((chain.expiry == expiry) & (chain.right == int(right)) & (chain.strike_pts == strike_pts))
    return int(i)


def open_intent(strategy: Strategy, ctx: MarketContext, rows: list[tuple[int, int]], limit_pts: float,
                quantity: int = 1) -> Decision:
    """An ENTERED decision opening the contracts ``rows`` (chain index, signed ratio) as one
    structure at ``limit_pts`` (LEAN sign); the position is booked OPENING."""
    chain = ctx.chain
    assert chain is not None
    legs = tuple(
        OptionLeg(str(chain.symbol[i]), str(chain.underlying_symbol[i]), Right(int(chain.right[i])),
                  float(chain.strike_pts[i]), chain.expiry[i].astype(object), ratio)
        for i, ratio in rows
    )
    kinds = {"index": UnderlyingKind.INDEX, "equity": UnderlyingKind.EQUITY, "future": UnderlyingKind.FUTURE}
    kind = kinds[strategy.subscription().kind.split("_")[0]]
    shape = StructureKind.SINGLE if len(legs) == 1 else StructureKind.VERTICAL
    structure = Structure(shape, legs, chain.multiplier_usd_per_pt, kind)
    pid = f"{strategy.name}-{len(strategy.positions) + 1}"
    strategy.positions[pid] = StrategyPosition(pid, structure, quantity, PositionState.OPENING)
    intent = OrderIntent(strategy.name, IntentPurpose.OPEN, structure, quantity, limit_pts, pid, tag=f"{pid} open")
    return Decision(ctx.time_utc, strategy.name, Action.ENTERED, (Reason("ENTRY", "scripted"),), intent)


def declined(strategy: Strategy, ctx: MarketContext, code: str, text: str) -> Decision:
    return Decision(ctx.time_utc, strategy.name, Action.DECLINED, (Reason(code, text),))
