"""A management rule that reads only the contracts held (issue 10 goal 4): with a host's
``held_load`` (:meth:`strategies.base.LazyChainContext.deferred`) ``chain_for`` gives a snapshot
of the legs alone and the whole chain is never read; without it (the replay) the whole chain,
as before.

LT112 on the REAL ES chain of 2020-01-06 10:00 ET (as test_micro_moved_management.py: 1 x
3000P / -1 x 2950P / -2 x 2900P of 2020-06-19), filled at its limit; the naked 2900P then
re-quoted 4.85 / 4.95 (CONSTRUCTED): captured (49.00 - 4.90) / 49.00 = 90% >= the take profit,
so both contexts must buy the naked puts back at the same limit.
"""

from __future__ import annotations

import numpy as np
import pytest

from strategies.base import HeldLoad, LazyChainContext, MarketContext
from strategies.lt112 import Lt112
from tests.conftest import ES_ENTRY_UTC
from tests.strategies.lt112_world import NAKED, PARAMS, lazy_context, requoted
from thetacore.chain import ChainSnapshot
from thetacore.enums import Action
from thetacore.parameters import load_parameters


@pytest.fixture()
def ctx(es_market) -> MarketContext:
    return es_market.context(ES_ENTRY_UTC)


def _requoted(chain: ChainSnapshot) -> ChainSnapshot:
    return requoted(chain, NAKED, 4.85, 4.95)


def _entered(ctx: MarketContext) -> Lt112:
    strat = Lt112(load_parameters(PARAMS))
    d = strat.entry_decision(ctx)
    assert d.action is Action.ENTERED and d.intent is not None, d.reason_text
    strat.on_filled(d.intent, d.intent.limit_pts, ctx.time_utc)
    return strat


def _lazy(ctx: MarketContext, chain: ChainSnapshot, loads: list[str], held_load: HeldLoad | None) -> LazyChainContext:
    def load() -> tuple[ChainSnapshot | None, str, float | None]:
        loads.append("chain")
        return chain, "", ctx.underlying_pts

    return lazy_context(ctx, load, held_load=held_load)


def test_management_with_held_load_reads_only_the_legs_and_decides_as_with_the_whole_chain(ctx):
    chain = _requoted(ctx.chain)
    held_asks: list[tuple[str, ...]] = []

    def held_load(keys: tuple[str, ...]) -> ChainSnapshot:
        held_asks.append(keys)
        return chain.select(np.array([chain.index_of(k) for k in keys]))

    alone_loads: list[str] = []
    whole_loads: list[str] = []
    [alone] = _entered(ctx).manage(_lazy(ctx, chain, alone_loads, held_load))
    [whole] = _entered(ctx).manage(_lazy(ctx, chain, whole_loads, None))

    assert alone_loads == [] and whole_loads == ["chain"]
    assert held_asks == [(NAKED,)]  # the naked puts' buy-back reads its one contract (defence: not due)
    assert alone.codes == whole.codes == ("NAKED_TAKE_PROFIT",)
    assert alone.intent is not None and whole.intent is not None
    assert alone.intent.limit_pts == whole.intent.limit_pts and alone.details == whole.details


def test_a_held_read_the_host_declines_falls_back_to_the_whole_chain_read_once(ctx):
    chain = _requoted(ctx.chain)
    loads: list[str] = []
    lazy = _lazy(ctx, chain, loads, lambda keys: None)

    assert lazy.chain_for([NAKED]) is chain and lazy.chain_for([NAKED]) is chain
    assert loads == ["chain"]
    assert lazy.held_chain([NAKED]) is None  # the whole chain is read: it quotes them
