"""main.py's initialize through the stand-in: parameters, brokerage and fees,
subscriptions and filters, schedules and their time windows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from types import ModuleType, SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from switches import only

from strategies.base import Subscription
from thetacore.parameters import ParameterError, Parameters
from thetacore.structures import UnderlyingKind

TODAY = datetime(2020, 1, 6)
SPOT = 3240.0
DAYS = (10, 74, 165)
STRIKES = (2000.0, 2500.0, 3200.0, 4000.0, 4100.0)


def _universe(lean: ModuleType) -> Any:
    """A filter universe of every (DTE, strike) pair of DAYS x STRIKES around SPOT."""
    rows = [
        SimpleNamespace(id=SimpleNamespace(date=TODAY + timedelta(days=d), strike_price=k))
        for d in DAYS
        for k in STRIKES
    ]
    return lean.OptionFilterUniverse(rows, lean.BaseData(None, SPOT), TODAY)


def _event(algorithm: Any, name: str) -> Any:
    [event] = [e for e in algorithm.schedule.events if e.name == name]
    return event


def test_when_the_strangle_runs_alone_then_es_and_its_options_are_subscribed(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = make_algorithm(**only("futures_strangle"))

    # ES, then MES with the same windows (micro_move_enabled: the halve step's move, issue 11)
    (future, options), (micro, micro_options) = algorithm.futures
    assert future.symbol.id.symbol == lean.Futures.Indices.SP_500_E_MINI
    assert micro.symbol.id.symbol == lean.Futures.Indices.MICRO_SP_500_E_MINI
    assert micro_options == options and micro.filter_days == future.filter_days
    assert micro.symbol_properties.contract_multiplier == 5.0
    assert (
        options["resolution"] == lean.Resolution.MINUTE and options["extended_market_hours"] is True
    )
    p = Parameters()
    # issue 11 (i11d): the strangle subscribes expiries out to strangle_iv_cm_subscribe_dte_max (200)
    # so two listed expiries bracket its 90-day constant-maturity IV reading; the futures out to
    # that + a quarter (was strangle_dte_max + 92 = 197)
    assert future.filter_days == (0, max(p.strangle_dte_max, p.strangle_iv_cm_subscribe_dte_max) + 92) == (0, 292)
    [(underlying, option_filter), (micro_underlying, _)] = algorithm.future_option_filters
    assert (underlying, micro_underlying) == (future.symbol, micro.symbol)
    sub = algorithm.strategies["futures_strangle"].subscription()
    kept = option_filter(_universe(lean))
    assert {(r.id.date - TODAY).days for r in kept.rows} == {
        d for d in DAYS if sub.dte_min <= d <= sub.dte_max
    }
    assert {r.id.strike_price for r in kept.rows} == {
        k for k in STRIKES if abs(k / SPOT - 1) <= sub.strike_range_frac
    }
    assert (algorithm.start_date, algorithm.end_date) == (date(2020, 1, 6), date(2020, 1, 6))
    assert algorithm.cash == p.starting_cash_usd


def test_when_brokerage_parameter_is_set_then_that_brokerage_model_is_used(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    tasty = make_algorithm(brokerage="tastytrade")
    ib = make_algorithm(brokerage="interactive_brokers")

    assert tasty.brokerage == (lean.BrokerageName.TASTYTRADE, lean.AccountType.MARGIN)
    assert ib.brokerage == (
        lean.BrokerageName.INTERACTIVE_BROKERS_BROKERAGE,
        lean.AccountType.MARGIN,
    )
    assert len(tasty.security_initializers) == 1 and ib.security_initializers == []


def test_when_initialized_then_entry_manage_and_time_out_events_are_scheduled(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = make_algorithm(**only("futures_strangle"))
    es = algorithm.futures[0][0].symbol

    entry = _event(algorithm, "futures_strangle:entry")
    manage = _event(algorithm, "futures_strangle:manage")
    timeouts = _event(algorithm, "orders:time-outs")

    assert entry.date_rule == lean.DateRules().every_day(es)
    assert entry.time_rule.kind == "at" and entry.time_rule.args == (10, 0, lean.TimeZones.NEW_YORK)
    assert manage.date_rule.symbol == es
    assert manage.time_rule.kind == "every" and manage.time_rule.args == (timedelta(minutes=30),)
    assert timeouts.time_rule.args == (timedelta(minutes=1),)


def test_when_every_strategy_is_disabled_then_nothing_is_subscribed_or_scheduled(
    make_algorithm: Callable[..., Any],
) -> None:
    algorithm = make_algorithm(**only())
    assert algorithm.futures == [] and algorithm.schedule.events == []
    assert algorithm.indexes == [] and algorithm.equities == []


def test_when_a_parameter_is_bad_then_initialize_stops_naming_it(main_module: ModuleType) -> None:
    algorithm = main_module.ThetaDeskAlgorithm()
    algorithm.parameters["strangle_dte_min"] = "ninety"

    with pytest.raises(ParameterError, match="strangle_dte_min"):
        algorithm.initialize()
    assert any("strangle_dte_min" in e for e in algorithm.errors)
    assert algorithm.futures == []


@pytest.mark.parametrize(
    ("utc", "runs"),
    [
        (datetime(2020, 1, 6, 13, 0), False),  # 08:00 ET
        (datetime(2020, 1, 6, 15, 30), True),  # 10:30 ET
        (datetime(2020, 1, 6, 21, 0), True),  # 16:00 ET
        (datetime(2020, 1, 6, 21, 30), False),
    ],
)  # 16:30 ET
def test_when_manage_event_fires_then_only_times_inside_the_window_reach_the_strategy(
    make_algorithm: Callable[..., Any], utc: datetime, runs: bool
) -> None:
    algorithm = make_algorithm(**only("futures_strangle"))
    calls: list[str] = []
    algorithm.strategies["futures_strangle"].on_schedule = lambda name, ctx: (
        calls.append(name) or []
    )
    algorithm.utc_time = utc

    _event(algorithm, "futures_strangle:manage").callback()

    assert calls == (["manage"] if runs else [])


def test_when_the_algorithm_ends_then_the_journal_summary_is_logged(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = make_algorithm(**only("futures_strangle"))
    algorithm.utc_time = TODAY.replace(hour=15)
    _event(algorithm, "futures_strangle:entry").callback()

    algorithm.on_end_of_algorithm()

    assert any(line.startswith("journal: 1 decision(s)") for line in algorithm.logs)
    assert any("reason NO_CHAIN: 1" in line for line in algorithm.logs)


def test_when_warming_up_then_no_decision_is_made(make_algorithm: Callable[..., Any]) -> None:
    algorithm = make_algorithm(**only("futures_strangle"))
    calls: list[str] = []
    algorithm.strategies["futures_strangle"].on_schedule = lambda name, ctx: (
        calls.append(name) or []
    )
    algorithm.is_warming_up = True

    _event(algorithm, "futures_strangle:entry").callback()

    assert calls == []


def test_when_option_filter_runs_then_it_keeps_the_dte_and_strike_window(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    sub = Subscription("ES", "future_option", 0, 135, 0.25)

    kept = host("option_filters").option_filter(sub)(_universe(lean))

    assert {(r.id.date - TODAY).days for r in kept.rows} == {10, 74}
    assert {r.id.strike_price for r in kept.rows} == {2500.0, 3200.0, 4000.0}


def test_when_the_underlying_has_no_price_then_the_filter_keeps_every_strike(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    sub = Subscription("ES", "future_option", 0, 135, 0.25)
    universe = _universe(lean)
    universe.underlying = None

    kept = host("option_filters").option_filter(sub)(universe)

    assert {r.id.strike_price for r in kept.rows} == set(STRIKES)


def test_when_tastytrade_then_option_securities_get_the_project_fee_model(
    lean: ModuleType, make_algorithm: Callable[..., Any], host: Callable[[str], ModuleType]
) -> None:
    brokerage = host("brokerage")
    algorithm = make_algorithm(brokerage="tastytrade")
    future = lean.Symbol.future("ES", "ESH20", datetime(2020, 3, 20))
    option = lean.Symbol.future_option(future, lean.OptionRight.PUT, 3000.0, datetime(2020, 3, 20))
    props = lean.SymbolProperties(50.0, 0.25)
    fut_sec = algorithm.add_security(lean.Security(future, lean.SecurityType.FUTURE, props))
    opt_sec = algorithm.add_security(lean.Security(option, lean.SecurityType.FUTURE_OPTION, props))

    assert fut_sec.fee_model is None
    model = opt_sec.fee_model
    assert isinstance(model, brokerage.TastytradeOptionFeeModel)
    sell_to_open = model.get_order_fee(
        SimpleNamespace(security=opt_sec, order=SimpleNamespace(quantity=-2))
    )
    opt_sec.holdings.quantity = -2
    buy_to_close = model.get_order_fee(
        SimpleNamespace(security=opt_sec, order=SimpleNamespace(quantity=2))
    )
    assert sell_to_open.value.currency == "USD"
    assert sell_to_open.value.amount == pytest.approx(2 * (2.50 + 0.30 + 0.57))
    assert buy_to_close.value.amount == pytest.approx(2 * (0.30 + 0.57))


def test_when_an_order_crosses_zero_then_only_the_part_beyond_zero_pays_the_commission(
    host: Callable[[str], ModuleType],
) -> None:
    fee = host("brokerage").order_fee_usd(Parameters(), UnderlyingKind.FUTURE, -1, 3, False)
    assert fee == pytest.approx(1 * 0.87 + 2 * 3.37)


def test_when_history_frame_is_leans_then_daily_bars_are_one_per_session(
    host: Callable[[str], ModuleType],
) -> None:
    subscriptions = host("subscriptions")
    ends = pd.to_datetime(["2020-01-02 17:00", "2020-01-03 17:00", "2020-01-07 00:00"])
    index = pd.MultiIndex.from_arrays(
        [[pd.Timestamp("2020-03-20")] * 3, ["ESH20"] * 3, ends], names=["expiry", "symbol", "time"]
    )
    frame = pd.DataFrame(
        {
            "open": [1.0, 2, 3],
            "high": [3250.0, 3260, 3270],
            "low": [3200.0, 3210, 3220],
            "close": [3240.0, 3250, 3230],
        },
        index=index,
    )

    bars = subscriptions.daily_bars_from_frame(frame)

    assert bars is not None
    assert list(bars.day.astype(object)) == [date(2020, 1, 2), date(2020, 1, 3), date(2020, 1, 6)]
    assert list(bars.close_pts) == [3240.0, 3250.0, 3230.0]
    assert subscriptions.daily_bars_from_frame(pd.DataFrame()) is None
