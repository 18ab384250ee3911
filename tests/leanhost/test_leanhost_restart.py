"""A live restart in LEAN with the saved book (leanhost/book.py, leanhost/book_store.py,
leanhost/reattach.py), through main.py on the REAL ES chain of 2020-01-06 10:00 New York (the
strangle's relaxed entry, REAL ES daily bars, GIVEN VIX 13.85 / 14.02).

A restart is modelled as LEAN does it (``Engine/Setup/BrokerageSetupHandler.cs``): a new
algorithm on the same object store runs ``initialize``; then LEAN loads the brokerage's
holdings (the test copies them) and open orders (``load_open_order``: NEW LEAN order ids, the
brokerage's ids kept, ``BrokerageTransactionHandler.AddOpenOrder``), and calls
``on_warmup_finished`` (``Engine/AlgorithmManager.cs``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
from es_world import entry_verdict, fire, relaxed_es_algorithm
from es_world import live_setup as _live

from strategies.base import PositionState

SLOT_A, SLOT_B = "thetadesk/book/a.json", "thetadesk/book/b.json"



def _first(lean: ModuleType, make_algorithm: Callable[..., Any]) -> Any:
    """A first live deployment that sent the strangle's entry (working, not filled)."""
    algorithm = relaxed_es_algorithm(lean, make_algorithm, _live())
    assert entry_verdict(algorithm).action == "APPROVE"
    return algorithm


def _mid(algorithm: Any, ticket: Any) -> float:
    security = algorithm.securities[ticket.symbol]
    return (security.bid_price + security.ask_price) / 2


def _restart(lean: ModuleType, make_algorithm: Callable[..., Any], first: Any, holdings: bool = True,
             **params: str) -> Any:
    """A new algorithm on ``first``'s object store; the brokerage's holdings copied when
    ``holdings``; ``on_warmup_finished`` not called yet."""
    second = relaxed_es_algorithm(lean, make_algorithm, _live(first.object_store), **params)
    if holdings:
        for security in first.securities.values():
            if security.holdings.quantity:
                second.securities[security.symbol].holdings.quantity = security.holdings.quantity
    return second


def _strangle(algorithm: Any) -> Any:
    [position] = algorithm.strategies["futures_strangle"].positions.values()
    return position


def _blocked(algorithm: Any) -> bool:
    return "host_reconcile" in algorithm.risk.session.gate.state.tripped


