"""One thread at a time: order events delivered from a second thread while scheduled decisions
run leave positions, router groups and the gate's book consistent.

LEAN source: in live, scheduled events run on the real-time thread
(QuantConnect/Lean ``Engine/RealTime/LiveTradingRealTimeHandler.cs``, ``Run``) and
``on_order_event`` on the brokerage's (``Engine/TransactionHandlers/
BrokerageTransactionHandler.cs``, ``HandleOrderEvents``); the stand-in's ``BrokerageThread``
(``tests/leanhost/stand_in/lean_threads.py``) plays the second. Removing the entry lock
(``leanhost/serial.py``; main.py ``on_order_event``) makes this test fail (checked by hand, see
the branch report): groups finished twice, exits counted twice or a dict changed while read.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from es_world import calm_es_market, fire, install_es_chain
from fake_strategies import Scripted, open_intent, row

from strategies.base import MarketContext, PositionState, Subscription
from thetacore.decisions import Decision, OrderIntent, Reason
from thetacore.enums import Action, IntentPurpose, Right
from thetacore.schedule import DailyAt

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 200
EXPIRIES = (np.datetime64("2020-03-20"), np.datetime64("2020-06-19"))


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Thread switches every microsecond instead of every 5 ms: interleavings that are rare
    in production happen within a few rounds here."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def _spreads(algorithm: Any) -> list[tuple[np.datetime64, float, float, float]]:
    """Call credit spreads ``(expiry, short strike, long strike, credit)`` on the real chain
    (widths 5 to 35 points: under the 2% risk cap) with a mid credit of at least 0.50, on the
    0.05 tick."""
    out = []
    for expiry in EXPIRIES:
        calls = {s.id.strike_price: sec for s, sec in algorithm.securities.items()
                 if s.security_type.name == "FUTURE_OPTION" and s.id.option_right is not None
                 and s.id.option_right.name == "CALL" and s.id.date is not None
                 and np.datetime64(s.id.date.date()) == expiry and sec.bid_price > 0 and sec.ask_price > 0}
        for k in sorted(calls):
            for width in np.arange(5.0, 40.0, 5.0):
                far = float(k + width)
                if far in calls:
                    credit = round(round((calls[k].price - calls[far].price) / 0.05) * 0.05, 2)
                    if credit >= 0.5:
                        out.append((expiry, k, far, credit))
    return out


def _strategy(spreads: list[tuple[np.datetime64, float, float, float]]) -> Scripted:
    def decide(s: Scripted, rule: str, ctx: MarketContext) -> list[Decision]:
        chain = ctx.chain
        assert chain is not None
        if rule == "entry":
            expiry, short_k, long_k, credit = spreads[len(s.positions) % len(spreads)]
            rows = [(row(chain, expiry, Right.CALL, short_k), -1), (row(chain, expiry, Right.CALL, long_k), 1)]
            return [open_intent(s, ctx, rows, -credit)]
        out = []
        for pos in [p for p in s.open_positions() if p.state is PositionState.OPEN]:
            assert pos.entry_net_pts is not None
            legs = tuple(replace(leg, ratio=-leg.ratio) for leg in pos.structure.legs)
            limit = max(0.05, round(round(-pos.entry_net_pts * 0.2 / 0.05) * 0.05, 2))  # a win
            pos.state = PositionState.CLOSING
            intent = OrderIntent(s.name, IntentPurpose.CLOSE, replace(pos.structure, legs=legs),
                                 pos.quantity, limit, pos.position_id, tag=f"{pos.position_id} close")
            out.append(Decision(ctx.time_utc, s.name, Action.EXITED, (Reason("TAKE_PROFIT", "scripted"),), intent))
        return out

    sub = Subscription("ES", "future_option", 30, 120, 0.2, needs_vix=True)
    return Scripted("desk", sub, decide, [DailyAt("entry", time(10, 0)), DailyAt("exit", time(10, 5))])


RELAXED_GATE = {
    "brokerage": "interactive_brokers",  # LEAN's own fee model: none in the stand-in, so each close is a win
    "max_open_positions_per_strategy": "1000", "corr_limit_a1": "1000", "corr_limit_any_group": "1000",
    "corr_limit_a1_a2": "1000", "safety_limit_band_frac": "100",
}
"""The gate admits every scripted entry and close (each spread is new, so none is a duplicate)."""


def _one_fill(algorithm: Any) -> bool:
    """The brokerage fills ONE working leg: every leg but the last of a combo at its mid, the
    last at the price that makes the combo's net its limit."""
    for combo in list(algorithm.combo_orders):
        open_legs = [t for t in combo.tickets if t.status not in (3, 5, 7)]
        if not open_legs:
            continue
        ticket = open_legs[0]
        if ticket.status == 8:  # CancelPending: the brokerage confirms the cancel
            algorithm.confirm_cancel(ticket)
            return True
        if len(open_legs) > 1:
            price = algorithm.securities[ticket.symbol].price
        else:
            others = sum(leg.quantity * algorithm.securities[leg.symbol].price
                         for leg in combo.legs if leg.symbol != ticket.symbol)
            ratio = next(leg.quantity for leg in combo.legs if leg.symbol == ticket.symbol)
            price = (combo.limit_price - others) / ratio
        algorithm.fill(ticket, price)
        return True
    return False


