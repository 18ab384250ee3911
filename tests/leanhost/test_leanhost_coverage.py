"""Every strategy class in ``strategies/`` is wired through the host: it initialises alone
(its feed subscribed, every rule scheduled on that feed's trading days) and has an order-path
test in this folder. A new strategy fails here until it gets both."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

import strategies
from strategies.base import Strategy
from thetacore.parameters import Parameters

ORDER_PATH_TESTS: dict[str, str] = {
    "FuturesStrangle": "test_leanhost_entry.py, test_leanhost_orders.py (REAL ES chain)",
    "ZeroDte": "test_leanhost_index_options.py (REAL SPXW chain declined; MODELLED SPXW entered)",
    "Lt112": "test_leanhost_entry.py (REAL ES declined), test_leanhost_index_options.py (MODELLED SPX entered)",
    "Ipmcc": "test_leanhost_equity_options.py (MODELLED SPY: LEAP buy and weekly sale)",
    "LeapPuts": "test_leanhost_equity_options.py (MODELLED SPY: rung sold, assigned)",
}
"""Strategy class -> where its decisions are driven through the host to orders (or none)."""


def strategy_classes() -> dict[str, type[Strategy]]:
    found: dict[str, type[Strategy]] = {}
    for info in pkgutil.iter_modules(strategies.__path__):
        module = importlib.import_module(f"strategies.{info.name}")
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Strategy) and obj is not Strategy and obj.__module__ == module.__name__:
                found[name] = obj
    return found


def test_when_strategies_are_listed_then_each_has_an_order_path_test() -> None:
    assert set(strategy_classes()) == set(ORDER_PATH_TESTS)


@pytest.mark.parametrize("name", sorted(ORDER_PATH_TESTS))
def test_when_a_strategy_runs_alone_then_its_feed_and_every_rule_are_wired(
    lean: ModuleType, make_algorithm: Callable[..., Any], name: str
) -> None:
    cls = strategy_classes()[name]
    algorithm = make_algorithm(lambda params: [cls(params)])

    [strategy] = algorithm.strategies.values()
    sub = strategy.subscription()
    feed = algorithm.market.feed_of(strategy)
    assert (feed.kind, feed.root) == (sub.kind, sub.root)
    events = {e.name: e for e in algorithm.schedule.events}
    for rule in strategy.schedules():
        event = events[f"{strategy.name}:{rule.name}"]
        assert event.date_rule.symbol == feed.symbol
    assert "orders:time-outs" in events and "gate:nlv" in events
    assert algorithm.market.vix is not None  # the risk gate reads VIX for every entry
    subscribed = [*algorithm.futures, *algorithm.indexes, *algorithm.equities]
    assert subscribed, f"{name}: nothing subscribed"
    assert isinstance(algorithm.params, Parameters)
