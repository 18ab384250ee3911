"""Issue 7 item 9d: history-based rules are ready from the first day of a backtest and after a
live restart, through main.py on the REAL ES chain of 2020-01-06 10:00 New York.

LEAN source (QuantConnect/Lean): ``Algorithm/QCAlgorithm.History.cs`` ``History(symbol,
periods, resolution)`` serves bars before the algorithm's start (a backtest's first day) and
in live mode from the history provider; ``Common/Storage/ObjectStore.cs`` (``ContainsKey``,
``Read``, ``Save``) keeps the strangle's IV readings across a live restart. The stand-in's
``history`` serves ``history_frames``; its object store is a dict shared by two runs.

Daily bars (ATR, EMA, the 20-day range) were already read with ``history(symbol, 300,
Resolution.DAILY)`` once per New York day (leanhost/subscriptions.py ``DailyHistory``), so the
first decision has them: the first test shows it for the strangle's 20-day range.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, timedelta
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
from es_world import PREV_SESSION, RELAXED, calm_es_market, es_daily_frame, fire, install_es_chain
from gate_world import daily_frame

STRANGLE = "futures_strangle"
RANKED = {**RELAXED, "strangle_iv_rank_min_frac": "0.30", "strangle_consolidation_days": "2"}
VIX_NOW = 13.85  # GIVEN (gate_world.VIX_LEVEL)


def _vix_history(closes: list[float]) -> pd.DataFrame:
    """GIVEN VIX daily closes on the weekdays before 2020-01-06, the last on 2020-01-03."""
    days = pd.bdate_range(end=pd.Timestamp(PREV_SESSION), periods=len(closes)).date
    return daily_frame("VIX", {d: (c, c, c) for d, c in zip(days, closes, strict=True)})


def _entry(algorithm: Any) -> Any:
    [decision] = [e for e in algorithm.journal.decisions() if e.strategy == STRANGLE]
    return decision


def test_on_a_backtests_first_day_the_iv_rank_is_the_labelled_vix_proxy(
        lean: ModuleType, make_algorithm: Callable[..., Any]) -> None:
    closes = [10.0 + (i % 21) for i in range(259)] + [14.02]  # GIVEN: 260 sessions, 10..30
    algorithm = make_algorithm(**RANKED)
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    algorithm.history_frames["VIX"] = _vix_history(closes)

    fire(algorithm, f"{STRANGLE}:entry")

    entry = _entry(algorithm)
    window = (closes + [VIX_NOW])[-252:]
    expected = (VIX_NOW - min(window)) / (max(window) - min(window))  # (13.85 - 10) / 20
    assert entry.details["iv_rank_frac"] == round(expected, 4) == 0.1925
    assert entry.details["iv_rank_source"] == "VIX proxy (1 own IV reading(s) so far)"
    assert "IV_RANK_LOW" in entry.codes and "IV rank 0.19 < 0.30 (VIX proxy" in entry.text
    assert "IV_RANK_UNAVAILABLE" not in entry.codes and "CONSOLIDATION_UNAVAILABLE" not in entry.codes
    assert "range_frac" in entry.details  # the 2-day range, from the daily history of the first day


def test_without_the_proxy_the_first_day_says_why(lean: ModuleType, make_algorithm: Callable[..., Any]) -> None:
    algorithm = make_algorithm(**RANKED, strangle_iv_rank_vix_proxy="false")
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    fire(algorithm, f"{STRANGLE}:entry")
    entry = _entry(algorithm)
    assert "IV_RANK_UNAVAILABLE" in entry.codes and "1 daily IV reading(s) since 2019-01-18 < 20" in entry.text  # issue 11: window named
    assert "iv_rank_source" not in entry.details


def test_after_a_live_restart_the_saved_iv_readings_rank_todays(lean: ModuleType,
                                                                 make_algorithm: Callable[..., Any]) -> None:
    first = date(2019, 11, 25)
    saved = {(first + timedelta(days=k)).isoformat(): 0.10 + 0.005 * k for k in range(25)}  # GIVEN: 0.10..0.22
    store = lean.ObjectStore()
    # issue 11: saved with the basis of the readings (the 90-day constant-maturity ATM IV)
    store.values["thetadesk/iv_readings/futures_strangle"] = json.dumps({"basis": "cm_atm_iv_90d",
                                                                         "readings": saved})

    def live(algorithm: Any) -> None:
        algorithm.live_mode, algorithm.object_store = True, store
    algorithm = make_algorithm(setup=live, **RANKED)
    strangle = algorithm.strategies[STRANGLE]
    assert len(strangle.iv_readings) == 25  # restored at start
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    fire(algorithm, f"{STRANGLE}:entry")

    entry = _entry(algorithm)
    today = strangle.iv_readings[date(2020, 1, 6)]  # the 90-day CM ATM IV read from the real chain today
    # interpolated across March and June: the subscription now reaches the June expiry
    # (strangle_iv_cm_subscribe_dte_max 200; the hand value on the replay chain is in
    # tests/strategies/test_iv_rank.py)
    assert _entry(algorithm).details["atm_iv_basis"] == "interpolated 2020-03-20/2020-06-19"
    values = [*saved.values(), today]
    expected = (today - min(values)) / (max(values) - min(values))
    assert entry.details["iv_rank_source"] == "ATM IV"
    assert entry.details["iv_rank_frac"] == round(expected, 4)
    written = json.loads(store.values["thetadesk/iv_readings/futures_strangle"])
    assert written["basis"] == "cm_atm_iv_90d"
    assert len(written["readings"]) == 26 and written["readings"]["2020-01-06"] == round(today, 6)


def test_a_live_restart_does_not_restore_readings_of_the_old_basis(lean: ModuleType,
                                                                   make_algorithm: Callable[..., Any]) -> None:
    """Readings saved before issue 11 (plain ``{date: iv}``: the traded expiry's ATM IV) are
    not comparable with constant-maturity readings: logged, not restored; the first day ranks
    the labelled VIX proxy, and the save rewrites the key with the new basis."""
    store = lean.ObjectStore()
    old = {(date(2019, 11, 25) + timedelta(days=k)).isoformat(): 0.3 for k in range(25)}
    store.values["thetadesk/iv_readings/futures_strangle"] = json.dumps(old)

    def live(algorithm: Any) -> None:
        algorithm.live_mode, algorithm.object_store = True, store
    algorithm = make_algorithm(setup=live, **RANKED)
    strangle = algorithm.strategies[STRANGLE]
    assert strangle.iv_readings == {}
    assert any("of basis traded-expiry ATM IV, not cm_atm_iv_90d: not restored" in m for m in algorithm.logs)
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    algorithm.history_frames["VIX"] = _vix_history([10.0 + (i % 21) for i in range(260)])
    fire(algorithm, f"{STRANGLE}:entry")
    assert _entry(algorithm).details["iv_rank_source"] == "VIX proxy (1 own IV reading(s) so far)"
    written = json.loads(store.values["thetadesk/iv_readings/futures_strangle"])
    assert written["basis"] == "cm_atm_iv_90d" and list(written["readings"]) == ["2020-01-06"]


def test_a_backtest_neither_restores_nor_saves_iv_readings(lean: ModuleType,
                                                           make_algorithm: Callable[..., Any]) -> None:
    store = lean.ObjectStore()
    store.values["thetadesk/backtest/iv_readings/futures_strangle"] = json.dumps({"2019-12-02": 0.5})
    algorithm = make_algorithm(setup=lambda a: setattr(a, "object_store", store), **RANKED)
    assert algorithm.strategies[STRANGLE].iv_readings == {}
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    fire(algorithm, f"{STRANGLE}:entry")
    assert not any("iv_readings" in key for key, _ in store.saves)


def test_daily_bars_and_vix_closes_come_from_history_on_the_first_decision(lean: ModuleType,
                                                            make_algorithm: Callable[..., Any]) -> None:
    algorithm = make_algorithm(**RANKED)
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    fire(algorithm, f"{STRANGLE}:entry")
    feed = algorithm.market.feed_of(algorithm.strategies[STRANGLE])
    ctx = algorithm.market.context(feed, algorithm.utc_time.replace(tzinfo=UTC))
    bars = ctx.underlying_daily
    assert bars is not None and len(bars.day) == len(es_daily_frame()) == 2
    assert np.datetime64("2020-01-03") == bars.day[-1]
    assert ctx.vix_daily is not None and float(ctx.vix_daily.close_pts[-1]) == 14.02  # gate_world's GIVEN close
