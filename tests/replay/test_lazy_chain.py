"""A decision context reads its chain on first use only: a management rule with nothing to
manage builds no snapshot (issue 10), and a rule that reads it gets the same chain as an
eager read."""

from __future__ import annotations

from datetime import UTC, datetime

from strategies.futures_strangle import FuturesStrangle
from thetacore.parameters import load_parameters


def test_when_nothing_is_held_then_the_manage_rule_reads_no_chain(es_market):
    t = datetime(2020, 1, 6, 16, 0, tzinfo=UTC)
    ctx = es_market.context(t)
    assert not ctx.chain_loaded
    assert FuturesStrangle(load_parameters({})).on_schedule("manage", ctx) == []
    assert not ctx.chain_loaded


def test_when_a_rule_reads_the_chain_then_it_is_the_eager_snapshot(es_market):
    t = datetime(2020, 1, 6, 15, 0, tzinfo=UTC)
    ctx = es_market.context(t)
    eager, problem = es_market.chain_at(t)
    assert eager is not None and ctx.chain is not None and ctx.chain_loaded
    assert list(ctx.chain.symbol) == list(eager.symbol) and len(eager) > 100
    assert ctx.chain_problem == problem
    assert ctx.chain is ctx.chain  # read once
