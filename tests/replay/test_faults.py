"""Each fault of :mod:`replay.faults` does what it says, on the real ES day 2020-01-06, and the
invariants of :mod:`replay.invariants` catch a broken book (they can fail)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from replay.__main__ import main
from replay.faults import FaultError, FaultKind, FaultPlan, parse_fault
from replay.invariants import check_invariants
from replay.ledger import Holding
from replay.restart import run_with_restarts
from strategies.base import PositionState
from tests.conftest import DATA
from tests.replay.test_fault_matrix import BASE, FOUR_LOT, KELLY_STATE, MARKETS, QUICK_TP, _params, _run
from thetacore.enums import IntentPurpose, OrderStatus

ES_OPTION_TICK_PTS = 0.25  # CME ES options: 0.25 index points at premiums above 5.00 (0.05 below)


def test_when_a_fault_is_parsed_then_its_time_is_the_new_york_minute_in_utc():
    f = parse_fault("data_gap@2020-01-06T11:00/20")
    # 11:00 EST (UTC-5 in January) is 16:00 UTC; in July (EDT, UTC-4) 11:00 is 15:00 UTC
    assert (f.kind, f.at_utc, f.minutes) == (FaultKind.DATA_GAP, datetime(2020, 1, 6, 16, 0, tzinfo=UTC), 20)
    assert parse_fault("kill_switch@2020-07-06T11:00").at_utc == datetime(2020, 7, 6, 15, 0, tzinfo=UTC)
    assert parse_fault("broker_disconnect@2020-01-06T11:00").minutes == 30


@pytest.mark.parametrize("text, words", [
    ("kill_switch@2020-01-06T11:00Z", "New York"),
    ("kill_switch@2020-01-06T11:00+00:00", "New York"),
    ("kill_switch@2020-01-06T11:00:30", "New York"),
    ("kill_switch@2020-01-06 11:00", "New York"),
    ("meteor@2020-01-06T11:00", "unknown kind 'meteor'"),
    ("kill_switch@2020-01-06T11:00/5", "takes no /MINUTES"),
    ("data_gap@2020-01-06T11:00/0", "at least 1"),
    ("data_gap@2020-03-08T02:30", "does not exist or is ambiguous"),   # spring forward
    ("data_gap@2020-11-01T01:30", "does not exist or is ambiguous"),   # fall back: twice
])
def test_when_a_fault_is_malformed_then_the_error_names_it(text, words):
    with pytest.raises(FaultError, match=words):
        parse_fault(text)


def test_when_the_cli_gets_a_bad_fault_then_it_exits_2_with_one_line(tmp_path, capsys):
    assert main(["--data", str(DATA), "--out", str(tmp_path), "--fault", "restart@noon"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "restart@noon" in err and not (tmp_path / "summary.json").exists()


def test_when_a_four_lot_entry_fills_in_part_then_book_broker_and_gate_hold_two_units():
    four_held = {**FOUR_LOT, "strangle_take_profit_frac": BASE.get("strangle_take_profit_frac", "0.5")}
    whole = _run(four_held, [], KELLY_STATE)
    cut = _run(four_held, ["partial_fill@2020-01-06T10:01"], KELLY_STATE)
    entry = cut.orders[0]
    assert entry.status is OrderStatus.FILLED and entry.intent.quantity == 2
    legs = entry.intent.structure.legs
    assert {h.symbol: h.quantity for h in cut.ledger.holdings.values()} == {leg.symbol: -2 for leg in legs}
    pid = entry.intent.position_id
    assert cut.strategies[0].positions[pid].quantity == 2
    # the gate's buying power in use is that of 2 units: half the whole 4-lot's, at the first mark after
    def bp_at(res, t):
        return next(m["bp_in_use_usd"] for m in res.marks if m["time_utc"] == t)
    t = "2020-01-06T15:30:00+00:00"
    assert bp_at(whole, t) > 0 and bp_at(cut, t) == pytest.approx(bp_at(whole, t) / 2, abs=0.01)


def test_when_a_one_lot_combo_fills_one_leg_then_the_leg_is_unwound_through_the_far_side():
    res = _run(BASE, ["partial_fill@2020-01-06T10:01"])
    order = res.orders[0]
    assert order.status is OrderStatus.CANCELED and order.fill_net_pts is None
    sold = order.intent.structure.legs[0]
    (unwind,) = res.broker.unwound
    t = datetime.fromisoformat(unwind["time_utc"])
    bid, ask = res.quotes.quote(sold.symbol, t)
    # buy back the short put at the ask rounded up to a tick, plus unwind_through_ticks (2) ticks
    expected = math.ceil(ask / ES_OPTION_TICK_PTS) * ES_OPTION_TICK_PTS + 2 * ES_OPTION_TICK_PTS
    assert unwind["quantity"] == 1 and unwind["price_pts"] == pytest.approx(expected)
    assert res.ledger.holdings == {}
    sold_px = order.leg_fills_pts[0]
    cash = 100_000 + 50 * (sold_px - expected) - res.ledger.fees_usd
    assert res.ledger.cash_usd == pytest.approx(cash, abs=1e-6)
    pos = res.strategies[0].positions[order.intent.position_id]
    assert pos.state is PositionState.CLOSED and "never opened" in pos.exit_reason


def test_when_a_cancel_is_delayed_then_a_fill_can_arrive_before_it_takes_effect():
    gap = ["data_gap@2020-01-06T10:46/8"]
    # the take-profit close (sent 10:45; with the fill at its limit -32.40 the 5% take profit is
    # reached then) times out at 10:50 inside the gap ...
    plain = _run(QUICK_TP, gap)
    closes = [o for o in plain.orders if o.intent.purpose is IntentPurpose.CLOSE]
    assert closes[0].status is OrderStatus.CANCELED and closes[0].status_utc == datetime(2020, 1, 6, 15, 50, tzinfo=UTC)
    # ... unless the cancel is 10 minutes late: the quotes return at 10:54 and it fills then
    late = _run(QUICK_TP, [*gap, "delayed_cancel@2020-01-06T10:46/10"])
    closes = [o for o in late.orders if o.intent.purpose is IntentPurpose.CLOSE]
    assert len(closes) == 1 and closes[0].status is OrderStatus.FILLED
    assert closes[0].status_utc == datetime(2020, 1, 6, 15, 54, tzinfo=UTC)
    assert check_invariants(late)["all_held"]


def test_when_the_broker_disconnects_then_entries_are_blocked_until_it_reconnects():
    res = _run(BASE, ["broker_disconnect@2020-01-06T09:50/20"])
    assert res.orders == []
    verdict = next(v for v in res.session.journal if v["purpose"] == "open")
    assert verdict["action"] == "refuse" and "HOST_BLOCK: host_disconnected" in verdict["reason"]
    state = res.session.gate.state
    assert "host_disconnected" not in state.tripped
    assert [a.what for a in state.audit_log] == ["release host_disconnected"]


def test_when_the_kill_switch_flips_then_no_entry_goes_out_and_the_close_still_does():
    res = _run(QUICK_TP, ["kill_switch@2020-01-06T10:20"])
    assert res.session.gate.state.kill_switch_override is True
    inv = check_invariants(res)
    assert inv["all_held"] and inv["exits_sent_while_halted"] == 1
    flat = _run(BASE, ["kill_switch@2020-01-06T09:59"])
    assert flat.orders == []


def test_when_an_order_is_rejected_then_the_strategy_hears_it_and_holds_nothing():
    res = _run(BASE, ["rejected_order@2020-01-06T09:00"])
    assert [o.status for o in res.orders] == [OrderStatus.REJECTED]
    assert res.ledger.holdings == {} and res.strategies[0].open_positions() == []


def test_when_the_book_is_broken_then_the_invariants_say_so():
    res = _run(BASE, [])
    assert check_invariants(res)["all_held"]
    strat = res.strategies[0]
    (pid,) = strat.positions
    pos = strat.positions.pop(pid)
    inv = check_invariants(res)
    assert not inv["no_position_lost_or_duplicated"] and inv["lost_positions"] == [f"{pid}: broker 1, book 0"]
    assert not inv["no_orphan_leg"] and len(inv["orphan_legs"]) == 2 and not inv["all_held"]
    strat.positions[pid] = pos
    res.strategies[-1].positions[pid] = pos  # the same position in a second strategy
    assert check_invariants(res)["duplicated_positions"][-1].startswith(f"{pid} in futures_strangle, ")
    del res.strategies[-1].positions[pid]
    res.ledger.holdings.pop(pos.structure.legs[1].symbol)  # a leg vanished from the broker
    inv = check_invariants(res)
    assert not inv["no_orphan_leg"] and inv["incomplete_positions"] == [
        f"{pid}: {pos.structure.legs[1].symbol} held +0, needs -1"]
    res.ledger.holdings["X"] = Holding("X", "ES20H20", 50.0, quantity=1, right=pos.structure.legs[0].right)
    assert "X: held +1, positions own +0" in check_invariants(res)["orphan_legs"]
    res.faults.sent_while_halted.append((1, "open"))
    inv = check_invariants(res)
    assert not inv["no_entry_sent_while_halted"] and inv["entries_sent_while_halted"] == [1]


def test_when_quotes_are_missing_or_crossed_then_nothing_trades_on_them():
    base = _run(BASE, [])
    assert base.orders[0].status_utc == datetime(2020, 1, 6, 15, 1, tzinfo=UTC)  # sent 10:00, filled 10:01
    # crossed at 10:01: the working entry cannot fill in that minute (a crossed quote is no price)
    crossed = _run(BASE, ["crossed_quote@2020-01-06T10:01"])
    assert crossed.orders[0].status_utc != datetime(2020, 1, 6, 15, 1, tzinfo=UTC)
    # crossed at the 10:00 decision: the strategy's chain has no usable quote, no entry
    at_entry = _run(BASE, ["crossed_quote@2020-01-06T10:00"])
    assert at_entry.orders == [] and "NO_PUT_DELTA" in at_entry.decisions[0].reason_text
    # a data gap over the decision: no chain at all, the entry is declined with the gap named
    gap = _run(BASE, ["data_gap@2020-01-06T09:59/5"])
    assert gap.orders == [] and gap.decisions[0].reason_text.startswith("NO_CHAIN: no quotes: data gap")


def test_when_the_process_restarts_then_the_kill_switch_and_a_disconnect_block_survive():
    res = _run(BASE, ["kill_switch@2020-01-06T09:45", "restart@2020-01-06T09:55"])
    assert res.orders == [] and res.resumed_from_utc is not None
    assert res.session.gate.state.kill_switch_override is True
    res = _run(QUICK_TP, ["broker_disconnect@2020-01-06T10:20/30", "restart@2020-01-06T10:25"])
    (record,) = check_invariants(res)["restarts"]
    assert record["trips_before"] == ["host_disconnected"] == record["trips_after_resume"]
    assert record["trips_preserved"] and check_invariants(res)["all_held"]


def test_when_a_trip_is_lost_or_the_state_file_is_bad_at_a_restart_then_the_invariants_say_so(tmp_path):
    res = _run(BASE, ["restart@2020-01-06T09:55"])
    res.faults.restarts[0]["trips_before"] = ["loss_daily"]
    res.faults.restarts[0].pop("trips_after_resume")
    res.faults.attach(res.session, res)  # the restored gate holds no loss_daily trip
    inv = check_invariants(res)
    assert inv["trips_preserved"] is False and inv["all_held"] is False
    state = tmp_path / "state.json"
    bad = run_with_restarts(_params(tuple(sorted(BASE.items()))), DATA, res.start, res.end,
                            FaultPlan.parse(["restart@2020-01-06T09:55"]), save=lambda book: state.write_text("{}"),
                            state_path=state, market_cache=MARKETS)
    inv = check_invariants(bad)
    assert inv["state_file_valid"] is False and "state.json" in inv["restarts"][0]["problem"]
    assert bad.stopped_after_utc == datetime(2020, 1, 6, 14, 54, tzinfo=UTC)  # no resume from a bad file
