"""Equity options through the host, on MODELLED SPY chains (``replay.model_chain``, default
smile: 18% ATM IV, skew 2) around REAL SPY closes (``data/equity/usa/daily/spy.zip``), with the
REAL SPY daily bars as LEAN's history and a GIVEN VIX for the risk gate (13.85, previous close
14.02): the LEAP put ladder and IPMCC send single-leg limit
orders; a single-contract (LEAP) feed is read from the subscribed securities; assignment of a
short SPY put delivers shares, loudly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from es_world import fire
from fake_strategies import Scripted, declined, open_intent, row
from gate_world import give_vix
from usa_world import install_chain, modelled_chain, spy_close, spy_history_frame

from strategies.base import MarketContext, PositionState, Subscription
from strategies.ipmcc import Ipmcc
from strategies.leap_puts import LeapPuts
from thetacore.decisions import Decision
from thetacore.enums import ExerciseStyle, Right, Settlement
from thetacore.pricing import et_instant_utc

MONDAY = date(2021, 1, 4)
FRIDAY = date(2021, 1, 8)
PREVIOUS_SESSION = {MONDAY: date(2020, 12, 31), FRIDAY: date(2021, 1, 7)}
WIDE_RISK_CAP = {"max_risk_per_trade_hard_frac": "0.3"}
"""The gate's hard per-trade cap raised from 5% to 30% of the 100,000 USD account for these
wiring tests: a naked 280 put sold at 7.85 risks (280 - 7.85) x 100 = 27,215 USD and an
80.09 LEAP call 8,009 USD, both above 5% (see the refusal test below)."""
MONTHLIES = [date(2021, 1, 15) + timedelta(weeks=4 * i) for i in range(1, 20)]  # 4-weekly out to ~2022-05


def _spy_chain(day: date, clock: time, expiries: list[date]) -> Any:
    """MODELLED SPY chain at ``clock`` ET on ``day`` around the REAL close, $1 strikes +-150."""
    return modelled_chain("SPY", et_instant_utc(day, clock), spy_close(day), expiries, 1.0, 150)


def _orders(algorithm: Any) -> list[tuple[str, float, float]]:
    return [(t.symbol.value, t.quantity, t.limit_price) for t in algorithm.limit_orders]


# ----- LEAP put ladder --------------------------------------------------------------------------
def _rung(lean: ModuleType, make_algorithm: Callable[..., Any], **parameters: str) -> Any:
    algorithm = make_algorithm(lambda p: [LeapPuts(p)], **{**WIDE_RISK_CAP, **parameters})
    algorithm.history_frame = spy_history_frame(MONDAY)
    give_vix(algorithm, PREVIOUS_SESSION[MONDAY])
    # LEAP puts subscribe single contracts (hour bars): the 09:00 ET refresh picks them first
    install_chain(lean, algorithm, _spy_chain(MONDAY, time(9, 0), MONTHLIES), "SPY", "SPY", contracts=True)
    fire(algorithm, "equity_option:SPY:contracts")
    install_chain(lean, algorithm, _spy_chain(MONDAY, time(10, 0), MONTHLIES), "SPY", "SPY", contracts=True)
    fire(algorithm, "leap_puts:rung")
    return algorithm


def test_when_a_leap_put_rung_is_sold_then_one_single_leg_limit_order_goes_out(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _rung(lean, make_algorithm)

    [decision] = algorithm.journal.decisions()
    assert decision.action == "ENTERED", decision.text
    assert "280P] 375 DTE at 0.131 delta" in decision.text
    assert algorithm.combo_orders == []
    assert _orders(algorithm) == [("SPY   220114P00280000", -1, 7.85)]  # sell 1 at 7.85 (limit -7.85 net)
    assert [e.action for e in algorithm.journal.entries if e.kind == "order"] == ["SENT"]

    algorithm.fill(algorithm.limit_orders[0], 7.90)

    [position] = algorithm.strategies["leap_puts"].positions.values()
    assert position.state is PositionState.OPEN and position.entry_net_pts == pytest.approx(-7.90)


def test_when_the_gate_keeps_its_default_caps_then_the_naked_rung_is_measured_by_its_margin_stress_loss(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """A naked put is undefined risk: its per-trade risk is the Reg-T margin stress loss, not
    the strike x 100 loss at a zero underlying (docs/strategy-rules.md, "max risk per trade")."""
    algorithm = _rung(lean, make_algorithm, max_risk_per_trade_hard_frac="0.05")

    [verdict] = algorithm.journal.verdicts()
    assert (verdict.action, verdict.codes) == ("APPROVE", ("TRADE_RISK_ABOVE_TARGET",))
    assert "margin stress loss" in verdict.text and "max loss 27,215" not in verdict.text
    assert _orders(algorithm) == [("SPY   220114P00280000", -1, 7.85)]


def test_when_the_short_leap_put_is_assigned_then_the_rung_settles_and_the_shares_raise_an_alert(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """Assignment at a GIVEN SPY price of 270.00 (10 below the 280 strike)."""
    algorithm = _rung(lean, make_algorithm)
    ticket = algorithm.limit_orders[0]
    algorithm.fill(ticket, 7.90)
    spy = next(s for s in algorithm.securities.values() if s.symbol.value == "SPY")
    spy.price = 270.0

    algorithm.exercise(ticket.symbol, in_the_money=True, message="Assigned")

    [position] = algorithm.strategies["leap_puts"].positions.values()
    assert position.state is PositionState.CLOSED and position.exit_net_pts == pytest.approx(10.0)
    codes = [e.action for e in algorithm.journal.entries if e.kind == "order"]
    assert codes[-4:] == ["ASSIGNED", "SETTLED", "REALIZED", "DELIVERY"]
    # the gate counts the loss: -(-7.90 + 10.00) x 1 x 100 less the 1.10 USD opening fee
    assert "-211.10 USD after 1.10 USD fees" in algorithm.journal.entries[-2].text
    assert algorithm.risk.session.stats["leap_puts"].losses == 1
    assert [e.split(":")[0] for e in algorithm.errors] == ["ALERT ASSIGNED", "ALERT DELIVERY"]
    assert "+100 SPY at 280 delivered" in algorithm.errors[-1]


# ----- IPMCC ------------------------------------------------------------------------------------
def _ipmcc_leap_and_weekly(lean: ModuleType, make_algorithm: Callable[..., Any]) -> tuple[Any, list[date]]:
    """An IPMCC host on Friday 2021-01-08 (MODELLED SPY chain at 10:00 ET, six weeklies and the
    2022-01-21 LEAP) that has bought its LEAP (filled at 80.09) and fired its weekly-call sale:
    weekly sale at 10:00 ET (the rules' 09:15 is before the option session), LEAP extrinsic limit
    20% (the modelled 80-delta LEAP carries 14.3%). Returns the algorithm and the weeklies."""
    algorithm = make_algorithm(lambda p: [Ipmcc(p)], ipmcc_short_time_et="10:00",
                               ipmcc_leap_max_extrinsic_frac="0.2", **WIDE_RISK_CAP)
    algorithm.history_frame = spy_history_frame(FRIDAY)
    give_vix(algorithm, PREVIOUS_SESSION[FRIDAY])
    weeklies = [FRIDAY + timedelta(days=7 * i) for i in range(6)]
    install_chain(lean, algorithm, _spy_chain(FRIDAY, time(10, 0), [*weeklies, date(2022, 1, 21)]), "SPY", "SPY")
    fire(algorithm, "ipmcc:leap")
    algorithm.fill(algorithm.limit_orders[0], 80.09)
    fire(algorithm, "ipmcc:short")
    return algorithm, weeklies


def test_when_ipmcc_buys_its_leap_and_sells_the_weekly_then_each_is_a_single_leg_limit(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """Weekly sale moved to 10:00 ET (the rules' 09:15 is before the option session) and the
    LEAP extrinsic limit relaxed to 20% (the modelled 80-delta LEAP carries 14.3%)."""
    algorithm, _ = _ipmcc_leap_and_weekly(lean, make_algorithm)

    assert [d.action for d in algorithm.journal.decisions()] == ["ENTERED", "ENTERED"]
    assert _orders(algorithm) == [("SPY   220121C00313000", 1, 80.09), ("SPY   210115C00381000", -1, 3.96)]
    assert algorithm.combo_orders == []


def test_when_the_weekly_call_is_in_the_money_on_its_expiry_day_then_the_host_buys_it_back_before_the_close(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """The IPMCC ``expiry`` rule is a LEAN scheduled event 15 minutes before the market close
    (``time_rules.before_market_close(SPY, 15)``: 15:45 ET on a full day, earlier on an early
    close). The 381 call sold on 2021-01-08 meets a GIVEN SPY of 381.50 at 15:45 ET on its
    expiry day 2021-01-15 (in the money by 0.50): it is bought back (a one-leg buy limit at or
    above its 0.50 intrinsic value), not left to be assigned."""
    algorithm, weeklies = _ipmcc_leap_and_weekly(lean, make_algorithm)
    [event] = [e for e in algorithm.schedule.events if e.name == "ipmcc:expiry"]
    assert event.time_rule.kind == "before_market_close" and event.time_rule.args[1] == 15
    algorithm.fill(algorithm.limit_orders[1], 3.96)
    expiry = date(2021, 1, 15)
    give_vix(algorithm, date(2021, 1, 14))
    chain = modelled_chain("SPY", et_instant_utc(expiry, time(15, 45)), 381.50, [*weeklies[1:], date(2022, 1, 21)],
                           1.0, 150)
    install_chain(lean, algorithm, chain, "SPY", "SPY")

    fire(algorithm, "ipmcc:expiry")

    last = algorithm.journal.decisions()[-1]
    assert last.action == "EXITED" and last.codes == ("EXPIRY_ITM",)
    assert "spot 381.50 > strike 381" in last.text
    symbol, quantity, limit = _orders(algorithm)[-1]
    assert (symbol, quantity) == ("SPY   210115C00381000", 1) and limit >= 0.50


# ----- a single-contract (LEAP) feed --------------------------------------------------------------
def _leap_call(strategy: Scripted, rule: str, ctx: MarketContext) -> list[Decision]:
    """Buy the call whose strike is nearest 80% of spot at the expiry nearest 365 DTE, at its ask."""
    chain = ctx.chain
    if chain is None:
        return [declined(strategy, ctx, "NO_CHAIN", ctx.chain_problem)]
    dte = chain.dte_days(ctx.today_et)
    expiry = chain.expiry[np.argmin(np.abs(dte - 365))]
    calls = (chain.expiry == expiry) & (chain.right == int(Right.CALL))
    strike = chain.strike_pts[calls][np.argmin(np.abs(chain.strike_pts[calls] - 0.8 * ctx.underlying_pts))]
    i = row(chain, expiry, Right.CALL, strike)
    return [open_intent(strategy, ctx, [(i, 1)], float(chain.ask_pts[i]))]


def test_when_leap_contracts_are_single_subscriptions_then_the_snapshot_reads_their_securities(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    sub = Subscription("SPY", "equity_option", 300, 430, 0.25, resolution="hour", contracts_only=True)
    algorithm = make_algorithm(lambda p: [Scripted("leap", sub, _leap_call)], **WIDE_RISK_CAP)
    algorithm.history_frame = spy_history_frame(MONDAY)
    give_vix(algorithm, PREVIOUS_SESSION[MONDAY])
    chain = _spy_chain(MONDAY, time(9, 0), MONTHLIES)
    install_chain(lean, algorithm, chain, "SPY", "SPY", contracts=True)
    fire(algorithm, "equity_option:SPY:contracts")  # 09:00 ET refresh
    picked = {(s.id.date.date(), s.id.strike_price) for s, _ in algorithm.added_contracts}
    assert {e for e, _ in picked} == {e for e in MONTHLIES if 300 <= (e - MONDAY).days <= 430}
    assert {k for _, k in picked} == set(np.arange(277.0, 461.0))  # within 25% of 368.79: 276.59..460.99
    later = _spy_chain(MONDAY, time(10, 0), MONTHLIES)
    install_chain(lean, algorithm, later, "SPY", "SPY", contracts=True)  # the hour bars of 10:00

    fire(algorithm, "leap:entry")

    [ctx] = algorithm.strategies["leap"].contexts
    assert ctx.chain is not None and len(ctx.chain) == 2 * len(picked) and ctx.chain_problem == ""
    assert (ctx.chain.style, ctx.chain.settlement) == (ExerciseStyle.AMERICAN, Settlement.PHYSICAL)
    assert ctx.underlying_pts == spy_close(MONDAY) == 368.79
    [ticket] = algorithm.limit_orders
    assert (ticket.symbol.value, ticket.quantity) == ("SPY   220114C00295000", 1)  # 375 DTE, 0.8 x 368.79
    i = row(later, np.datetime64("2022-01-14"), Right.CALL, 295.0)
    assert ticket.limit_price == later.ask_pts[i]


def test_when_no_contract_is_picked_yet_then_the_context_says_why_and_nothing_is_sent(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    sub = Subscription("SPY", "equity_option", 300, 430, 0.25, resolution="hour", contracts_only=True)
    algorithm = make_algorithm(lambda p: [Scripted("leap", sub, _leap_call)])
    algorithm.utc_time = datetime(2021, 1, 4, 15, 0)

    fire(algorithm, "leap:entry")

    [decision] = algorithm.journal.decisions()
    assert decision.codes == ("NO_CHAIN",) and "no SPY contract picked yet" in decision.text
    assert algorithm.limit_orders == []