# ----- positions ------------------------------------------------------------------------------
def test_when_a_live_run_restarts_with_an_open_strangle_then_it_is_adopted_and_its_take_profit_still_works(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """Each leg filled at 2.5 x its mid now: credit = 2.5 x the cost to close at the same
    quotes, so 1 - 1/2.5 = 60% is captured >= the 50% take profit (independent of the code)."""
    first = _first(lean, make_algorithm)
    tickets = first.combo_orders[0].tickets
    fills = {t.symbol: round(2.5 * _mid(first, t), 2) for t in tickets}
    for ticket in tickets:
        first.fill(ticket, fills[ticket.symbol])
    credit = sum(fills.values())
    assert _strangle(first).state is PositionState.OPEN

    second = _restart(lean, make_algorithm, first)
    restored = _strangle(second)
    assert (restored.state, restored.entry_net_pts) == (PositionState.OPEN, pytest.approx(-credit))
    assert second.strategies["futures_strangle"].iv_readings == first.strategies["futures_strangle"].iv_readings
    second.on_warmup_finished()

    assert [e.action for e in second.journal.entries if e.action == "ADOPTED"] == ["ADOPTED"]
    assert not _blocked(second)
    fire(second, "futures_strangle:manage")
    [close] = second.combo_orders
    assert [d.codes for d in second.journal.decisions()][-1] == ("TAKE_PROFIT",)
    assert {leg.symbol: leg.quantity for leg in close.legs} == {t.symbol: -t.quantity for t in tickets}
    assert _strangle(second).state is PositionState.CLOSING


def test_when_a_position_vanished_while_the_algorithm_was_down_then_it_is_settled_with_the_reason(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """The account holds none of the strangle's legs at the restart (closed at the broker).
    ES March future 3225.62 (bid/ask of the data) lies between the put and call strikes: both
    legs are out of the money, intrinsic 0.00."""
    first = _first(lean, make_algorithm)
    for ticket in first.combo_orders[0].tickets:
        first.fill(ticket, 5.0)

    second = _restart(lean, make_algorithm, first, holdings=False)
    second.on_warmup_finished()

    position = _strangle(second)
    assert position.state is PositionState.CLOSED and position.exit_net_pts == 0.0
    assert position.exit_reason.startswith("vanished while the algorithm was down: the account holds none of its "
                                           "legs at the start")
    assert [e.action for e in second.journal.entries if e.action == "VANISHED"] == ["VANISHED"]
    assert any(e.startswith("ALERT RECONCILE VANISHED futures_strangle-") for e in second.errors)
    assert not _blocked(second)


# ----- working orders -------------------------------------------------------------------------
def test_when_a_live_run_restarts_with_a_working_entry_then_it_is_reattached_and_its_fill_is_booked(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    first = _first(lean, make_algorithm)
    tickets = first.combo_orders[0].tickets
    broker_ids = {t.symbol: first.transactions.get_order_by_id(t.order_id).broker_id for t in tickets}

    second = _restart(lean, make_algorithm, first)
    assert _strangle(second).state is PositionState.OPENING
    # LEAN loads the brokerage's open orders in its own order, with NEW ids (here swapped)
    loaded = {t.symbol: second.load_open_order(t.symbol, t.quantity, broker_ids[t.symbol], lean.OrderType.COMBO_LIMIT)
              for t in reversed(tickets)}
    assert [loaded[t.symbol].order_id for t in tickets] != [t.order_id for t in tickets]
    put, call = sorted(tickets, key=lambda t: t.symbol.id.option_right.name != "PUT")
    second.fill(loaded[put.symbol], 4.0)  # during warm-up: held until the group is re-attached
    assert second.router.deferred and _strangle(second).state is PositionState.OPENING
    second.on_warmup_finished()

    assert [e.action for e in second.journal.entries if e.action == "REATTACHED"] == ["REATTACHED"]
    assert not _blocked(second)
    second.fill(loaded[call.symbol], 2.5)

    position = _strangle(second)
    assert (position.state, position.entry_net_pts) == (PositionState.OPEN, pytest.approx(-6.5))
    assert any(e.action == "FILLED" for e in second.journal.entries)


def test_when_a_working_entry_vanished_and_the_account_holds_nothing_then_it_ends_unfilled(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    first = _first(lean, make_algorithm)

    second = _restart(lean, make_algorithm, first)  # no open orders at the broker, no holdings
    second.on_warmup_finished()

    position = _strangle(second)
    assert position.state is PositionState.CLOSED
    assert position.exit_reason.startswith("never opened: its orders vanished while the algorithm was down")
    assert not _blocked(second)


def test_when_the_broker_has_an_unknown_order_and_holding_then_entries_are_blocked_with_critical_alerts(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    first = _first(lean, make_algorithm)
    for ticket in first.combo_orders[0].tickets:
        ticket.cancel()  # flat: the book holds no position and no working order
    held, ordered = [s.symbol for s in first.securities.values() if s.symbol.id.option_right is not None][:2]

    second = _restart(lean, make_algorithm, first)
    second.securities[held].holdings.quantity = -2.0  # a contract with a working order is in flight, not judged
    second.load_open_order(ordered, 1.0, ["MANUAL-7"], lean.OrderType.LIMIT, 3.0)
    second.on_warmup_finished()

    assert _blocked(second)
    alerts = [e for e in second.errors if e.startswith("ALERT RECONCILE")]
    assert any(a.startswith("ALERT RECONCILE UNKNOWN_ORDER: ") and "(brokerage id MANUAL-7) that no strategy's "
               "order group claims" in a for a in alerts)
    assert any(a.startswith("ALERT RECONCILE UNKNOWN_HOLDING: ") and "holds -2" in a for a in alerts)
    verdict = entry_verdict(second)
    assert verdict.action == "REFUSE" and "HOST_BLOCK" in verdict.codes


# ----- the saved book itself --------------------------------------------------------------------
def _envelope(payload: str, seq: int = 5) -> str:
    """The slot format, computed here independently (leanhost/book_store.py docstring)."""
    data = payload.encode()
    return f"THETADESK-BOOK 1 seq={seq} bytes={len(data)} sha256={hashlib.sha256(data).hexdigest()}\n{payload}"


@pytest.mark.parametrize(("spoil", "why"), [
    (lambda text: text.replace('"quantity": 1', '"quantity": 9', 1), "checksum mismatch: the payload was altered"),
    (lambda text: '{"gate": {}}', "not a ThetaDesk book (no header line)"),
    (lambda text: _envelope("{}"), "empty object: not a saved state"),
    (lambda text: _envelope(text.partition("\n")[2].replace('"version": 1', '"version": 7')),
     "unknown state version 7"),
])
def test_when_the_saved_book_is_corrupt_then_initialize_stops_and_the_book_is_not_overwritten(
    lean: ModuleType, make_algorithm: Callable[..., Any], host: Callable[[str], ModuleType],
    spoil: Callable[[str], str], why: str
) -> None:
    first = _first(lean, make_algorithm)
    store = first.object_store
    store.values[SLOT_A] = bad = spoil(store.values[SLOT_A])
    saves = len(store.saves)

    with pytest.raises(host("book_store").BookStoreError) as raised:
        _restart(lean, make_algorithm, first)

    assert f"the object-store key {SLOT_A} is not a valid saved book" in str(raised.value)
    assert why in str(raised.value)
    assert store.values[SLOT_A] == bad and len(store.saves) == saves


def test_when_the_newest_slot_was_torn_then_the_other_is_restored_and_the_torn_value_kept(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """An interrupted File.WriteAllBytes leaves a prefix (LocalObjectStore.PersistData)."""
    first = _first(lean, make_algorithm)
    store = first.object_store
    first.emit(first.combo_orders[0].tickets[0], lean.OrderStatus.SUBMITTED)  # a change: saved to slot b
    assert SLOT_B in store.values
    complete = store.values[SLOT_B]
    store.values[SLOT_B] = torn = complete[: len(complete) // 2]

    second = _restart(lean, make_algorithm, first)

    assert _strangle(second).state is PositionState.OPENING  # slot a: the entry sent
    assert store.values["thetadesk/book/torn_b.txt"] == torn
    assert any(e.startswith(f"ALERT BOOK slot {SLOT_B} was torn by an interrupted write (cut short:") for e in second.errors)
    second.on_warmup_finished()
    assert store.values[SLOT_B].startswith("THETADESK-BOOK 1 seq=")  # written again, whole


def test_when_a_live_run_has_no_saved_book_then_it_starts_only_with_fresh_start(
    lean: ModuleType, make_algorithm: Callable[..., Any], host: Callable[[str], ModuleType]
) -> None:
    with pytest.raises(host("book_store").BookStoreError, match="no saved book at object-store keys "
                       f"{SLOT_A} / {SLOT_B}.*set the parameter fresh_start=true"):
        relaxed_es_algorithm(lean, make_algorithm, _live(), fresh_start="false")

    algorithm = relaxed_es_algorithm(lean, make_algorithm, _live(), fresh_start="true")
    assert f"book: FRESH START on operator request (fresh_start=true): no saved book at {SLOT_A} / {SLOT_B}" \
        in algorithm.logs


def test_when_a_canceled_entry_was_still_working_at_the_restart_then_its_cancel_is_sent_again(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """Live cancels are requests (``CancelPending``); the process stopped before LEAN
    confirmed it. The saved group remembers the request; re-attached, it is canceled through
    its new tickets."""
    first = _first(lean, make_algorithm)
    first.async_cancels = True
    group = first.router.active_groups()[0]
    first.router.cancel(group, "time-out after 10 min")
    first.risk.after()
    tickets = first.combo_orders[0].tickets
    broker_ids = {t.symbol: first.transactions.get_order_by_id(t.order_id).broker_id for t in tickets}

    second = _restart(lean, make_algorithm, first)
    loaded = [second.load_open_order(t.symbol, t.quantity, broker_ids[t.symbol], lean.OrderType.COMBO_LIMIT)
              for t in tickets]
    second.on_warmup_finished()

    assert [t.cancel_tags for t in loaded] == [[f"{group.intent.tag} cancel requested before the restart"]] * 2
    assert [t.status for t in loaded] == [lean.OrderStatus.CANCELED] * 2
    position = _strangle(second)
    assert position.state is PositionState.CLOSED and position.exit_reason.startswith("never opened: ended without")


def test_when_a_strategy_is_switched_off_across_a_restart_then_its_saved_positions_are_kept_and_alerted(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    first = _first(lean, make_algorithm)
    for ticket in first.combo_orders[0].tickets:
        first.fill(ticket, 5.0)
    saved = first.book.sections()[1]["futures_strangle"]

    second = _restart(lean, make_algorithm, first, strangle_enabled="false")
    second.on_warmup_finished()

    assert "futures_strangle" not in second.strategies
    assert any(e.startswith("ALERT BOOK strategy futures_strangle is not running now but its saved book holds "
                            "futures_strangle-") for e in second.errors)
    gate, strategies, _, host = second.book.sections()
    assert strategies["futures_strangle"] == saved
    legs = saved["positions"][0]["structure"]["legs"]
    assert sorted(host["contracts"]) == sorted(leg["symbol"] for leg in legs)
    assert _blocked(second)  # nobody manages its contracts now: unknown holdings


@pytest.mark.parametrize(("spoil", "why"), [
    (lambda book: book["orders"][0]["legs"][0].update(status="lost"),
     "orders[0].legs[0].status: unknown order status 'lost'"),
    (lambda book: book["orders"][0]["legs"][0].update(sid="ES ???"), "orders[0].legs[0].sid: not a LEAN security"),
    (lambda book: book["strategies"]["futures_strangle"]["positions"][0].update(quantity="1"),
     "strategies.futures_strangle.positions[0].quantity: expected an integer, got '1'"),
    (lambda book: book["gate"].pop("records"), "gate.records: missing"),
])
def test_when_a_section_of_the_saved_book_does_not_restore_then_initialize_names_its_key_path(
    lean: ModuleType, make_algorithm: Callable[..., Any], host: Callable[[str], ModuleType],
    spoil: Callable[[dict[str, Any]], None], why: str
) -> None:
    """A whole, checksummed slot whose content is wrong (written by hand, or by a bug)."""
    first = _first(lean, make_algorithm)
    store = first.object_store
    book = json.loads(store.values[SLOT_A].partition("\n")[2])
    spoil(book)
    store.values[SLOT_A] = bad = _envelope(json.dumps(book))

    with pytest.raises(host("book_store").BookStoreError) as raised:
        _restart(lean, make_algorithm, first)

    assert f"ThetaDesk cannot start: the saved book at object-store key {SLOT_A} does not restore: " \
        in str(raised.value)
    assert why in str(raised.value)
    assert store.values[SLOT_A] == bad


def test_when_a_working_entry_filled_while_the_algorithm_was_down_then_it_is_booked_at_its_limit_and_adopted(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """The broker filled the whole combo while LEAN was stopped: no open order, and the account
    holds exactly its legs (-1 put, -1 call per unit)."""
    first = _first(lean, make_algorithm)
    combo = first.combo_orders[0]
    limit = combo.asked_limit

    second = _restart(lean, make_algorithm, first)
    for ticket in combo.tickets:
        second.securities[ticket.symbol].holdings.quantity = ticket.quantity
    second.on_warmup_finished()

    position = _strangle(second)
    assert (position.state, position.entry_net_pts) == (PositionState.OPEN, limit)
    assert [e.action for e in second.journal.entries if e.action in ("FILLED_WHILE_DOWN", "FILLED", "ADOPTED")] == [
        "FILLED_WHILE_DOWN", "FILLED", "ADOPTED"]
    assert any(e.startswith(f"ALERT RESTART {combo.tag}: its orders vanished while the algorithm was down and the "
                            "account holds what a whole fill leaves") for e in second.errors)
    assert not _blocked(second)


def test_when_a_close_filled_while_the_algorithm_was_down_then_the_position_is_closed_at_its_limit(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    first = _first(lean, make_algorithm)
    for ticket in first.combo_orders[0].tickets:
        first.fill(ticket, 5.0)  # credit 10.00
    assert first.risk.close_whole(first.strategies["futures_strangle"], _strangle(first), "FLATTEN",
                                  datetime(2020, 1, 6, 15, 0, tzinfo=UTC))
    [close] = first.combo_orders[1:]
    first.risk.after()

    second = _restart(lean, make_algorithm, first, holdings=False)  # the close filled: nothing held
    second.on_warmup_finished()

    closed = _strangle(second)
    assert (closed.state, closed.exit_net_pts) == (PositionState.CLOSED, close.asked_limit)
    assert [e.action for e in second.journal.entries if e.action in ("FILLED_WHILE_DOWN", "VANISHED")] == [
        "FILLED_WHILE_DOWN"]
    assert not _blocked(second)
