"""The replay's broker agrees with the exchange (issue 8, item 6), on the real ES quotes of
2020-01-06 in ``data/``: a resting combo limit fills at its limit (never better, never
worse), a marketable one on arrival at the natural; quarterly ES options settle with their
future at one print; the front future rolls past its expiry; micro options pay micro fees.

Expected numbers are hand arithmetic on the quotes printed in each test (which the test
also checks against the data), not the broker's own helpers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from replay.broker import SimBroker
from replay.lean_data.market_hours import MarketHours
from replay.ledger import Holding, Ledger
from replay.market import future_expiry
from replay.markets import Quotes
from tests.conftest import DATA, ES_ENTRY_UTC
from thetacore.decisions import OrderIntent
from thetacore.enums import IntentPurpose, OrderStatus, Right
from thetacore.fees import tastytrade_leg_fee_usd
from thetacore.legs import OptionLeg
from thetacore.parameters import load_parameters
from thetacore.products import product
from thetacore.structures import Structure, StructureKind, UnderlyingKind

PUT, CALL = "ES202003 200320P03000000", "ES202003 200320C03460000"
EXP = date(2020, 3, 20)
T1 = ES_ENTRY_UTC + timedelta(minutes=1)  # 10:01 ET, the first look after a 10:00 submission


def strangle_intent(limit: float, sign: int, purpose: IntentPurpose = IntentPurpose.OPEN) -> OrderIntent:
    legs = (OptionLeg(PUT, "ES202003", Right.PUT, 3000.0, EXP, sign),
            OptionLeg(CALL, "ES202003", Right.CALL, 3460.0, EXP, sign))
    structure = Structure(StructureKind.STRANGLE, legs, 50.0, UnderlyingKind.FUTURE)
    return OrderIntent("futures_strangle", purpose, structure, 1, limit, "pos-1")


def es_broker(es_market) -> SimBroker:
    return SimBroker(load_parameters({}), Ledger(100_000.0), Quotes([es_market]))


def test_the_quotes_these_tests_rest_on(es_market):
    """10:01 ET: put 29.00/29.50, call 3.30/3.45; 10:02 ET: put 28.75/29.25, call 3.30/3.45."""
    assert es_market.quote(PUT, T1) == (29.0, 29.5) and es_market.quote(CALL, T1) == (3.3, 3.45)
    t2 = T1 + timedelta(minutes=1)
    assert es_market.quote(PUT, t2) == (28.75, 29.25) and es_market.quote(CALL, t2) == (3.3, 3.45)


def test_when_the_relaxed_strangle_rests_at_minus_32_40_then_it_fills_at_its_limit_not_0_13_better(es_market):
    # 10:01: mids 29.25 + 3.375 = 32.625 credit; natural (bids) 29.00 + 3.30 = 32.30, which
    # never reaches the 32.40 asked; the model point (f = 0.3) 32.625 - 0.3 x 0.325 = 32.5275
    # does, so the resting order trades -- at its limit, 32.40, not at 32.5275.
    b = es_broker(es_market)
    order = b.submit(strangle_intent(-32.40, -1), ES_ENTRY_UTC, product("ES"))
    [done] = b.step(T1)
    assert done.status is OrderStatus.FILLED and done.fill_net_pts == pytest.approx(-32.40, abs=1e-9)
    g = (32.625 - 32.40) / (32.625 - 32.30)  # the one spread point both legs share: 9/13
    assert order.leg_fills_pts == pytest.approx([29.25 - g * 0.25, 3.375 - g * 0.075], abs=1e-6)
    assert b.ledger.cash_usd == pytest.approx(100_000 + 32.40 * 50 - 2 * (2.50 + 0.30 + 0.57))


def test_when_a_buy_to_close_rests_then_it_never_fills_worse_and_never_better_than_its_limit(es_market):
    # Buying back: asks are the far side. 10:01: mid 32.625, natural 29.50 + 3.45 = 32.95,
    # model 32.625 + 0.3 x 0.325 = 32.7225 > 32.70: no fill (it would be worse than the limit).
    # 10:02: mid 29.00 + 3.375 = 32.375, natural 32.70, model 32.4725 <= 32.70: fills at 32.70
    # exactly, not at the model's 32.4725 (better) although the natural touched the limit.
    b = es_broker(es_market)
    order = b.submit(strangle_intent(32.70, +1, IntentPurpose.CLOSE), ES_ENTRY_UTC, product("ES"))
    assert b.step(T1) == [] and order.status is OrderStatus.SUBMITTED
    [done] = b.step(T1 + timedelta(minutes=1))
    assert done.fill_net_pts == pytest.approx(32.70, abs=1e-9)
    # the legs share g = (32.70 - 32.375) / (32.70 - 32.375) = 1: each at its ask
    assert order.leg_fills_pts == pytest.approx([29.25, 3.45], abs=1e-6)


def test_when_the_limit_is_not_a_number_then_nothing_fills(es_market):
    b = es_broker(es_market)
    order = b.submit(strangle_intent(float("nan"), -1), ES_ENTRY_UTC, product("ES"))
    assert b.step(T1) == [] and order.status is OrderStatus.SUBMITTED and b.ledger.holdings == {}


def test_when_an_order_is_marketable_on_arrival_then_it_takes_the_natural(es_market):
    # Selling with limit -32.20: at 10:01 the bids give 32.30 >= 32.20, so the incoming
    # order takes the resting bids: fill -32.30 (better than its limit, as on an exchange).
    b = es_broker(es_market)
    order = b.submit(strangle_intent(-32.20, -1), ES_ENTRY_UTC, product("ES"))
    [done] = b.step(T1)
    assert done.fill_net_pts == pytest.approx(-32.30, abs=1e-9) and order.leg_fills_pts == [29.0, 3.3]


@pytest.mark.parametrize("sign", [-1, +1])
def test_over_a_morning_of_real_quotes_every_resting_fill_is_exactly_its_limit(es_market, sign):
    """Orders sent every 10 minutes from 10:00 to 12:50 ET at limits from 0.40 better to
    0.40 worse than the mid: each one that fills after its arrival minute fills at its limit
    to the cent's millionth; one filled on arrival never at worse than its limit."""
    filled = resting = 0
    for k in range(18):
        t0 = ES_ENTRY_UTC + timedelta(minutes=10 * k)
        bp, ap = es_market.quote(PUT, t0)
        bc, ac = es_market.quote(CALL, t0)
        mid = (bp + ap + bc + ac) / 2
        if mid != mid:  # a leg without a quote at t0: no limit to set
            continue
        for off in (-0.40, -0.20, -0.10, 0.0, 0.10, 0.20, 0.40):
            limit = round(sign * mid + off, 2)
            b = es_broker(es_market)
            order = b.submit(strangle_intent(limit, sign), t0, product("ES"))
            for m in range(1, 6):
                if b.step(t0 + timedelta(minutes=m)):
                    break
            if order.status is OrderStatus.FILLED:
                filled += 1
                assert order.fill_net_pts is not None and order.fill_net_pts <= limit + 1e-9
                assert order.status_utc is not None
                if order.status_utc > t0 + timedelta(minutes=1):
                    resting += 1
                    assert order.fill_net_pts == pytest.approx(limit, abs=1e-6)
    assert filled >= 40 and resting >= 15, (filled, resting)  # fills of both kinds were seen


