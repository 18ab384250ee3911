"""Feeds through the stand-in: one subscription per (kind, root) for every strategy family,
filters that keep the union of the members' windows, single LEAP contracts picked daily,
VIX, net liquidation value and the events file in the market context."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest
from fake_strategies import Scripted

from strategies.base import Subscription
from thetacore.events import EventFileError

TODAY = datetime(2021, 1, 4)
SPOT = 3700.0


def _universe(lean: ModuleType, days: tuple[int, ...], strikes: tuple[float, ...]) -> Any:
    rows = [SimpleNamespace(id=SimpleNamespace(date=TODAY + timedelta(days=d), strike_price=k))
            for d in days for k in strikes]
    return lean.OptionFilterUniverse(rows, lean.BaseData(None, SPOT), TODAY)


def _scripted(sub: Subscription, name: str = "fake") -> Callable[[Any], list[Any]]:
    return lambda params: [Scripted(name, sub, lambda s, r, c: [])]


def _event(algorithm: Any, name: str) -> Any:
    [event] = [e for e in algorithm.schedule.events if e.name == name]
    return event


# ----- index options ------------------------------------------------------------------------
def test_when_zero_dte_trades_spxw_then_spx_spxw_and_vix_are_subscribed_and_its_rules_scheduled(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    from strategies.zero_dte import ZeroDte

    algorithm = make_algorithm(lambda p: [ZeroDte(p)], zdte_underlying="SPXW")

    (spx, spx_res), (vix, vix_res) = algorithm.indexes
    assert (spx.symbol.value, vix.symbol.value) == ("SPX", "VIX")
    assert spx_res == vix_res == lean.Resolution.MINUTE
    [(option, root, res)] = algorithm.option_universes
    assert (root, res, option.symbol.underlying) == ("SPXW", lean.Resolution.MINUTE, spx.symbol)
    kept = option.filter(_universe(lean, (0, 1, 2), (3500.0, 3600.0, 3700.0, 3850.0, 3900.0)))
    assert kept.weeklys_included
    assert {(r.id.date - TODAY).days for r in kept.rows} == {0}
    assert {r.id.strike_price for r in kept.rows} == {3600.0, 3700.0, 3850.0}  # 0.05 of 3700: 3515..3885
    entry = _event(algorithm, "zero_dte:entry")
    assert entry.date_rule == lean.DateRules().every_day(spx.symbol)
    assert entry.time_rule.args == (10, 30, lean.TimeZones.NEW_YORK)
    assert {e.name for e in algorithm.schedule.events} == {
        "zero_dte:move_start", "zero_dte:entry", "zero_dte:time_stop", "zero_dte:flatten", "zero_dte:manage",
        "orders:time-outs", "gate:nlv", "host:reconcile", "host:margin", "report:daily"}
    nlv = _event(algorithm, "gate:nlv")
    assert (nlv.date_rule.symbol, nlv.time_rule.args) == (spx.symbol, (timedelta(minutes=30),))


def test_when_spx_and_spxw_feeds_both_run_then_the_index_is_added_once(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    def both(params: Any) -> list[Any]:
        return [Scripted("w", Subscription("SPXW", "index_option", 0, 0, 0.05), lambda s, r, c: []),
                Scripted("m", Subscription("SPX", "index_option", 105, 135, 0.2), lambda s, r, c: [])]

    algorithm = make_algorithm(both)

    assert [s.symbol.value for s, _ in algorithm.indexes] == ["SPX", "VIX"]  # VIX for the risk gate
    assert [root for _, root, _ in algorithm.option_universes] == ["SPXW", "SPX"]


# ----- futures options shared by several strategies ---------------------------------------------
def test_when_three_strategies_share_es_then_one_future_and_the_union_of_their_windows(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    def three(params: Any) -> list[Any]:
        return [Scripted(n, Subscription("ES", "future_option", lo, hi, frac), lambda s, r, c: [])
                for n, lo, hi, frac in (("zdte", 0, 0, 0.05), ("strangle", 75, 105, 0.25), ("lt112", 105, 135, 0.2))]

    algorithm = make_algorithm(three)

    (future, _), (micro, _) = algorithm.futures  # MES next to ES: the halve step's move (issue 11)
    assert future.filter_days == micro.filter_days == (0, 135 + 92)
    [(_, option_filter), (_, micro_filter)] = algorithm.future_option_filters
    universe = _universe(lean, (0, 10, 90, 120), (2900.0, 3000.0, 3700.0))
    assert option_filter(universe).rows == micro_filter(universe).rows
    kept = option_filter(_universe(lean, (0, 10, 90, 120), (2900.0, 3000.0, 3700.0)))
    assert {((r.id.date - TODAY).days, r.id.strike_price) for r in kept.rows} == {
        (0, 3700.0),  # 0DTE at the money
        (90, 2900.0), (90, 3000.0), (90, 3700.0),  # strangle: 2775..4625
        (120, 3000.0), (120, 3700.0),  # LT112: 2960..4440
    }  # 10 DTE is in no window; 0DTE 2900/3000 are beyond 5%


def test_when_a_subscription_cannot_be_served_then_initialize_stops_naming_it(
    make_algorithm: Callable[..., Any],
) -> None:
    with pytest.raises(ValueError, match="contracts_only is supported for equity_option only"):
        make_algorithm(_scripted(Subscription("SPXW", "index_option", 0, 0, 0.05, contracts_only=True)))
    with pytest.raises(ValueError, match="kind must be one of"):
        make_algorithm(_scripted(Subscription("SPY", "stock_option", 0, 0, 0.05)))
    with pytest.raises(ValueError, match="no index for option root 'NDXP'"):
        make_algorithm(_scripted(Subscription("NDXP", "index_option", 0, 0, 0.05)))
    with pytest.raises(ValueError, match="no option product facts for root 'IWM'"):
        make_algorithm(_scripted(Subscription("IWM", "equity_option", 0, 10, 0.05)))


# ----- equity options: chains and single LEAP contracts ------------------------------------------
def test_when_an_equity_chain_is_asked_then_spy_is_raw_and_its_option_filter_keeps_the_window(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = make_algorithm(_scripted(Subscription("SPY", "equity_option", 0, 10, 0.03)))

    [(equity, options)] = algorithm.equities
    assert equity.symbol.value == "SPY"
    assert options == {"resolution": lean.Resolution.MINUTE,
                       "data_normalization_mode": lean.DataNormalizationMode.RAW}
    [(option, root, _)] = algorithm.option_universes
    assert root == "SPY" and option.symbol.underlying == equity.symbol
    assert algorithm.added_contracts == []


def _leap_chain(lean: ModuleType, algorithm: Any, spy: Any, price: float) -> None:
    """What ``option_chain(SPY)`` lists: puts at 200/300/400 for 100, 365 and 500 days."""
    canonical = lean.Symbol.canonical_usa_option(spy, "SPY")
    contracts = [
        lean.OptionContract(lean.Symbol.usa_option(spy, "SPY", lean.OptionRight.PUT, k, TODAY + timedelta(days=d)),
                            k, TODAY + timedelta(days=d), lean.OptionRight.PUT, 0.0, 0.0, TODAY)
        for d in (100, 365, 500) for k in (200.0, 300.0, 400.0)
    ]
    algorithm.chains_by_underlying[spy] = lean.OptionChain(canonical, lean.BaseData(spy, price), contracts)


def test_when_leap_contracts_only_then_the_daily_refresh_adds_in_window_and_drops_unheld(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    sub = Subscription("SPY", "equity_option", 300, 430, 0.30, resolution="hour", contracts_only=True)
    algorithm = make_algorithm(_scripted(sub))
    [(equity, options)] = algorithm.equities
    assert options["resolution"] == lean.Resolution.HOUR and algorithm.option_universes == []
    assert algorithm.added_contracts == [] and any("no underlying price" in line for line in algorithm.logs)
    refresh = _event(algorithm, "equity_option:SPY:contracts")
    assert refresh.time_rule.args == (9, 0, lean.TimeZones.NEW_YORK)
    assert refresh.date_rule.symbol == equity.symbol

    algorithm.utc_time = datetime(2021, 1, 4, 14, 0)
    _leap_chain(lean, algorithm, equity.symbol, 370.0)
    refresh.callback()
    added = [(s.id.strike_price, (s.id.date - TODAY).days, r) for s, r in algorithm.added_contracts]
    assert added == [(300.0, 365, lean.Resolution.HOUR), (400.0, 365, lean.Resolution.HOUR)]  # 259..481

    held, dropped = (s for s, _ in algorithm.added_contracts)
    algorithm.securities[held].holdings.quantity = -1
    _leap_chain(lean, algorithm, equity.symbol, 250.0)  # window now 175..325: 200 and 300
    refresh.callback()
    assert algorithm.removed_contracts == [dropped]
    feed = algorithm.market.feeds[("equity_option", "SPY")]
    assert [s.id.strike_price for s in feed.contracts.symbols()] == [300.0, 200.0]


# ----- the market context ---------------------------------------------------------------------
def _context(algorithm: Any, kind: str, root: str) -> Any:
    return algorithm.market.context(algorithm.market.feeds[(kind, root)], datetime(2021, 1, 4, 15, 30, tzinfo=UTC))


def test_when_vix_has_no_data_then_its_level_is_nan_and_with_data_its_price(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = make_algorithm(_scripted(Subscription("SPXW", "index_option", 0, 0, 0.05, needs_vix=True)))
    vix = next(s for s, _ in algorithm.indexes if s.symbol.value == "VIX")

    before = _context(algorithm, "index_option", "SPXW")
    vix.price = 26.97
    after = _context(algorithm, "index_option", "SPXW")

    assert np.isnan(before.vix_level) and after.vix_level == 26.97
    assert np.isnan(before.underlying_pts) and before.chain is None and "no data slice" in before.chain_problem
    assert after.nlv_usd == algorithm.portfolio.total_portfolio_value == 100_000.0


def test_when_no_strategy_reads_vix_then_it_is_still_subscribed_for_the_risk_gate(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = make_algorithm(_scripted(Subscription("SPY", "equity_option", 0, 10, 0.03)))
    [(vix, resolution)] = algorithm.indexes
    assert (vix.symbol.value, resolution) == ("VIX", lean.Resolution.MINUTE)
    assert np.isnan(_context(algorithm, "equity_option", "SPY").vix_level)


def test_when_no_strategy_runs_then_nothing_is_subscribed(make_algorithm: Callable[..., Any]) -> None:
    algorithm = make_algorithm(lambda params: [])
    assert algorithm.indexes == [] and algorithm.market.vix is None
    assert np.isnan(algorithm.market.vix_prev_close(date(2021, 1, 4)))


def _vix_days(closes: dict[date, float]) -> Any:
    """A LEAN daily history frame of VIX (bars end at midnight after their session)."""
    import pandas as pd

    ends = [datetime.combine(d, datetime.min.time()) + timedelta(days=1) for d in closes]
    index = pd.MultiIndex.from_arrays([["VIX"] * len(ends), ends], names=["symbol", "time"])
    values = list(closes.values())
    return pd.DataFrame({"high": values, "low": values, "close": values}, index=index)


def test_when_vix_daily_history_has_the_last_session_then_its_close_is_the_previous_close_once_a_day(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """GIVEN VIX closes (no VIX series in data/): Thursday 12-31 22.75, Monday 01-04 26.97."""
    algorithm = make_algorithm(_scripted(Subscription("SPY", "equity_option", 0, 10, 0.03)))
    algorithm.history_frames["VIX"] = _vix_days({date(2020, 12, 31): 22.75, date(2021, 1, 4): 26.97})

    monday = algorithm.market.vix_prev_close(date(2021, 1, 4))
    again = algorithm.market.vix_prev_close(date(2021, 1, 4))
    tuesday = algorithm.market.vix_prev_close(date(2021, 1, 5))

    assert (monday, again, tuesday) == (22.75, 22.75, 26.97)
    vix_requests = [r for r in algorithm.history_requests if r[0].value == "VIX"]
    # 300 bars since issue 7 item 9d: the previous close and a year of closes for the IV-rank VIX proxy
    assert [(r[1], r[2]) for r in vix_requests] == [(300, lean.Resolution.DAILY)] * 2  # one per day


@pytest.mark.parametrize("closes", [{}, {date(2020, 12, 24): 21.53}])
def test_when_the_previous_vix_close_is_missing_or_stale_then_it_is_nan(
    make_algorithm: Callable[..., Any], closes: dict[date, float]
) -> None:
    """A last session 11 days before 2021-01-04 is a data gap, not a previous close."""
    algorithm = make_algorithm(_scripted(Subscription("SPY", "equity_option", 0, 10, 0.03)))
    algorithm.history_frames["VIX"] = _vix_days(closes)
    assert np.isnan(algorithm.market.vix_prev_close(date(2021, 1, 4)))


def test_when_the_events_file_lists_spy_dates_then_spy_contexts_carry_them(
    make_algorithm: Callable[..., Any],
) -> None:
    algorithm = make_algorithm(_scripted(Subscription("SPY", "equity_option", 0, 10, 0.03)))
    ctx = _context(algorithm, "equity_option", "SPY")
    assert ctx.event_dates == (date(2024, 1, 31), date(2024, 3, 20))  # data/events/events.csv


def test_when_spxw_events_are_listed_under_spx_then_the_spxw_context_has_them(
    lean: ModuleType, make_algorithm: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "events.csv").write_text(
        "symbol,date,kind,note\nSPX,2021-01-27,fomc,x\nSPXW,2021-01-06,other,y\nSPY,2021-02-01,z,z\n")
    monkeypatch.setattr(lean.Globals, "data_folder", str(tmp_path))
    algorithm = make_algorithm(_scripted(Subscription("SPXW", "index_option", 0, 0, 0.05)))
    assert _context(algorithm, "index_option", "SPXW").event_dates == (date(2021, 1, 6), date(2021, 1, 27))


def test_when_the_events_file_is_missing_then_no_dates_and_one_warning(
    lean: ModuleType, make_algorithm: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lean.Globals, "data_folder", str(tmp_path))
    algorithm = make_algorithm(_scripted(Subscription("SPY", "equity_option", 0, 10, 0.03)))
    assert _context(algorithm, "equity_option", "SPY").event_dates == ()
    assert [line for line in algorithm.logs if "no events file" in line] == [
        f"WARNING: no events file at {tmp_path / 'events' / 'events.csv'}: no event avoidance dates"]


def test_when_the_events_file_is_malformed_then_initialize_stops_naming_the_line(
    lean: ModuleType, main_module: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "events.csv").write_text("symbol,date,kind,note\nSPY,2024-13-01,fomc,bad month\n")
    monkeypatch.setattr(lean.Globals, "data_folder", str(tmp_path))
    algorithm = main_module.ThetaDeskAlgorithm()

    with pytest.raises(EventFileError, match="events.csv:2: bad date '2024-13-01'"):
        algorithm.initialize()
    assert any("ThetaDesk cannot start" in e and "events.csv:2" in e for e in algorithm.errors)


def test_when_daily_history_is_asked_twice_a_day_then_lean_is_asked_once_per_feed_kind(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = make_algorithm(_scripted(Subscription("SPY", "equity_option", 0, 10, 0.03)))
    feed = algorithm.market.feeds[("equity_option", "SPY")]

    feed.daily.bars(date(2021, 1, 4))
    feed.daily.bars(date(2021, 1, 4))

    [(symbol, bars, resolution, kwargs)] = algorithm.history_requests
    assert (symbol.value, bars, resolution) == ("SPY", 300, lean.Resolution.DAILY)
    assert kwargs == {"data_normalization_mode": lean.DataNormalizationMode.SPLIT_ADJUSTED}

