"""The gate's exit checks on quantities, and the hosts' flatten / close-losers closes through
them (issue 8 item 3), on the REAL ES strangle of 2020-01-06 10:00 ET (data/) and its close.

Before issue 8 an exit of 1.5 units or of ``True`` units was approved (Python counts ``True``
as 1 and nothing checked an exit's quantity), and a host's flatten was sent at the natural
price of whatever quotes it saw, crossed ones included, without the gate.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from risk.flatten import host_close
from risk.gate import Gate, GateAction
from risk.gate_inputs import OpenPosition
from risk.gate_session import GateSession, _Record
from strategies.base import PositionState, StrategyPosition
from tests.risk.gate_builders import MARCH, NOW, account, closing, market, params


def _exit(strangle, ctx, quantity, units=1):
    intent, bp = strangle
    close = dataclasses.replace(closing(intent, ctx), quantity=1)
    object.__setattr__(close, "quantity", quantity)  # as a host bug or a restored file could hand it over
    held = OpenPosition(intent.position_id, intent.strategy, "ES", MARCH, False, False, 2_000.0, units=units)
    return Gate(params()).check(close, account(positions=(held,)), market(close, ctx, bp), NOW)


@pytest.mark.parametrize("quantity", [1.5, True, 1.0, 2.0, False, 0, -1, None, "1", math.nan, math.inf])
def test_when_an_exit_quantity_is_not_a_whole_number_of_units_then_it_is_refused(strangle, ctx, quantity):
    v = _exit(strangle, ctx, quantity)
    assert (v.action, v.quantity) == (GateAction.REFUSE, 0)
    assert v.codes == ("QUANTITY_INVALID",) and not v.retry
    assert f"quantity {quantity!r} is not a whole number of units >= 1" in v.reason_text


def test_when_an_exit_closes_more_units_than_held_then_it_is_refused(strangle, ctx):
    assert _exit(strangle, ctx, 1).action is GateAction.APPROVE
    v = _exit(strangle, ctx, 2)
    assert v.codes == ("CLOSE_MORE_THAN_HELD",)
    assert "closing 2 units of futures_strangle" in v.reason_text and "which holds 1" in v.reason_text
    assert _exit(strangle, ctx, 2, units=None).action is GateAction.APPROVE  # size unknown: the cap decides


# ----- the hosts' closes ------------------------------------------------------------------------
def _session_holding(strangle) -> tuple[GateSession, StrategyPosition]:
    intent, bp = strangle
    session = GateSession.create(params())
    held = OpenPosition(intent.position_id, intent.strategy, "ES", MARCH, False, False, bp, units=1)
    session.records[intent.position_id] = _Record(held, bp)  # booked as review() books an approved entry
    pos = StrategyPosition(intent.position_id, intent.structure, 1, PositionState.OPEN, entry_net_pts=intent.limit_pts)
    return session, pos


def _quotes(strangle, ctx, **spoil):
    intent, bp = strangle
    quotes = market(closing(intent, ctx), ctx, bp).quote_map()
    for symbol, (bid, ask) in spoil.items():
        quotes[symbol] = dataclasses.replace(quotes[symbol], bid_pts=bid, ask_pts=ask)
    return quotes


def test_when_the_quotes_are_good_then_the_flatten_close_is_approved_at_the_natural(strangle, ctx):
    session, pos = _session_holding(strangle)
    quotes = _quotes(strangle, ctx)
    out = host_close(session, "futures_strangle", pos, quotes.get, "ES", "GATE_FLATTEN", False, NOW)
    assert out.alert is None and out.intent is not None
    natural = sum(quotes[leg.symbol].ask_pts for leg in pos.structure.legs)  # buy both shorts back at the ask
    assert out.intent.limit_pts == pytest.approx(natural) and out.intent.quantity == 1
    assert session.journal[-1]["action"] == "approve" and session.journal[-1]["purpose"] == "close"


@pytest.mark.parametrize(("bid", "ask", "code"), [
    (40.0, 30.0, "QUOTE_CROSSED"), (-5.0, 30.0, "QUOTE_NONPOSITIVE"), (1.0, 400.0, "QUOTE_SPREAD_WIDE"),
    (math.nan, math.nan, "QUOTE_NAN"),
])
def test_when_a_leg_quote_is_bad_then_the_flatten_close_is_refused_and_alerted_not_sent(
        strangle, ctx, bid, ask, code):
    session, pos = _session_holding(strangle)
    put = pos.structure.legs[0].symbol
    quotes = _quotes(strangle, ctx, **{put: (bid, ask)})
    out = host_close(session, "futures_strangle", pos, quotes.get, "ES", "GATE_FLATTEN", False, NOW)
    assert out.intent is None
    if code == "QUOTE_NAN":  # no ask to buy the put back at: not even priced
        assert out.alert == f"GATE_FLATTEN: cannot price a close of {pos.position_id}: a leg has no quote"
        return
    assert out.alert is not None and code in out.alert and "refused by the gate's exit checks" in out.alert
    assert session.journal[-1]["codes"] == [code]


def test_when_close_losers_meets_a_winner_then_nothing_is_sent_or_journaled(strangle, ctx):
    session, pos = _session_holding(strangle)
    pos.entry_net_pts = -100.0  # sold for 100 points: buying back at ~33 is a gain
    out = host_close(session, "futures_strangle", pos, _quotes(strangle, ctx).get, "ES", "GATE_CLOSE_LOSER", True, NOW)
    assert (out.intent, out.alert) == (None, None) and session.journal == []