def test_when_a_quarterly_option_is_assigned_then_cash_only_and_no_future_is_left(es_market):
    b = es_broker(es_market)
    b.submit(strangle_intent(-32.40, -1), ES_ENTRY_UTC, product("ES"))
    b.step(T1)
    cash = b.ledger.cash_usd
    assert b.quotes.future_expiry("ES202003") == EXP  # type: ignore[attr-defined]
    soq = datetime(2020, 3, 20, 13, 30, tzinfo=UTC)  # 09:30 EDT on the third Friday
    recs = b.settle_expired(soq, {"ES202003": 2850.25})
    assert {r["symbol"]: r["intrinsic_pts"] for r in recs} == {PUT: 149.75, CALL: 0.0}
    assert b.ledger.holdings == {}
    assert b.ledger.cash_usd == pytest.approx(cash - 149.75 * 50)


def test_when_an_option_expires_before_its_future_then_the_future_is_held_until_its_own_expiry(es_market):
    # An option on the June future expiring on the March date (a serial-style expiry): the
    # long call exercised at 3300 with the June future at 3310 delivers one long June future,
    # held to its last trading day, 2020-06-19 (third Friday), then closed at 3200.
    b = es_broker(es_market)
    call = Holding("ESJUNE C3300", "ES202006", 50.0, right=Right.CALL, strike_pts=3300.0, expiry=EXP,
                   settle_time_et=product("ES").expiry_time_et, physical=True)
    b.ledger.trade(call, 1, 12.0, 0.0)  # bought at 12.00: cash 100,000 - 600
    [rec] = b.settle_expired(datetime(2020, 3, 20, 13, 30, tzinfo=UTC), {"ES202006": 3310.0})
    assert rec["delivered"] == {"symbol": "ES202006", "quantity": 1, "price_pts": 3310.0, "held": True,
                                "expiry": "2020-06-19"}
    assert {h.symbol: h.quantity for h in b.ledger.holdings.values()} == {"ES202006": 1}
    assert b.settle_expired(datetime(2020, 6, 19, 13, 29, tzinfo=UTC), {"ES202006": 3200.0}) == []
    [fut] = b.settle_expired(datetime(2020, 6, 19, 13, 30, tzinfo=UTC), {"ES202006": 3200.0})
    assert fut["kind"] == "future_final_settlement" and b.ledger.holdings == {}
    # -600 premium + 10 intrinsic x 50 + (3200 - 3310) x 50 on the future = -600 + 500 - 5,500
    assert b.ledger.cash_usd == pytest.approx(100_000 - 600 + 500 - 5_500)


