"""Every entry point added for operator commands, brokerage events, margin and reconciliation
waits for the algorithm's entry lock (leanhost/serial.py), as LEAN calls them from other
threads: brokerage callbacks on the brokerage's thread (``Engine/Engine.cs``, the brokerage's
``Message`` handler), commands on the algorithm manager's thread (``Engine/Server/
LocalLeanManager.cs`` ``Update``), scheduled events on the real-time thread in live
(``Engine/RealTime/LiveTradingRealTimeHandler.cs``). A second thread calls each one while the
test holds the lock: it must still be waiting, and finish once the lock is released."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from es_world import RELAXED, calm_es_market, install_es_chain

ENTRY_POINTS: dict[str, Callable[[Any, ModuleType], Any]] = {
    "on_command": lambda a, lean: a.on_command(lean.Command({"kill_switch": "on"})),
    "on_brokerage_message": lambda a, lean: a.on_brokerage_message(
        lean.BrokerageMessageEvent(lean.BrokerageMessageType.WARNING, "1", "late fill report")),
    "on_brokerage_disconnect": lambda a, lean: a.on_brokerage_disconnect(),
    "on_brokerage_reconnect": lambda a, lean: a.on_brokerage_reconnect(),
    "on_margin_call": lambda a, lean: a.on_margin_call(["request"]),
    "on_margin_call_warning": lambda a, lean: a.on_margin_call_warning(),
    "on_warmup_finished": lambda a, lean: a.on_warmup_finished(),
    "host:margin": lambda a, lean: _event(a, "host:margin")(),
    "host:reconcile": lambda a, lean: _event(a, "host:reconcile")(),
}


def _event(algorithm: Any, name: str) -> Callable[[], None]:
    [event] = [e for e in algorithm.schedule.events if e.name == name]
    return event.callback


@pytest.mark.parametrize("name", list(ENTRY_POINTS))
def test_when_another_thread_holds_the_entry_lock_then_the_entry_point_waits_for_it(
    lean: ModuleType, make_algorithm: Callable[..., Any], name: str
) -> None:
    algorithm = make_algorithm(setup=lambda a: setattr(a, "live_mode", True), **RELAXED)
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    algorithm.portfolio.total_margin_used, algorithm.portfolio.margin_remaining = 99_000.0, 1_000.0
    done = threading.Event()

    def call() -> None:
        ENTRY_POINTS[name](algorithm, lean)
        done.set()

    with algorithm.entry_lock:
        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        waited = not done.wait(0.2)  # still blocked on the lock
    worker.join(10.0)

    assert waited and done.is_set()