def test_when_order_events_come_from_the_brokerage_thread_during_decisions_then_the_books_agree(
    lean: ModuleType, make_algorithm: Callable[..., Any], busy_switching: None
) -> None:
    box: dict[str, Any] = {}

    def build(params: Any) -> list[Scripted]:
        box["strategy"] = _strategy(box["spreads"])
        return [box["strategy"]]

    probe = lean.QCAlgorithm()
    install_es_chain(lean, probe)
    box["spreads"] = _spreads(probe)
    assert len(box["spreads"]) >= ROUNDS
    algorithm = make_algorithm(build, **RELAXED_GATE)
    algorithm.live_mode = algorithm.async_cancels = True  # live: a cancel is a request
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    strategy: Scripted = box["strategy"]

    brokerage = lean.BrokerageThread(lambda: _one_fill(algorithm))
    brokerage.start()
    try:
        for round_n in range(ROUNDS):
            fire(algorithm, "desk:entry")
            fire(algorithm, "desk:exit")
            fire(algorithm, "orders:time-outs")
            fire(algorithm, "gate:nlv")
            # at least one event per round, however loaded the machine: the rounds overlap
            # with the brokerage thread instead of racing ahead of it
            brokerage.wait_delivered(round_n + 1)
    finally:
        brokerage.stop()
    assert brokerage.runtime_errors == []
    for _ in range(10):  # drain: fill what works, close what is open, until nothing moves
        while _one_fill(algorithm):
            pass
        if not [p for p in strategy.positions.values() if p.state is not PositionState.CLOSED]:
            break
        fire(algorithm, "desk:exit")

    positions = list(strategy.positions.values())
    opened = [p for p in positions if p.entry_net_pts is not None]
    assert brokerage.delivered > ROUNDS and len(opened) > ROUNDS // 2
    # positions: every one closed; what filled open was closed exactly once, at a win
    assert all(p.state is PositionState.CLOSED for p in positions)
    assert all(p.exit_net_pts is not None for p in opened)
    assert all(sec.holdings.quantity == 0 for sec in algorithm.securities.values())
    # router: every group finished exactly once, one FILLED per combo
    router = algorithm.router
    assert router.active_groups() == [] and router.held == {}
    assert len(router.finished) == len({id(g) for g in router.finished}) == len(algorithm.combo_orders)
    filled = [e for e in algorithm.journal.entries if e.kind == "order" and e.action == "FILLED"]
    assert len(filled) == len(algorithm.combo_orders) == 2 * len(opened)
    # gate: nothing booked any more; every close counted once, each a win
    session = algorithm.risk.session
    assert session.records == {}
    stats = session.stats[strategy.name]
    assert (stats.wins, stats.losses) == (len(opened), 0)
    assert algorithm.market_orders == []