def test_the_front_future_rolls_on_its_expiry_day(es_market):
    assert es_market.front_underlying(date(2020, 3, 19)) == "ES202003"
    assert es_market.front_underlying(date(2020, 3, 20)) == "ES202006"  # stopped at 09:30 ET
    assert es_market.front_underlying(date(2020, 3, 25)) == "ES202006"  # was ES202003 before issue 8
    assert es_market.front_underlying(date(2020, 12, 21)) == "ES202103"


def test_the_front_daily_bars_roll_with_the_front_future(es_market):
    # Daily trade bars in data/ hold ESZ3 (expired Friday 2013-12-20) and ESH4: from the
    # expiry day on, the range rules read ESH4's bars (before issue 8 they kept reading ESZ3's
    # until the calendar month ended).
    for day, month in ((date(2013, 12, 19), "ES201312"), (date(2013, 12, 20), "ES201403"),
                       (date(2013, 12, 23), "ES201403")):
        got, want = es_market.daily_bars(day), es_market.daily[month].before(day)
        assert got is not None and list(got.close_pts) == list(want.close_pts), (day, month)


def test_a_third_friday_holiday_moves_the_expiry_to_the_day_before():
    # LEAN's CME holidays (data/market-hours) list Good Friday 2008-03-21, the third Friday:
    # ESH8 stopped trading on Thursday 2008-03-20.
    hours = MarketHours.from_data_root(DATA).entry("future", "cme", "ES")
    assert future_expiry("200803", lambda d: hours.is_trading_day(d)) == date(2008, 3, 20)
    assert future_expiry("202003") == date(2020, 3, 20) and future_expiry("202012") == date(2020, 12, 18)
    with pytest.raises(ValueError, match="yyyymm"):
        future_expiry("2020-3")


def test_micro_options_pay_the_micro_exchange_fee():
    p = load_parameters({})
    # 2 contracts to open: ES 2 x (2.50 + 0.30 + 0.57); MES 2 x (1.50 + 0.30 + 0.22)
    assert tastytrade_leg_fee_usd(p, UnderlyingKind.FUTURE, 2, True) == pytest.approx(6.74)
    assert tastytrade_leg_fee_usd(p, UnderlyingKind.FUTURE, -2, True, micro=True) == pytest.approx(4.04)
    assert tastytrade_leg_fee_usd(p, UnderlyingKind.FUTURE, 2, False, micro=True) == pytest.approx(1.04)


def test_the_broker_charges_an_mes_combo_micro_fees(es_market):
    b = es_broker(es_market)  # ES quotes stand in for the MES book: only the fee is read here
    order = b.submit(strangle_intent(-32.40, -1), ES_ENTRY_UTC, product("MES"))
    b.step(T1)
    assert order.fees_usd == pytest.approx(2 * (1.50 + 0.30 + 0.22))
