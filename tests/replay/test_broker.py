"""Simulated broker: fill point, limit, time-out, fees and expiry settlement.

Quotes here are a stand-in quote source with hand-set numbers (not market data): the
assertions are arithmetic on them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from replay.broker import SimBroker
from replay.ledger import Ledger
from thetacore.decisions import OrderIntent
from thetacore.enums import IntentPurpose, OrderStatus, Right
from thetacore.legs import OptionLeg
from thetacore.parameters import load_parameters
from thetacore.products import product
from thetacore.structures import Structure, StructureKind, UnderlyingKind

T0 = datetime(2020, 1, 6, 15, 0, tzinfo=UTC)
EXP = date(2020, 3, 20)
ES = product("ES")


class Quotes:
    def __init__(self, book):
        self.book = book

    def quote(self, symbol, t_utc):
        return self.book.get(symbol, (float("nan"), float("nan")))


def strangle(ratio: int = -1) -> Structure:
    return Structure(StructureKind.STRANGLE, (
        OptionLeg("P3000", "ES202003", Right.PUT, 3000.0, EXP, ratio),
        OptionLeg("C3460", "ES202003", Right.CALL, 3460.0, EXP, ratio)), 50.0, UnderlyingKind.FUTURE)


def intent(limit: float, purpose=IntentPurpose.OPEN, ratio=-1) -> OrderIntent:
    return OrderIntent("futures_strangle", purpose, strangle(ratio), 2, limit, "pos-1")


def broker(book, **params):
    p = load_parameters({k: str(v) for k, v in params.items()})
    return SimBroker(p, Ledger(100_000.0), Quotes(book))


BOOK = {"P3000": (29.0, 29.5), "C3460": (3.3, 3.5)}


def test_when_a_resting_limit_is_reached_then_the_combo_fills_at_the_limit_each_leg_at_one_spread_point():
    # Changed with issue 8 (item 6): the fill was each leg's model point (net -32.475,
    # 0.025 better than the limit); a resting order trades at its limit, never better.
    b = broker(BOOK, replay_fill_toward_far_frac=0.5)
    order = b.submit(intent(-32.45), T0, ES)
    assert b.step(T0) == []  # never in the minute of submission
    [done] = b.step(T0 + timedelta(minutes=1))
    assert done is order and order.status is OrderStatus.FILLED
    # selling: far side is the bid. mids 29.25 + 3.40 = 32.65, natural 29.0 + 3.3 = 32.30;
    # model at f = 0.5 is 32.475 >= 32.45 of credit -> fills, at g = (32.65-32.45)/(32.65-32.30) = 4/7
    g = 0.20 / 0.35
    assert order.leg_fills_pts == pytest.approx([29.25 - g * 0.25, 3.40 - g * 0.10], abs=1e-6)
    assert order.fill_net_pts == pytest.approx(-32.45, abs=1e-9)
    assert order.fees_usd == pytest.approx(2 * 2 * (2.50 + 0.30 + 0.57))
    assert b.ledger.cash_usd == pytest.approx(100_000 + 2 * 32.45 * 50 - order.fees_usd)
    assert {h.symbol: h.quantity for h in b.ledger.holdings.values()} == {"P3000": -2, "C3460": -2}


def test_when_limit_is_too_greedy_then_the_order_is_canceled_after_the_timeout():
    b = broker(BOOK, order_timeout_min=5)
    order = b.submit(intent(-33.5), T0, ES)
    for m in range(1, 5):
        assert b.step(T0 + timedelta(minutes=m)) == []
    [done] = b.step(T0 + timedelta(minutes=5))
    assert done.status is OrderStatus.CANCELED and "not filled within 5 min" in order.note
    assert b.ledger.holdings == {} and b.ledger.cash_usd == 100_000.0


def test_when_a_leg_has_no_quote_then_nothing_fills_and_no_leg_is_left_alone():
    b = broker({"P3000": (29.0, 29.5)})
    b.submit(intent(-20.0), T0, ES)
    assert b.step(T0 + timedelta(minutes=1)) == []
    assert b.ledger.holdings == {}


def test_when_closing_then_no_commission_only_clearing_and_exchange():
    b = broker(BOOK)
    order = b.submit(intent(40.0, IntentPurpose.CLOSE, ratio=1), T0, ES)
    b.step(T0 + timedelta(minutes=1))
    assert order.fees_usd == pytest.approx(2 * 2 * (0.30 + 0.57))


def test_when_a_quarterly_option_expires_then_the_assigned_future_settles_at_the_same_print_as_cash():
    # Changed with issue 8 (item 6): the assigned future used to stay held forever.
    b = broker(BOOK)
    b.submit(intent(-30.0), T0, ES)
    b.step(T0 + timedelta(minutes=1))
    cash_before = b.ledger.cash_usd
    expiry_utc = datetime(2020, 3, 20, 13, 30, tzinfo=UTC)  # 09:30 ET (EDT)
    assert b.settle_expired(expiry_utc - timedelta(minutes=1), {"ES202003": 2900.0}) == []
    recs = b.settle_expired(expiry_utc, {"ES202003": 2900.0})
    by = {r["symbol"]: r for r in recs}
    assert by["P3000"]["intrinsic_pts"] == 100.0 and by["C3460"]["intrinsic_pts"] == 0.0
    assert by["P3000"]["delivered"] == {"symbol": "ES202003", "quantity": 2, "price_pts": 2900.0,
                                        "final_settlement_pts": 2900.0, "held": False}
    # short 2 puts assigned at 3000 with the March future settling at 2900: pay 100 pts x 50 x 2, hold nothing
    assert b.ledger.holdings == {}
    assert b.ledger.cash_usd == pytest.approx(cash_before - 100 * 50 * 2)


def test_when_the_underlying_has_no_price_at_expiry_then_settlement_waits():
    b = broker(BOOK)
    b.submit(intent(-30.0), T0, ES)
    b.step(T0 + timedelta(minutes=1))
    assert b.settle_expired(datetime(2020, 3, 21, tzinfo=UTC), {"ES202003": float("nan")}) == []
    assert len(b.ledger.holdings) == 2


def test_when_the_market_moves_through_a_resting_credit_limit_then_it_still_fills_at_the_limit():
    # Selling for 32.60, sent at 10:00. At 10:01 nothing fills: natural 29.00 + 3.30 = 32.30,
    # model at f = 0.3: 32.65 - 0.3 x 0.35 = 32.545, both short of 32.60. At 10:02 the bids
    # jump to 29.60 / 3.40 (natural 33.00, through the limit): the resting order fills at
    # -32.60, both sold legs scaled by 32.60 / 33.00 from their bids (none below zero).
    book = dict(BOOK)
    b = SimBroker(load_parameters({}), Ledger(100_000.0), Quotes(book))
    order = b.submit(intent(-32.60), T0, ES)
    assert b.step(T0 + timedelta(minutes=1)) == []
    book.update({"P3000": (29.6, 30.1), "C3460": (3.4, 3.6)})
    [done] = b.step(T0 + timedelta(minutes=2))
    assert done.fill_net_pts == pytest.approx(-32.60, abs=1e-9)
    k = 32.60 / 33.00
    assert order.leg_fills_pts == pytest.approx([29.6 * k, 3.4 * k], abs=1e-6)


def test_when_a_resting_debit_limit_is_crossed_then_the_bought_legs_carry_the_difference():
    # Buying a strangle back at +32.90; at 10:01 asks 29.50 + 3.50 = 33.00, model
    # 32.65 + 0.3 x 0.35 = 32.755 <= 32.90: fills at the limit at g = 0.25 / 0.35 (<= 1).
    b = broker(BOOK)
    order = b.submit(intent(32.90, IntentPurpose.CLOSE, ratio=1), T0, ES)
    b.step(T0 + timedelta(minutes=1))
    g = (32.90 - 32.65) / (33.00 - 32.65)
    assert order.fill_net_pts == pytest.approx(32.90, abs=1e-9)
    assert order.leg_fills_pts == pytest.approx([29.25 + g * 0.25, 3.40 + g * 0.10], abs=1e-6)
    # later, asks drop through the limit (natural 32.00): a second order resting there fills
    # at +32.90 all the same, the two bought legs each 0.45 above their asks
    book = dict(BOOK)
    b = SimBroker(load_parameters({}), Ledger(100_000.0), Quotes(book))
    order = b.submit(intent(32.90, IntentPurpose.CLOSE, ratio=1), T0, ES)
    book.update({"P3000": (29.0, 40.0)})  # no fill at 10:01: asks 40.00 + 3.50
    assert b.step(T0 + timedelta(minutes=1)) == []
    book.update({"P3000": (28.4, 28.6), "C3460": (3.3, 3.4)})
    [done] = b.step(T0 + timedelta(minutes=2))
    assert done.fill_net_pts == pytest.approx(32.90, abs=1e-9)
    assert order.leg_fills_pts == pytest.approx([28.6 + 0.45, 3.4 + 0.45], abs=1e-6)
