"""0DTE lifecycle on MODELLED chains (``replay.model_chain``: roots ``SPXW*model`` and
``MES*model``), NOT market data, over the REAL SPX minute path of 2021-01-04
(data/index/usa/minute/spx) or, where a scenario needs a path the day did not take, a
SYNTHETIC path starting from the real 10:30 level (said in the test).

Model: Black-Scholes (SPXW) / Black-76 (MES), ATM IV 31% (the IV of the REAL 3700P 0DTE at
10:30 is 0.3134, see test_zero_dte.py), the generator's default skew 2.0, 5-point strikes.
Daily bars are SYNTHETIC: 15 bars whose every true range equals the ATR wanted, so Wilder's
14-day ATR is exactly that number. The REAL 09:31 reading 3766.63 and the REAL 10:30 spot
3738.81 give the real move, -0.74%.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import numpy as np
import pytest

from replay.model_chain import SmileModel, model_chain, strike_grid
from strategies.base import MarketContext, PositionState
from strategies.zero_dte import ENTRY, FLATTEN, MANAGE, MOVE_START, TIME_STOP, ZeroDte
from tests.strategies.real_chains import rate_on, spx_price_at
from thetacore.chain import ChainSnapshot
from thetacore.decisions import Decision
from thetacore.enums import Action, IntentPurpose, Right
from thetacore.market_stats import DailyBars
from thetacore.parameters import load_parameters
from thetacore.pricing import et_instant_utc
from thetacore.products import product
from thetacore.schedule import DailyAt, EveryMinutes

D = date(2021, 1, 4)
SPXW_ANY_DAY = {"zdte_underlying": "SPXW", "zdte_entry_weekday": "-1"}
ES_ANY_DAY = {"zdte_underlying": "ES", "zdte_entry_weekday": "-1"}  # the strategy rules for ES; hosts refuse it
REAL_START = 3766.63  # REAL: SPX close of the 09:30-09:31 bar
SPOT_1030 = 3738.81  # REAL: SPX close of the 10:29-10:30 bar
SMILE = SmileModel(atm_iv_frac=0.31)


def daily(atr_pts: float) -> DailyBars:
    """SYNTHETIC: 15 bars 2020-12-10..24, high - low = ``atr_pts`` around a flat 3700 close."""
    days = np.arange(np.datetime64("2020-12-10"), np.datetime64("2020-12-25"))
    return DailyBars(days, np.full(15, 3700.0 + atr_pts / 2), np.full(15, 3700.0 - atr_pts / 2), np.full(15, 3700.0))


def chain_at(clock: time, spot: float, root: str = "SPXW", expiry: date = D) -> ChainSnapshot:
    """MODELLED chain of ``root`` at ``clock`` ET on 2021-01-04 around ``spot``."""
    if root == "SPXW":
        return model_chain(product("SPXW"), et_instant_utc(D, clock), spot, [expiry], strike_grid(spot, 5, 40),
                           multiplier_usd_per_pt=100.0, rate_frac=rate_on(D), smile=SMILE, underlying_symbol="SPX")
    return model_chain(product(root), et_instant_utc(D, clock), spot, [expiry], strike_grid(spot, 5, 40),
                       multiplier_usd_per_pt=5.0 if root == "MES" else 50.0, rate_frac=rate_on(D), smile=SMILE,
                       underlying_symbol=f"{root}H21", expiry_time_et=time(16, 0))


def ctx_at(clock: time, spot: float | None = None, *, atr: float = 44.0, vix: float = 25.0,
           nlv: float = 100_000.0, root: str = "SPXW") -> MarketContext:
    """Context at ``clock`` ET: MODELLED chain around ``spot`` (default: the REAL SPX price)."""
    spot = spx_price_at(D, clock) if spot is None else spot
    return MarketContext(et_instant_utc(D, clock), D, chain_at(clock, spot, root), rate_on(D),
                         underlying_daily=daily(atr), underlying_pts=spot, vix_level=vix, nlv_usd=nlv)


def strategy(params: dict[str, str] | None = None, start: float = REAL_START) -> ZeroDte:
    """A strategy whose 09:31 move_start rule read ``start``."""
    strat = ZeroDte(load_parameters(SPXW_ANY_DAY if params is None else params))
    strat.on_schedule(MOVE_START, MarketContext(et_instant_utc(D, time(9, 31)), D, None, 0.0, underlying_pts=start))
    return strat


def enter(strat: ZeroDte, ctx: MarketContext) -> Decision:
    """Entry at ``ctx``, filled whole at its limit."""
    [d] = strat.on_schedule(ENTRY, ctx)
    assert d.action is Action.ENTERED, d.reason_text
    strat.on_filled(d.intent, d.intent.limit_pts, ctx.time_utc)
    return d


def first_exit(strat: ZeroDte, path: Callable[[time], float], until: time = time(15, 25)) -> tuple[time, Decision]:
    """Run the 5-minute management from 10:35 over ``path(clock) -> spot``; the first decision."""
    t = datetime.combine(D, time(10, 35))
    while t.time() <= until:
        ds = strat.on_schedule(MANAGE, ctx_at(t.time(), path(t.time())))
        if ds:
            return t.time(), ds[0]
        t += timedelta(minutes=5)
    raise AssertionError("no exit")


def real_path(clock: time) -> float:
    return spx_price_at(D, clock)


def drift_to_3716(clock: time) -> float:
    """SYNTHETIC: from the real 10:30 level straight down to 3716.00 at 15:00, then flat."""
    minutes = (clock.hour * 60 + clock.minute) - (10 * 60 + 30)
    return round(SPOT_1030 + (3716.0 - SPOT_1030) * min(minutes, 270) / 270, 2)


def legs(d: Decision) -> list[tuple[Right, float, int]]:
    return [(leg.right, leg.strike_pts, leg.ratio) for leg in d.intent.structure.legs]


# ----- entries: the move picks the structure ------------------------------------------------
def test_when_the_real_move_is_down_then_a_put_credit_spread_with_exact_numbers():
    d = enter(strategy(), ctx_at(time(10, 30), atr=44.0))
    assert d.details["shape"] == "put_credit_spread" and d.details["move_frac"] == -0.007386
    # short: nearest strike to 3738.81 - 0.7 x 44 = 3708.01; long: 3710 - 30
    assert legs(d) == [(Right.PUT, 3710.0, -1), (Right.PUT, 3680.0, 1)]
    assert d.intent.structure.kind.value == "vertical" and d.details["short_put_abs_delta"] == 0.1619
    # mid -2.25, natural -2.10: -2.25 + 0.3 x 0.15 = -2.205, up to the 0.05 tick: -2.20
    assert (d.details["net_mid_pts"], d.details["net_natural_pts"], d.intent.limit_pts) == (-2.25, -2.1, -2.2)
    assert d.details["credit_pts"] == 2.2 and d.details["width_pts"] == 30.0
    assert d.details["max_loss_pts"] == 27.8 and d.details["max_loss_usd_per_unit"] == 2780.0
    assert d.details["max_loss_usd"] == d.details["buying_power_usd"] == 11_120.0  # 4 contracts x $100 x 27.80
    assert d.details["breakevens_pts"] == [3707.8]
    assert (d.details["buying_power_pts"], d.details["buying_power_method"]) == (27.8, "width - credit")
    assert d.intent.quantity == 4 and d.details["account_phase"] == 4  # NLV 100,000: phase 4
    assert d.intent.purpose is IntentPurpose.OPEN and d.intent.position_id == "zero_dte-20210104T1530Z"


def test_when_the_move_is_up_then_a_call_credit_spread_fades_it():
    """SYNTHETIC move start 3738.81 / 1.006 (a +0.60% rally) on the real 10:30 level, ATR 40."""
    d = enter(strategy(start=SPOT_1030 / 1.006), ctx_at(time(10, 30), atr=40.0))
    assert d.details["shape"] == "call_credit_spread" and d.details["move_frac"] == 0.006
    assert legs(d) == [(Right.CALL, 3765.0, -1), (Right.CALL, 3795.0, 1)]  # target 3766.81
    assert d.intent.limit_pts == -2.5 and d.details["max_loss_pts"] == 27.5
    assert d.details["breakevens_pts"] == [3767.5]


def test_when_the_move_is_inside_half_a_percent_then_an_iron_condor():
    """SYNTHETIC flat morning (start = the real 10:30 level), ATR 44: shorts at +/- 22."""
    d = enter(strategy(start=SPOT_1030), ctx_at(time(10, 30), atr=44.0))
    assert d.details["shape"] == "iron_condor" and d.intent.structure.kind.value == "iron_condor"
    assert legs(d) == [(Right.PUT, 3685.0, 1), (Right.PUT, 3715.0, -1), (Right.CALL, 3760.0, -1),
                       (Right.CALL, 3790.0, 1)]
    assert (d.details["short_put_abs_delta"], d.details["short_call_abs_delta"]) == (0.2072, 0.2316)
    assert d.intent.limit_pts == -6.3 and d.details["width_pts"] == 30.0
    assert d.details["max_loss_pts"] == 23.7 and d.details["buying_power_pts"] == 23.7
    assert d.details["breakevens_pts"] == [3708.7, 3766.3]


# ----- exits: each rule once -------------------------------------------------------------------
def test_when_the_real_day_falls_through_the_put_short_then_stop_loss_at_twice_the_credit():
    strat = strategy()
    d = enter(strat, ctx_at(time(10, 30)))
    clock, x = first_exit(strat, real_path)
    assert clock == time(10, 50) and x.action is Action.EXITED and x.codes == ("STOP_LOSS",)
    assert x.reasons[0].text == "cost to close 4.48 pts >= 2 x credit 2.20 = 4.40 pts (loss 2.28 pts)"
    assert legs(x) == [(Right.PUT, 3710.0, 1), (Right.PUT, 3680.0, -1)] and x.intent.limit_pts == 4.55
    assert x.intent.purpose is IntentPurpose.CLOSE and x.intent.quantity == 4
    pos = strat.positions[d.intent.position_id]
    assert pos.state is PositionState.CLOSING
    strat.on_filled(x.intent, 4.55, x.time_utc)
    assert pos.state is PositionState.CLOSED and pos.exit_reason == "STOP_LOSS"


def test_when_the_real_day_falls_away_from_the_call_short_then_take_profit_at_half_the_credit():
    strat = strategy(start=SPOT_1030 / 1.006)
    enter(strat, ctx_at(time(10, 30), atr=40.0))
    clock, x = first_exit(strat, real_path)
    assert clock == time(10, 50) and x.codes == ("TAKE_PROFIT",)
    assert x.reasons[0].text == "captured 61% of the 2.50 pt credit (cost to close 0.98 pts) >= 50%"
    # the 3795C has no bid: nobody pays for it, it is left to expire; only the short is bought back
    assert legs(x) == [(Right.CALL, 3765.0, 1)] and x.details["left_to_expire"] == ["+1 SPX 2021-01-04 3795C"]
    assert x.intent.limit_pts == 1.0


def test_when_neither_target_is_hit_by_1500_then_the_time_stop_closes_whatever_the_pnl():
    strat = strategy()
    enter(strat, ctx_at(time(10, 30)))
    clock, x = first_exit(strat, drift_to_3716)
    assert clock == time(15, 0) and x.codes == ("TIME_STOP",)
    assert x.reasons[0].text == ("15:00 ET >= time stop 15:00 ET: close whatever the P&L (cost to close 2.47 pts, "
                                 "credit 2.20)")
    assert strat.on_schedule(TIME_STOP, ctx_at(time(15, 0), 3716.0)) == []  # already closing: no second order


def _time_stopped() -> tuple[ZeroDte, Decision]:
    strat = strategy()
    enter(strat, ctx_at(time(10, 30)))
    [x] = strat.on_schedule(TIME_STOP, ctx_at(time(15, 0), 3716.0))
    assert x.codes == ("TIME_STOP",)
    return strat, x


def test_when_the_time_stop_close_went_unfilled_then_the_1530_flatten_closes_at_natural():
    strat, x = _time_stopped()
    strat.on_unfilled(x.intent, "not filled within 5 min at limit +2.50")
    pos = strat.positions[x.intent.position_id]
    assert pos.state is PositionState.OPEN
    assert strat.on_schedule(MANAGE, ctx_at(time(15, 30), 3716.0)) == []  # the flatten owns 15:30
    [f] = strat.on_schedule(FLATTEN, ctx_at(time(15, 30), 3716.0))
    assert f.action is Action.EXITED and f.codes == ("FLATTEN",)
    assert ("the earlier TIME_STOP close was not filled (close order not filled: not filled within 5 min at "
            "limit +2.50)") in f.reason_text
    assert f.intent.limit_pts == f.details["net_natural_pts"] == 1.35  # crosses the spread
    assert legs(f) == [(Right.PUT, 3710.0, 1)] and f.details["left_to_expire"] == ["+1 SPX 2021-01-04 3680P"]
    strat.on_filled(f.intent, 1.35, f.time_utc)
    assert pos.state is PositionState.CLOSED and strat.open_positions() == []


def test_when_a_close_is_still_working_at_1530_then_the_flatten_resends_it_and_the_old_one_cannot_reopen():
    strat, x = _time_stopped()
    pos = strat.positions[x.intent.position_id]
    [f] = strat.on_schedule(FLATTEN, ctx_at(time(15, 30), 3716.0))
    assert f.codes == ("FLATTEN",) and f"re-sends the TIME_STOP close {x.intent.tag} still unfilled" in f.reason_text
    assert f.intent.tag != x.intent.tag
    strat.on_unfilled(x.intent, "canceled: replaced")  # the replaced order ends
    assert pos.state is PositionState.CLOSING
    strat.on_filled(f.intent, 1.35, f.time_utc)
    strat.on_filled(x.intent, 2.5, f.time_utc)  # a host that failed to cancel it: noted, not booked
    assert pos.state is PositionState.CLOSED and pos.exit_net_pts == 1.35
    assert pos.notes[-1].startswith("DUPLICATE_CLOSE_FILL")


def test_when_the_flatten_cannot_price_or_the_open_is_still_working_then_it_says_so_loudly():
    strat = strategy()
    enter(strat, ctx_at(time(10, 30)))
    [f] = strat.on_schedule(FLATTEN, dataclasses.replace(ctx_at(time(15, 30)), chain=None, chain_problem="feed down"))
    assert f.action is Action.HELD and f.intent is None
    assert f.codes == ("FLATTEN", "NO_QUOTES", "FLATTEN_BLOCKED") and "feed down" in f.reason_text
    pending = strategy()
    [d] = pending.on_schedule(ENTRY, ctx_at(time(10, 30)))  # never filled nor canceled
    [f] = pending.on_schedule(FLATTEN, ctx_at(time(15, 30)))
    assert f.codes == ("FLATTEN_OPENING_PENDING",) and "the host must cancel it" in f.reason_text


def test_when_the_replaced_close_fills_first_then_the_replacement_ending_unfilled_reopens_nothing():
    strat, x = _time_stopped()
    pos = strat.positions[x.intent.position_id]
    [f] = strat.on_schedule(FLATTEN, ctx_at(time(15, 30), 3716.0))
    strat.on_filled(x.intent, 2.5, f.time_utc)  # the old order filled before the host canceled it
    strat.on_unfilled(f.intent, "canceled: position already flat")
    assert pos.state is PositionState.CLOSED and pos.exit_net_pts == 2.5
    assert pos.notes[-1].startswith("late close")


# ----- entry gates -----------------------------------------------------------------------------
@pytest.mark.parametrize(("vix", "codes", "text"), [
    (40.0, ("VIX_TOO_HIGH",), "VIX 40.00 >= 40.00"),
    (float("nan"), ("VIX_UNAVAILABLE",), "no VIX level: the VIX < 40.00 rule cannot be checked"),
])
def test_when_vix_is_40_or_unknown_then_no_entry(vix, codes, text):
    d = strategy().entry_decision(ctx_at(time(10, 30), vix=vix))
    assert d.action is Action.DECLINED and d.intent is None and d.codes == codes and text in d.reason_text
    assert strategy().entry_decision(ctx_at(time(10, 30), vix=39.99)).action is Action.ENTERED


def test_when_nlv_is_unknown_then_no_entry_but_the_structure_is_still_evaluated():
    d = strategy().entry_decision(ctx_at(time(10, 30), nlv=float("nan")))
    assert d.codes == ("NLV_UNAVAILABLE",) and d.intent is None and d.details["credit_pts"] == 2.2


def test_when_phase_1_on_es_then_one_mes_contract():
    """MODELLED MES chain (Black-76, $5 multiplier) on the real SPX level as the future."""
    strat = strategy(ES_ANY_DAY)
    d = enter(strat, ctx_at(time(10, 30), nlv=30_000.0, root="MES"))
    assert (d.details["account_phase"], d.details["product"], d.intent.quantity) == (1, "MES", 1)
    assert d.intent.structure.multiplier_usd_per_pt == 5.0 and d.intent.structure.underlying_kind.value == "future"
    assert legs(d) == [(Right.PUT, 3710.0, -1), (Right.PUT, 3680.0, 1)]
    assert {leg.underlying_symbol for leg in d.intent.structure.legs} == {"MESH21"}
    assert d.details["max_loss_usd"] == d.details["max_loss_usd_per_unit"] == round(d.details["max_loss_pts"] * 5, 2)


@pytest.mark.parametrize(("params", "root", "code", "text"), [
    (ES_ANY_DAY, "ES", "PRODUCT_MISMATCH", "this phase trades MES options; the host's chain is ES"),
    (SPXW_ANY_DAY, "SPXW", "PHASE_MICROS_ONLY", "phase 1 (NLV 30,000 < 40,000) trades micros only"),
])
def test_when_phase_1_and_not_a_micro_then_declined(params, root, code, text):
    d = strategy(params).entry_decision(ctx_at(time(10, 30), nlv=30_000.0, root=root))
    assert d.action is Action.DECLINED and code in d.codes and text in d.reason_text


def test_when_already_traded_today_then_no_second_structure_even_after_the_first_closed():
    strat = strategy()
    first = enter(strat, ctx_at(time(10, 30)))
    [f] = strat.on_schedule(FLATTEN, ctx_at(time(15, 30)))
    strat.on_filled(f.intent, f.intent.limit_pts, f.time_utc)
    assert strat.open_positions() == []
    d = strat.entry_decision(ctx_at(time(10, 30)))
    assert d.codes == ("ALREADY_TRADED_TODAY",) and first.intent.position_id in d.reason_text


def test_when_before_1030_or_no_0dte_expiry_then_declined():
    d = strategy().entry_decision(ctx_at(time(10, 29)))
    assert d.codes[0] == "OUTSIDE_ENTRY_WINDOW" and "entries from 10:30 ET" in d.reason_text
    ctx = ctx_at(time(10, 30))
    ctx = dataclasses.replace(ctx, chain=chain_at(time(10, 30), SPOT_1030, expiry=date(2021, 1, 6)))
    d = strategy().entry_decision(ctx)
    assert d.codes == ("NO_0DTE_EXPIRY",) and "expires today 2021-01-04; listed: 2021-01-06" in d.reason_text


# ----- what the hosts must provide ---------------------------------------------------------------
def test_schedules_and_subscriptions():
    strat = ZeroDte(load_parameters({}))
    assert strat.schedules() == [DailyAt("move_start", time(10, 1)), DailyAt("entry", time(10, 30)),
                                 DailyAt("time_stop", time(15, 0), before_close=True),
                                 DailyAt("flatten", time(15, 30), before_close=True),
                                 EveryMinutes("manage", 5, time(10, 30), time(15, 30))]
    sub = strat.subscription()  # starting cash 100,000: phase 4, SPXW (the default since issue 7 item 10)
    assert (sub.root, sub.kind, sub.dte_min, sub.dte_max, sub.needs_vix) == ("SPXW", "index_option", 0, 0, True)
    es = {"zdte_underlying": "ES"}
    assert ZeroDte(load_parameters({**es, "starting_cash_usd": "30000"})).subscription().root == "MES"
    sub = ZeroDte(load_parameters(es)).subscription()
    assert (sub.root, sub.kind) == ("ES", "future_option")
