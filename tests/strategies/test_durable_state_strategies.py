"""Every strategy saves and restores ALL its management state (issue 8, item 1): a strategy
restored from the JSON text of another's state holds equal positions and equal management
fields, and decides the next step exactly as the original does.

Positions come from the strategies' own test builders (REAL ES chain, MODELLED SPX/SPY chains
on REAL paths); equality is checked on the objects themselves (``vars``), not on the dicts the
code under test wrote.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from strategies.base import Strategy
from strategies.futures_strangle import FuturesStrangle
from strategies.ipmcc import Ipmcc
from strategies.leap_puts import LeapPuts
from strategies.lt112 import Lt112
from strategies.zero_dte import MANAGE, ZeroDte
from tests.conftest import ES_ENTRY_UTC, RELAXED
from tests.strategies.test_ipmcc import LIFECYCLE
from tests.strategies.test_ipmcc import _at as ipmcc_at
from tests.strategies.test_leap_puts import LADDER_STRIKES, SUMMER_2020, TEN
from tests.strategies.test_leap_puts import _ctx as leap_ctx
from tests.strategies.test_lt112 import es_ctx, opened
from tests.strategies.test_zero_dte_lifecycle import SPXW_ANY_DAY, ctx_at, enter
from tests.strategies.test_zero_dte_lifecycle import strategy as zdte_strategy
from thetacore.durable_state import BookState, StateError, dump_state, load_state
from thetacore.enums import Action
from thetacore.parameters import load_parameters

SKIP = {"p", "product", "yield_frac"}  # parameters and product facts: built from the parameters, not state


def managed(strat: Strategy) -> dict[str, Any]:
    return {k: v for k, v in vars(strat).items() if k not in SKIP}


def round_trip(strat: Strategy, fresh: Strategy) -> Strategy:
    """``fresh`` restored from ``strat``'s state after a trip through the state file's text."""
    text = dump_state(BookState(datetime(2026, 1, 1, tzinfo=UTC), None, strategies={strat.name: strat.state_dict()}))
    book = load_state(text, "test.json")
    fresh.restore_state(book.strategies[strat.name])
    return fresh


def same_decisions(a: list, b: list) -> None:
    assert [(d.action, d.reason_text, d.intent) for d in a] == [(d.action, d.reason_text, d.intent) for d in b]


def test_futures_strangle_with_an_open_strangle_and_iv_history_round_trips(es_market):
    params = load_parameters(RELAXED)
    strat = FuturesStrangle(params)
    ctx = es_market.context(ES_ENTRY_UTC)
    d = strat.entry_decision(ctx)
    assert d.action is Action.ENTERED
    strat.on_filled(d.intent, -32.53, ES_ENTRY_UTC + timedelta(minutes=1))
    strat.iv_readings[date(2019, 12, 31)] = 0.1234
    back = round_trip(strat, FuturesStrangle(params))
    assert managed(back) == managed(strat) and len(back.iv_readings) == 2
    pos = next(iter(back.positions.values()))
    assert pos.entry_net_pts == -32.53 and pos.structure.legs[0].symbol == "ES202003 200320P03000000"
    later = es_market.context(ES_ENTRY_UTC + timedelta(minutes=30))
    same_decisions(strat.manage(later), back.manage(later))
    assert back.entry_decision(ctx).codes[:1] == ("SAME_ENTRY_CYCLE",)  # issue 11: was ALREADY_OPEN


def test_lt112_with_naked_lines_and_a_working_naked_close_round_trips():
    strat, pid, _ = opened()
    strat.reviewed.add(pid)
    rally = es_ctx(date(2020, 3, 2), level=3300.0, iv=0.14)
    [d] = strat.manage(rally)
    assert d.codes == ("NAKED_TAKE_PROFIT",) and strat.naked[pid].close_intent == d.intent
    back = round_trip(strat, Lt112(strat.p))
    assert managed(back) == managed(strat)
    assert back.naked[pid].close_intent == d.intent and back.naked[pid].leg.symbol == strat.naked[pid].leg.symbol
    assert back.manage(rally) == []  # the restored strategy knows the naked close is working: fires once
    for s in (strat, back):
        s.on_filled(d.intent, 3.3, rally.time_utc)
    assert managed(back) == managed(strat)
    assert back.positions[pid].entry_net_pts == pytest.approx(-63.0 + 2 * 3.3)  # the spread keeps the buy-back


def test_ipmcc_with_leap_weekly_ids_and_entry_extrinsic_round_trips():
    strat = Ipmcc(load_parameters(LIFECYCLE))
    ctx = ipmcc_at(date(2020, 2, 14))
    for d in (strat.leap_decision(ctx), None):
        d = d or strat.short_decision(ctx)
        assert d.action is Action.ENTERED, d.reason_text
        strat.on_filled(d.intent, d.intent.limit_pts, ctx.time_utc)
    strat.reviewed.add(strat.leap_id or "")
    assert strat.weekly_id in strat.entry_extrinsic_pts
    back = round_trip(strat, Ipmcc(strat.p))
    assert managed(back) == managed(strat)
    assert back.entry_extrinsic_pts[back.weekly_id] == pytest.approx(3.13)  # 3.73 credit - 0.60 intrinsic
    morning = ipmcc_at(date(2020, 2, 21), time(9, 45))
    same_decisions(strat.manage(morning), back.manage(morning))


def test_leap_puts_with_a_ladder_pending_rolls_and_realized_pnl_round_trips():
    strat = LeapPuts(load_parameters({}))
    for i in range(7):
        day = date(2019, 6, 3) + timedelta(weeks=i)
        before = leap_ctx(day, time(9, 45), SUMMER_2020, strikes_pts=LADDER_STRIKES)
        for d in strat.manage(before):
            strat.on_filled(d.intent, d.intent.limit_pts, before.time_utc)
        ctx = leap_ctx(day, TEN, SUMMER_2020, strikes_pts=LADDER_STRIKES)
        d = strat.rung_decision(ctx)
        if d.intent is not None:
            strat.on_filled(d.intent, d.intent.limit_pts, ctx.time_utc)
    strat.pending_rolls.append(next(iter(strat.positions)))
    assert strat.realized_pnl_pts and len(strat.weekly_rung_week) >= 6  # one rung taken off at 30% by 2019-07-15
    back = round_trip(strat, LeapPuts(strat.p))
    assert managed(back) == managed(strat)
    nxt = leap_ctx(date(2019, 7, 22), TEN, SUMMER_2020, strikes_pts=LADDER_STRIKES)
    same_decisions(strat.manage(nxt), back.manage(nxt))


def test_zero_dte_with_an_open_condor_and_its_day_maps_round_trips():
    strat = zdte_strategy()
    enter(strat, ctx_at(time(10, 30)))
    strat.time_stop_on = date(2021, 1, 1)
    back = round_trip(strat, ZeroDte(load_parameters(SPXW_ANY_DAY)))
    assert managed(back) == managed(strat) and back.traded_days and back.move_start_pts
    later = ctx_at(time(11, 0))
    same_decisions(strat.on_schedule(MANAGE, later), back.on_schedule(MANAGE, later))


def _strangle_section(es_market) -> dict[str, Any]:
    strat = FuturesStrangle(load_parameters(RELAXED))
    d = strat.entry_decision(es_market.context(ES_ENTRY_UTC))
    strat.on_filled(d.intent, -32.53, ES_ENTRY_UTC)
    return strat.state_dict()


@pytest.mark.parametrize(("spoil", "path", "problem"), [
    (lambda s: s.update(name="lt112"), "strategies.futures_strangle.name", "section of 'lt112'"),
    (lambda s: s["positions"][0].update(quantity="1"), "strategies.futures_strangle.positions[0].quantity",
     "expected an integer, got '1'"),
    (lambda s: s["positions"][0].update(quantity=True), "positions[0].quantity", "expected an integer, got True"),
    (lambda s: s["positions"][0].update(state="gone"), "positions[0].state", "expected one of"),
    (lambda s: s["positions"][0]["structure"]["legs"][1].update(strike_pts=-5), "legs[1]",
     "strike must be > 0"),
    (lambda s: s["positions"][0]["structure"]["legs"][0].pop("symbol"), "legs[0].symbol", "missing"),
    (lambda s: s["positions"][0]["structure"]["legs"][0].update(expiry="2020-13-01"), "legs[0].expiry",
     "expected a date"),
    (lambda s: s["positions"][0].update(opened_utc="2020-01-06T15:00:00"), "positions[0].opened_utc",
     "has no UTC offset"),
    (lambda s: s["positions"][0].update(entry_net_pts=None), "positions[0].entry_net_pts",
     "needs its entry price"),
    (lambda s: s["positions"].append(s["positions"][0]), "positions[1].position_id", "duplicate position"),
    (lambda s: s["extra"]["iv_readings"].update({"2020-01-03": "high"}), "extra.iv_readings.2020-01-03",
     "expected a finite number"),
    (lambda s: s.pop("extra"), "strategies.futures_strangle.extra", "missing"),
    (lambda s: s.update(positions={}), "strategies.futures_strangle.positions", "expected a list"),
])
def test_when_a_strategy_section_is_spoiled_then_the_error_names_its_key_path_and_nothing_changes(
        es_market, spoil, path, problem):
    section = _strangle_section(es_market)
    spoil(section)
    strat = FuturesStrangle(load_parameters(RELAXED))
    strat.iv_readings[date(2019, 1, 2)] = 0.2
    before = managed(strat)
    with pytest.raises(StateError) as err:
        strat.restore_state(section)
    assert path in str(err.value) and problem in str(err.value)
    assert managed(strat) == before


def test_when_lt112_names_a_naked_line_of_no_position_then_refused():
    strat, pid, _ = opened()
    section = strat.state_dict()
    section["extra"]["naked"]["ghost"] = section["extra"]["naked"][pid]
    with pytest.raises(StateError, match=r"strategies\.lt112\.extra\.naked\.ghost: naked line of a position"):
        Lt112(strat.p).restore_state(section)


def test_when_zero_dte_names_an_unknown_root_then_refused():
    strat = zdte_strategy()
    enter(strat, ctx_at(time(10, 30)))
    section = strat.state_dict()
    pid = next(iter(section["extra"]["products"]))
    section["extra"]["products"][pid] = "XYZ"
    with pytest.raises(StateError, match=r"extra\.products\..*unknown option root 'XYZ'"):
        ZeroDte(strat.p).restore_state(section)