def test_when_the_host_registers_a_scheduled_event_then_it_goes_through_the_entry_lock() -> None:
    """No module of the LEAN host calls ``schedule.on`` itself: :func:`leanhost.serial.schedule_on`
    wraps every callback in the entry lock."""
    offenders = []
    for path in [ROOT / "main.py", *sorted((ROOT / "leanhost").glob("*.py"))]:
        if path.name == "serial.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "on"
                    and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "schedule"):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_when_order_events_and_end_of_algorithm_run_then_they_hold_the_entry_lock(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """``on_order_event`` and ``on_end_of_algorithm`` wait while another thread holds the lock."""
    import threading

    algorithm = make_algorithm(lambda p: [])
    seen: list[bool] = []
    algorithm.router.on_order_event = lambda e: seen.append(algorithm.entry_lock._lock._is_owned()) or False
    event = lean.OrderEvent(1, lean.Symbol.equity("SPY"), algorithm.utc_time, lean.OrderStatus.SUBMITTED)
    worker = threading.Thread(target=algorithm.on_order_event, args=(event,))
    with algorithm.entry_lock:
        worker.start()
        worker.join(0.05)
        assert worker.is_alive() and seen == []  # waiting for the lock
    worker.join()
    assert seen == [True]


def test_when_the_fill_arrives_on_another_thread_while_the_combo_is_being_placed_then_it_is_booked_once(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """The brokerage thread reports the fills while ``combo_limit_order`` has not returned yet
    (the router has no group for these order ids): its ``on_order_event`` waits for the entry
    lock held by the scheduled decision, then finds the group attached. (Without the lock the
    router's ``_early_events`` would catch them instead: this test guards against events lost
    or booked twice, the 200-round test above against the lock's absence.)"""
    import threading

    from order_world import desk_algorithm, enter

    algorithm, desk = desk_algorithm(lean, make_algorithm)
    algorithm.live_mode = True
    place = algorithm.combo_limit_order
    workers: list[threading.Thread] = []

    def place_and_fill_elsewhere(*args: Any, **kwargs: Any) -> Any:
        tickets = place(*args, **kwargs)
        prices = {tickets[0].order_id: 8.75, tickets[1].order_id: 6.35}
        worker = threading.Thread(target=lambda: [algorithm.fill(t, prices[t.order_id]) for t in tickets])
        worker.start()
        worker.join(0.05)  # with the lock it cannot finish while we are still placing
        workers.append(worker)
        return tickets

    algorithm.combo_limit_order = place_and_fill_elsewhere
    combo = enter(algorithm, desk, (3400.0, 3420.0, 1, -2.40))
    workers[0].join()

    [position] = desk.positions.values()
    assert position.state is PositionState.OPEN and position.entry_net_pts == pytest.approx(-8.75 + 6.35)
    assert [e.action for e in algorithm.journal.entries if e.kind == "order"] == ["SENT", "FILLED"]
    assert [algorithm.securities[t.symbol].holdings.quantity for t in combo.tickets] == [-1, 1]
    assert algorithm.router.active_groups() == [] and len(algorithm.router.finished) == 1


def test_when_an_order_event_raises_an_alert_then_smtp_runs_on_the_alert_worker_not_in_the_handler(
    lean: ModuleType, make_algorithm: Callable[..., Any], host: Callable[[str], ModuleType],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """A blocking SMTP call inside ``on_order_event`` would hold LEAN's order-event lock
    (``BrokerageTransactionHandler.HandleOrderEvents``): the handler returns while the mail
    is still being sent, on the ``thetadesk-alerts`` thread."""
    import threading

    from order_world import desk_algorithm, enter

    alerts = host("alerts")
    for name, value in {"HOST": "127.0.0.1", "PORT": "2525", "FROM": "a@example.com", "TO": "b@example.com"}.items():
        monkeypatch.setenv(f"THETADESK_SMTP_{name}", value)
    release, senders = threading.Event(), []

    def slow_mail(settings: Any, subject: str, body: str, timeout_sec: float = 10.0) -> None:
        senders.append((threading.current_thread().name, subject))
        release.wait(30)

    monkeypatch.setattr(alerts, "send_mail", slow_mail)
    algorithm, desk = desk_algorithm(lean, make_algorithm)
    algorithm.live_mode = True
    combo = enter(algorithm, desk, (3400.0, 3420.0, 1, -2.40))

    algorithm.emit(combo.tickets[0], lean.OrderStatus.FILLED, 8.75, -1)  # one leg,
    algorithm.confirm_cancel(combo.tickets[1])  # the other canceled: an unwind...
    [unwind] = algorithm.limit_orders
    algorithm.emit(unwind, lean.OrderStatus.INVALID, message="rejected")  # ...that fails: a critical alert

    assert not release.is_set()  # we got here while the mail still waits (inline, it would be MainThread after 30 s)
    release.set()
    algorithm.risk.alerts.drain()
    assert senders and all(name == "thetadesk-alerts" for name, _ in senders)
    assert any("CRITICAL UNWIND_FAILED" in subject for _, subject in senders)
