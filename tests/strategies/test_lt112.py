"""LT112 entry on the REAL ES option chain of 2020-01-06 (data/futureoption), entry on
MODELLED SPX/SPY chains at their real levels, and the life of a position on MODELLED ES
chains (replay.model_chain, Black-76) around the REAL ES June 2020 future mid 3225.125."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, date, datetime

import numpy as np
import pytest

from replay.lean_data.daily import read_index_daily
from replay.lean_data.universes import read_universe, universe_path
from replay.model_chain import SmileModel, model_chain, strike_grid
from strategies.base import MarketContext, PositionState
from strategies.entry_calendar import entry_day_reason
from strategies.lt112 import Lt112
from tests.conftest import DATA, ES_ENTRY_UTC
from tests.strategies.hand_margin import reg_t_naked_put_pts, span_like_pts
from thetacore.enums import Action, IntentPurpose, Right
from thetacore.events import parse_events_csv
from thetacore.parameters import load_parameters
from thetacore.products import product
from thetacore.structures import Structure, StructureKind

ANY_DAY = {"lt112_entry_weekday": "-1", "lt112_entry_nth_weekday": "0"}
WIDE = {**ANY_DAY, "lt112_dte_min": "60", "lt112_dte_max": "200"}  # 2020-06-19 (165 DTE) is nearest 120
MARCH = {**ANY_DAY, "lt112_dte_min": "60", "lt112_dte_target": "90", "lt112_dte_max": "100"}  # 2020-03-20


@pytest.fixture()
def ctx(es_market) -> MarketContext:
    return es_market.context(ES_ENTRY_UTC)


def strikes(structure: Structure) -> list[tuple[float, int]]:
    return [(leg.strike_pts, leg.ratio) for leg in structure.legs]


# ----- REAL ES chain, 2020-01-06 10:00 ET ------------------------------------------------------
def test_when_defaults_on_a_monday_then_declined_with_every_reason_and_its_numbers(ctx):
    d = Lt112(load_parameters({})).entry_decision(ctx)
    assert d.action is Action.DECLINED and d.intent is None
    assert d.codes == ("NOT_ENTRY_DAY", "NO_EXPIRY_IN_WINDOW", "NAKED_PUT_OUT_OF_CHAIN")
    text = d.reason_text
    assert "2020-01-06 is the 1st Monday; entry on the 1st Wednesday (next 2020-02-05)" in text
    assert "no expiry within 105-135 DTE; nearest 2020-06-19 at 165 DTE" in text


def test_when_the_first_wednesday_is_a_holiday_then_the_month_has_no_entry(es_market):
    """2020-01-01 (New Year's Day) was the 1st Wednesday: the exchange is closed, so the
    daily entry schedule does not fire; the rule is taken literally and the next trading
    day is not an entry day: January 2020 has no LT112 entry, the next is 2020-02-05."""
    assert not es_market.is_trading_day(date(2020, 1, 1))
    reason = entry_day_reason(date(2020, 1, 2), 2, 1)
    assert reason.code == "NOT_ENTRY_DAY"
    assert reason.text == "2020-01-02 is the 1st Thursday; entry on the 1st Wednesday (next 2020-02-05)"
    assert entry_day_reason(date(2020, 2, 5), 2, 1) is None


def test_when_relaxed_then_the_spread_legs_are_chosen_and_the_naked_target_is_below_the_chain(ctx):
    d = Lt112(load_parameters(WIDE)).entry_decision(ctx)
    assert d.action is Action.DECLINED and d.codes == ("NAKED_PUT_OUT_OF_CHAIN",)
    det = d.details
    assert (det["expiry"], det["dte_days"], det["underlying_pts"]) == ("2020-06-19", 165, 3225.125)
    # 7% below 3225.125 = 2999.37 -> 3000; 50 points lower -> 2950 (both listed)
    assert (det["long_put_target_pts"], det["long_put_strike_pts"]) == (2999.37, 3000.0)
    assert (det["short_put_target_pts"], det["short_put_strike_pts"]) == (2950.0, 2950.0)
    # 12% below = 2838.11; the June chain's lowest put is 2900 (10 apart: it reaches 2895)
    assert d.reason_text == ("NAKED_PUT_OUT_OF_CHAIN: naked put target 2838.11 (12% below the future 3225.12) "
                             "is below the lowest quoted put 2900 (reach 2895) at 2020-06-19; nearest 2900 is "
                             "61.89 pts away")


def test_when_the_march_expiry_is_chosen_then_its_chain_does_not_reach_the_short_put(ctx):
    d = Lt112(load_parameters(MARCH)).entry_decision(ctx)
    assert d.codes == ("SHORT_PUT_OUT_OF_CHAIN", "NAKED_PUT_OUT_OF_CHAIN")
    assert (d.details["expiry"], d.details["dte_days"]) == ("2020-03-20", 74)
    assert (d.details["long_put_target_pts"], d.details["long_put_strike_pts"]) == (2999.83, 3000.0)
    assert d.reasons[0].text == ("short put target 2950.00 (50 pts below the long 3000) is below the lowest "
                                 "quoted put 3000 (reach 2995) at 2020-03-20; nearest 3000 is 50.00 pts away")


def test_when_the_naked_puts_sit_10pct_below_then_one_ratio_spread_combo_on_the_real_chain(ctx):
    p = load_parameters({**WIDE, "lt112_naked_put_otm_frac": "0.10"})
    d = Lt112(p).entry_decision(ctx)
    assert d.action is Action.ENTERED, d.reason_text
    s = d.intent.structure
    assert s.kind is StructureKind.RATIO_SPREAD and {leg.expiry for leg in s.legs} == {date(2020, 6, 19)}
    assert strikes(s) == [(3000.0, 1), (2950.0, -1), (2900.0, -2)]
    assert all(leg.right is Right.PUT for leg in s.legs)
    det = d.details
    assert det["naked_put_target_pts"] == 2902.61 and det["naked_put_abs_delta"] == pytest.approx(0.1924, abs=1e-4)
    # mids 65.50 - 56.75 - 2 x 49.00 = -89.25; natural -88.25; -89.25 + 0.3 x 1.00 -> up to the 0.25 tick
    assert (det["net_mid_pts"], det["net_natural_pts"], d.intent.limit_pts) == (-89.25, -88.25, -88.75)
    assert det["net_credit_pts"] == 88.75 and det["naked_credit_pts"] == 49.0
    # payoff below 2900: 2 S - 5661.25 -> max loss 5661.25 pts at S = 0, breakeven 2830.625
    assert (det["max_loss_pts"], det["max_loss_usd"], det["breakevens_pts"]) == (5661.25, 283062.5, [2830.62])
    # futures options, by hand (tests/strategies/hand_margin.py, the SPAN-like rule of issue
    # 11): scan range 6,930 USD (ES margin row 2019-11-15) / (50 x front future mid 3225.625)
    # = 4.297% applied to the June future mid 3225.125, each put at the Black-76 IV of its mid
    # (3000P 65.50, 2950P 56.75, 2900P 49.00) +/- 4 vol points, rate 2.25%, 165 days less 1.5
    # hours to 09:30 ET on 2020-06-19; worst of the 16 scenarios of +1 / -1 / -2 = 117.93 pts,
    # above the short-option minimum of the 2 uncovered puts (3 shorts less the 1 long):
    # 2 x 1.5% x 3225.125 = 96.75 pts -> 5,896.70 USD (old fixed-IV 7% scan: 5,738.98).
    # The whole position nets the spread against the naked puts: less than the spread's debit
    # 8.75 + 2 x one naked put's own requirement (its scan 62.32 > its minimum 48.38).
    t = (datetime(2020, 6, 19, 13, 30, tzinfo=UTC) - ES_ENTRY_UTC).total_seconds() / (365 * 86400)
    scan = 6930 / (50 * 3225.625)
    whole, whole_min = span_like_pts([(3000.0, False, 1, 65.5), (2950.0, False, -1, 56.75),
                                      (2900.0, False, -2, 49.0)], 3225.125, t, ctx.rate_frac, scan, 0.04, 0.015)
    one, one_min = span_like_pts([(2900.0, False, -1, 49.0)], 3225.125, t, ctx.rate_frac, scan, 0.04, 0.015)
    assert (round(whole, 2), round(whole_min, 3), round(one, 2), round(one_min, 4)) == (117.93, 96.754, 62.32, 48.3769)
    assert det["buying_power_usd"] == pytest.approx(max(whole, whole_min) * 50, abs=0.01) == 5_896.70
    assert max(whole, whole_min) < 65.5 - 56.75 + 2 * max(one, one_min)
    assert d.intent.quantity == 1 and d.intent.purpose is IntentPurpose.OPEN


def _without_bid(ctx: MarketContext, symbol: str) -> MarketContext:
    bid = ctx.chain.bid_pts.copy()
    bid[ctx.chain.index_of(symbol)] = 0.0
    return dataclasses.replace(ctx, chain=dataclasses.replace(ctx.chain, bid_pts=bid))


def test_when_the_nearest_naked_strike_has_no_bid_then_it_is_not_listed(ctx):
    """A put without a bid has no mid: it is not a listed strike. Inside the chain the next
    nearest is used; at the chain's end the chain's reach shrinks and the target is out."""
    p = load_parameters({**WIDE, "lt112_naked_put_otm_frac": "0.095"})  # target 2918.74 -> 2920
    assert strikes(Lt112(p).entry_decision(ctx).intent.structure)[2] == (2920.0, -2)
    d = Lt112(p).entry_decision(_without_bid(ctx, "ES202006 200619P02920000"))
    assert d.action is Action.ENTERED and strikes(d.intent.structure)[2] == (2910.0, -2)
    p10 = load_parameters({**WIDE, "lt112_naked_put_otm_frac": "0.10"})  # target 2902.61, lowest put 2900
    d = Lt112(p10).entry_decision(_without_bid(ctx, "ES202006 200619P02900000"))
    assert d.reason_text == ("NAKED_PUT_OUT_OF_CHAIN: naked put target 2902.61 (10% below the future 3225.12) is "
                             "below the lowest quoted put 2910 (reach 2905) at 2020-06-19; nearest 2910 is 7.39 pts away")


def test_when_an_lt112_already_holds_the_expiry_then_a_second_is_declined(ctx):
    strat = Lt112(load_parameters({**WIDE, "lt112_naked_put_otm_frac": "0.10"}))
    first = strat.entry_decision(ctx)
    strat.on_filled(first.intent, first.intent.limit_pts, ctx.time_utc)
    d = strat.entry_decision(ctx)
    assert d.codes == ("DUPLICATE_EXPIRY",)
    assert d.reason_text == ("DUPLICATE_EXPIRY: LT112 lt112-20200106T1500 already holds the 2020-06-19 expiry; "
                             "no two LT112 on the same expiry")


def test_when_es_has_an_event_in_the_span_then_it_is_ignored(ctx):
    with_event = dataclasses.replace(ctx, event_dates=(date(2020, 3, 18),))
    d = Lt112(load_parameters({**WIDE, "lt112_naked_put_otm_frac": "0.10"})).entry_decision(with_event)
    assert d.action is Action.ENTERED


def test_when_no_chain_on_the_first_wednesday_then_declined_with_the_host_reason(ctx):
    d = Lt112(load_parameters({})).entry_decision(
        dataclasses.replace(ctx, today_et=date(2020, 2, 5), chain=None, chain_problem="feed down"))
    assert d.codes == ("NO_CHAIN",) and "feed down" in d.reason_text


@pytest.mark.parametrize(("root", "kind"), [("ES", "future_option"), ("MES", "future_option"),
                                            ("SPX", "index_option"), ("SPY", "equity_option")])
def test_subscription_follows_the_underlying(root, kind):
    sub = Lt112(load_parameters({"lt112_underlying": root})).subscription()
    assert (sub.root, sub.kind, sub.dte_max) == (root, kind, 135)


@pytest.mark.parametrize("naked_otm", ["0.10", "0.12"])
def test_when_only_the_picked_puts_are_greeked_then_every_recorded_delta_is_the_whole_expirys(ctx, naked_otm):
    """Issue 10: LT112 picks its puts by strike from the quotes and solves IVs for the picks
    alone. Each recorded |delta| (the naked one too, also when it is out of the chain and
    the decision declines) equals that strike's |delta| in the whole expiry's greeks (the long
    way), rounded alike; the details keep their order (``<role>_put_abs_delta`` after the strike)."""
    from thetacore.chain_greeks import expiry_greeks

    d = Lt112(load_parameters({**WIDE, "lt112_naked_put_otm_frac": naked_otm})).entry_decision(ctx)
    es = product("ES")
    whole = expiry_greeks(dataclasses.replace(ctx.chain), date(2020, 6, 19), model=es.model, rate_frac=ctx.rate_frac,
                          yield_frac=0.0, expiry_time_et=es.expiry_time_et)
    det, keys = d.details, list(d.details)
    for role in ("long", "short", "naked"):
        k = det[f"{role}_put_strike_pts"]
        [row] = np.flatnonzero((whole.strike_pts == k) & (whole.right == -1) & np.isfinite(whole.mid_pts))
        assert det[f"{role}_put_abs_delta"] == round(float(abs(whole.delta[row])), 4) > 0.1
        assert keys.index(f"{role}_put_abs_delta") == keys.index(f"{role}_put_strike_pts") + 1
    assert d.action is (Action.ENTERED if naked_otm == "0.10" else Action.DECLINED)


def _greeks(ctx: MarketContext):
    from thetacore.chain_greeks import with_greeks
    prod = product("ES")
    return with_greeks(ctx.chain, model=prod.model, rate_frac=ctx.rate_frac, yield_frac=0.0,
                       expiry_time_et=prod.expiry_time_et)


def _mids(ctx: MarketContext, structure: Structure) -> list[float]:
    """Each leg's mid, read straight from the chain's bid/ask arrays."""
    rows = [ctx.chain.index_of(leg.symbol) for leg in structure.legs]
    return [float((ctx.chain.bid_pts[i] + ctx.chain.ask_pts[i]) / 2) for i in rows]


# ----- MODELLED SPY and SPX chains at real levels -----------------------------------------------
def _model_ctx(root: str, day: date, level: float, expiries: list[date], step: float, mult: float,
               iv: float = 0.18, events: tuple[date, ...] = ()) -> MarketContext:
    t = datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)  # 10:00 ET (EST)
    chain = model_chain(product(root), t, level, expiries, strike_grid(level, step, int(0.3 * level / step)),
                        multiplier_usd_per_pt=mult, rate_frac=0.05, smile=SmileModel(atm_iv_frac=iv))
    return MarketContext(t, day, chain, 0.05, underlying_pts=level, event_dates=events)


def _spy_ctx() -> MarketContext:
    """SPY at its real close in data/option/usa/universes/spy/20240103.csv (468.79) on the
    first Wednesday 2024-01-03; events from the real data/events/events.csv."""
    level = read_universe(universe_path(DATA, "option", "usa", "spy", date(2024, 1, 3))).underlying_close_pts
    events = parse_events_csv((DATA / "events" / "events.csv").read_text())["SPY"]
    return _model_ctx("SPY", date(2024, 1, 3), level, [date(2024, 4, 19), date(2024, 5, 17)], 1.0, 100.0,
                      events=events)


def test_when_spy_and_an_event_falls_before_expiry_then_declined_event_in_span():
    d = Lt112(load_parameters({"lt112_underlying": "SPY", "lt112_spread_width_pts": "5"})).entry_decision(_spy_ctx())
    assert d.codes == ("EVENT_IN_SPAN",)
    assert d.reason_text == "EVENT_IN_SPAN: SPY event on 2024-01-31 between 2024-01-03 and the 2024-04-19 expiry"


def test_when_spy_with_event_avoidance_off_then_entered_with_reg_t_buying_power():
    ctx = _spy_ctx()
    p = load_parameters({"lt112_underlying": "SPY", "lt112_spread_width_pts": "5", "event_avoidance_enabled": "false"})
    d = Lt112(p).entry_decision(ctx)
    assert d.action is Action.ENTERED, d.reason_text
    # 468.79 x 0.93 = 435.97 -> 436; 431; 468.79 x 0.88 = 412.54 -> 413
    assert strikes(d.intent.structure) == [(436.0, 1), (431.0, -1), (413.0, -2)]
    mid = _mids(ctx, d.intent.structure)
    # Reg-T by hand (ETF option, 20%): the 436/431 debit spread paid in full, plus each of the
    # two 413 puts naked: premium + max(20% x 468.79 - (468.79 - 413) OTM = 37.968, 10% x 413
    # = 41.30) = premium + 41.30
    assert reg_t_naked_put_pts(413.0, 468.79, 0.0, 0.20) == pytest.approx(41.3)
    hand = (mid[0] - mid[1]) + 2 * (mid[2] + 41.3)
    assert d.details["buying_power_usd"] == pytest.approx(hand * 100, abs=0.01)


def test_when_spx_then_entered_with_index_reg_t_buying_power():
    """SPX at its real close of 2021-01-04 (data/index/usa/daily/spx.zip), first Wednesday
    2021-01-06; SPX monthlies 2021-04-16 (100 DTE, outside 105-135) and 2021-05-21 (135)."""
    bars = read_index_daily(DATA, "spx")
    level = float(bars.close[bars.day == np.datetime64("2021-01-04")][0])
    ctx = _model_ctx("SPX", date(2021, 1, 6), level, [date(2021, 4, 16), date(2021, 5, 21)], 5.0, 100.0)
    d = Lt112(load_parameters({"lt112_underlying": "SPX"})).entry_decision(ctx)
    assert d.action is Action.ENTERED, d.reason_text
    assert (level, d.details["expiry"], d.details["dte_days"]) == (3700.65, "2021-05-21", 135)
    # 3700.65 x 0.93 = 3441.60 -> 3440; 3390; 3700.65 x 0.88 = 3256.57 -> 3255
    assert strikes(d.intent.structure) == [(3440.0, 1), (3390.0, -1), (3255.0, -2)]
    mid = _mids(ctx, d.intent.structure)
    # Reg-T by hand (broad-based index option, 15%): the 3440/3390 debit spread paid in full,
    # plus each of the two 3255 puts naked: premium + max(15% x 3700.65 - (3700.65 - 3255) OTM
    # = 555.0975 - 445.65 = 109.4475, 10% x 3255 = 325.50) = premium + 325.50
    assert reg_t_naked_put_pts(3255.0, 3700.65, 0.0, 0.15) == pytest.approx(325.5)
    hand = (mid[0] - mid[1]) + 2 * (mid[2] + 325.5)
    assert d.details["buying_power_usd"] == pytest.approx(hand * 100, abs=0.01)


# ----- MODELLED ES lifecycle --------------------------------------------------------------------
ES_JUN_MID = 3225.125  # real ES202006 mid, 2020-01-06 10:00 ET
LIFE = [date(2020, 5, 15), date(2020, 6, 19)]  # serial May (130 DTE) and June options on ES202006


def es_ctx(day: date, level: float = ES_JUN_MID, iv: float = 0.18) -> MarketContext:
    t = datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)
    chain = model_chain(product("ES"), t, level, LIFE, strike_grid(3225, 5.0, 160), multiplier_usd_per_pt=50.0,
                        rate_frac=0.0225, smile=SmileModel(atm_iv_frac=iv), underlying_symbol="ES202006")
    return MarketContext(t, day, chain, 0.0225)


def opened() -> tuple[Lt112, str, Counter]:
    """An LT112 entered on the modelled 2020-01-06 chain and filled at its limit; the
    ledger of contracts is built from the filled intents."""
    strat = Lt112(load_parameters(ANY_DAY))
    d = strat.entry_decision(es_ctx(date(2020, 1, 6)))
    assert d.action is Action.ENTERED, d.reason_text
    strat.on_filled(d.intent, d.intent.limit_pts, d.time_utc)
    return strat, d.intent.position_id, book(Counter(), d.intent)


def book(ledger: Counter, intent) -> Counter:
    for leg in intent.structure.legs:
        ledger[leg.symbol] += leg.ratio * intent.quantity
    return Counter({k: v for k, v in ledger.items() if v})


def held(pos) -> Counter:
    return Counter({leg.symbol: leg.ratio * pos.quantity for leg in pos.structure.legs})


def test_modelled_entry_at_130_dte_with_the_naked_puts_at_12pct():
    strat, pid, ledger = opened()
    pos = strat.positions[pid]
    assert strikes(pos.structure) == [(3000.0, 1), (2950.0, -1), (2840.0, -2)]
    assert pos.entry_net_pts == -63.0 and strat.naked[pid].credit_pts == 37.375
    assert ledger == held(pos)


def test_when_the_naked_puts_reach_90pct_then_they_alone_are_bought_back_and_the_spread_stays():
    strat, pid, ledger = opened()
    pos = strat.positions[pid]
    assert strat.manage(es_ctx(date(2020, 2, 3))) == []  # 26.38 of 37.38 left: 29% captured
    rally = es_ctx(date(2020, 3, 2), level=3300.0, iv=0.14)
    [d] = strat.manage(rally)
    assert d.action is Action.EXITED and d.codes == ("NAKED_TAKE_PROFIT",)
    assert d.reason_text == ("NAKED_TAKE_PROFIT: naked 2 x 2840P captured 91% of their 37.38 pt credit (cost to "
                             "close 3.28 pts) >= 90%; the debit spread stays as the hedge")
    intent = d.intent
    assert intent.purpose is IntentPurpose.CLOSE and intent.position_id == pid
    assert strikes(intent.structure) == [(2840.0, 1)] and intent.quantity == 2 and intent.limit_pts == 3.3
    assert pos.state is PositionState.CLOSING and strat.manage(rally) == []  # fires once
    strat.on_filled(intent, 3.3, rally.time_utc)
    ledger = book(ledger, intent)
    assert pos.state is PositionState.OPEN and pos.structure.kind is StructureKind.VERTICAL
    assert strikes(pos.structure) == [(3000.0, 1), (2950.0, -1)] and ledger == held(pos)
    assert pos.entry_net_pts == pytest.approx(-63.0 + 2 * 3.3)  # the spread's basis includes the buy-back
    assert strat.manage(rally) == []


def test_when_the_naked_close_is_not_filled_then_the_full_position_is_kept_and_retried():
    strat, pid, ledger = opened()
    rally = es_ctx(date(2020, 3, 2), level=3300.0, iv=0.14)
    [d] = strat.manage(rally)
    strat.on_unfilled(d.intent, "timeout")
    pos = strat.positions[pid]
    assert pos.state is PositionState.OPEN and ledger == held(pos) and len(pos.structure.legs) == 3
    [again] = strat.manage(rally)
    assert again.codes == ("NAKED_TAKE_PROFIT",)


def test_when_profitable_at_21_dte_then_the_remaining_spread_closes_once():
    strat, pid, ledger = opened()
    rally = es_ctx(date(2020, 3, 2), level=3300.0, iv=0.14)
    [d] = strat.manage(rally)
    strat.on_filled(d.intent, 3.3, rally.time_utc)
    ledger = book(ledger, d.intent)
    day21 = es_ctx(date(2020, 4, 24), level=3100.0, iv=0.22)
    [d] = strat.manage(day21)
    assert d.action is Action.EXITED and d.codes == ("DEFENSE_PROFIT",)
    assert d.reason_text.startswith("DEFENSE_PROFIT: 21 DTE <= 21: lt112-20200106T1500 profitable by +")
    assert strikes(d.intent.structure) == [(3000.0, -1), (2950.0, 1)] and d.intent.quantity == 1
    assert strat.manage(day21) == []
    pos = strat.positions[pid]
    strat.on_filled(d.intent, d.intent.limit_pts, day21.time_utc)
    assert pos.state is PositionState.CLOSED and pos.exit_reason == "DEFENSE_PROFIT"
    assert book(ledger, d.intent) == Counter()
    # realized P&L from the position equals the cash of the three fills
    cash_pts = 63.0 - 2 * 3.3 - d.intent.limit_pts
    assert -(pos.entry_net_pts + pos.exit_net_pts) == pytest.approx(cash_pts)


def test_when_the_short_put_is_tested_at_21_dte_then_everything_closes_once():
    strat, pid, _ = opened()
    crash = es_ctx(date(2020, 4, 24), level=2940.0, iv=0.30)
    [d] = strat.manage(crash)
    assert d.codes == ("DEFENSE_TESTED",)
    assert d.reason_text == ("DEFENSE_TESTED: short 2950P tested, future 2940.00 within 0.0% of the strike or "
                             "beyond (at or below 2950.00)")
    assert strikes(d.intent.structure) == [(3000.0, -1), (2950.0, 1), (2840.0, 2)]
    assert d.intent.structure.kind is StructureKind.RATIO_SPREAD
    assert strat.manage(crash) == []


def test_when_losing_the_position_is_never_rolled_only_reviewed_then_closed_by_14_dte():
    strat, pid, _ = opened()
    pos = strat.positions[pid]
    days = [(date(2020, 3, 2), 0.35)] + [(date(2020, 4, d), 0.45) for d in range(24, 31)] + [(date(2020, 5, 1), 0.45)]
    decisions = []
    for day, iv in days:
        ctx = es_ctx(day, level=2990.0, iv=iv)
        assert pos.structure.net_mid_pts(ctx.chain) - pos.entry_net_pts < 0  # a loser throughout
        decisions += [(day, d) for d in strat.manage(ctx) + strat.manage(ctx)]  # twice per day
    assert [(day, d.action, d.codes) for day, d in decisions] == [
        (date(2020, 4, 24), Action.HELD, ("DEFENSE_REVIEW",)),
        (date(2020, 5, 1), Action.EXITED, ("DEFENSE_CLOSE_BY",)),
    ]
    assert decisions[0][1].reason_text.endswith("nor tested; kept, close by 14 DTE (2020-05-01)")
    close = decisions[1][1].intent
    assert close.purpose is IntentPurpose.CLOSE and {leg.expiry for leg in close.structure.legs} == {LIFE[0]}
    assert strikes(close.structure) == [(3000.0, -1), (2950.0, 1), (2840.0, 2)]
    assert list(strat.positions) == [pid]  # nothing new was opened: no roll
    assert not any(hasattr(strat, name) for name in dir(strat) if "roll" in name.lower())


def test_when_the_entry_is_not_filled_then_the_position_and_its_naked_line_are_forgotten():
    strat = Lt112(load_parameters(ANY_DAY))
    d = strat.entry_decision(es_ctx(date(2020, 1, 6)))
    strat.on_unfilled(d.intent, "timeout")
    pid = d.intent.position_id
    assert strat.positions[pid].state is PositionState.CLOSED
    assert strat.naked[pid].state is PositionState.CLOSED and strat.open_positions() == []
    assert strat.entry_decision(es_ctx(date(2020, 1, 6))).action is Action.ENTERED


def test_when_settled_at_expiry_then_the_naked_line_is_closed_too():
    strat, pid, _ = opened()
    strat.on_settled(pid, 0.0, datetime(2020, 5, 15, 13, 30, tzinfo=UTC))
    assert strat.positions[pid].state is PositionState.CLOSED and strat.naked[pid].state is PositionState.CLOSED



def test_expiry_underlying_is_the_median_whether_or_not_the_prices_differ():
    """``_underlying_pts`` skips ``np.median`` when every price of the expiry is the same
    number (issue 10): that number; with differing prices (and a NaN to drop) the median."""
    day = date(2024, 1, 3)
    ctx = _model_ctx("SPX", day, 4700.0, [date(2024, 5, 17), date(2024, 6, 21)], 25.0, 100.0)
    strat, expiry = Lt112(load_parameters({})), date(2024, 5, 17)
    rows = ctx.chain.expiry == np.datetime64(expiry, "D")
    same = float(np.median(ctx.chain.underlying_pts[rows]))
    assert strat._underlying_pts(ctx.chain, expiry, ctx) == same == ctx.chain.underlying_pts[rows][0]
    und = ctx.chain.underlying_pts.copy()
    idx = np.flatnonzero(rows)
    und[idx[:len(idx) // 2]] = 4702.5  # half the rows on another price: the median moves
    und[idx[-1]] = np.nan
    uneven = dataclasses.replace(ctx.chain, underlying_pts=und)
    expected = float(np.median(und[idx][np.isfinite(und[idx])]))
    assert expected != same
    assert strat._underlying_pts(uneven, expiry, ctx) == expected
