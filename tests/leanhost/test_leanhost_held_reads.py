"""Issue 10 goal 4: a LEAN management decision reads only the contracts it holds.

main.py under the stand-in on the REAL ES chain of 2020-01-06 10:00 New York (the strangle's
relaxed entry, GIVEN calm market). Counted, as in ``benchmarks/lean_reads.py``: every
``OptionContract`` taken from a slice's ``OptionChain`` and every ``securities[symbol]`` of an
option contract (each one object across LEAN's Python/.NET bridge). The legs' underlying (the
ES future's security, one read per leg for its price) is not an option contract and is not
counted.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from datetime import UTC
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from es_world import ENTRY_UTC, entry_verdict, fire, relaxed_es_algorithm

from strategies.base import PositionState


class _Reads:
    contracts = 0


@pytest.fixture
def counted(lean: ModuleType, monkeypatch: pytest.MonkeyPatch) -> type[_Reads]:
    """Counts option-contract reads through the stand-in's chain and security manager."""
    types = importlib.import_module("lean_types")
    chain_iter, get_security = types.OptionChain.__iter__, types.SecurityManager.__getitem__
    options = (types.SecurityType.FUTURE_OPTION, types.SecurityType.OPTION, types.SecurityType.INDEX_OPTION)

    def iter_counting(self: Any) -> Iterator[Any]:
        for contract in chain_iter(self):
            _Reads.contracts += 1
            yield contract

    def get_counting(self: Any, symbol: Any) -> Any:
        if getattr(symbol, "security_type", None) in options:
            _Reads.contracts += 1
        return get_security(self, symbol)

    monkeypatch.setattr(types.OptionChain, "__iter__", iter_counting)
    monkeypatch.setattr(types.SecurityManager, "__getitem__", get_counting)
    _Reads.contracts = 0
    return _Reads


def _open_strangle(lean: ModuleType, make_algorithm: Callable[..., Any]) -> tuple[Any, list[Any]]:
    """The strangle entered and each leg filled at 2.5 x its mid now: the cost to close at the
    same quotes is 1/2.5 of the credit, 60% captured >= the 50% take profit."""
    algorithm = relaxed_es_algorithm(lean, make_algorithm)
    assert entry_verdict(algorithm).action == "APPROVE"
    tickets = algorithm.combo_orders[0].tickets
    for ticket in tickets:
        security = algorithm.securities[ticket.symbol]
        algorithm.fill(ticket, round(2.5 * (security.bid_price + security.ask_price) / 2, 2))
    [position] = algorithm.strategies["futures_strangle"].positions.values()
    assert position.state is PositionState.OPEN and len(position.structure.legs) == 2
    for chain in algorithm.current_slice.option_chains.values():  # each row's quote bar reached its
        for contract in chain.contracts:  # security, as in LEAN (SecurityCache.ProcessDataPoint)
            security = algorithm.securities[contract.symbol]
            security.receive(lean.QuoteBar(contract.symbol, security.price, contract.time, False,
                                           contract.bid_price, contract.ask_price))
    return algorithm, tickets


def _manage(algorithm: Any, counted: type[_Reads]) -> tuple[int, int]:
    """Fire the strangle's management rule: ``(reads of the decision and the gate's review,
    reads of sending its order)`` (the router's tick and holdings look-ups and LEAN's own
    combo rounding: 3 per leg, not the decision's)."""
    router, at_send = algorithm.risk.router, []
    send = router.send
    router.send = lambda intent: at_send.append(counted.contracts) or send(intent)
    counted.contracts = 0
    fire(algorithm, "futures_strangle:manage")
    [decided] = at_send
    return decided, counted.contracts - decided


def test_when_an_open_strangle_is_managed_then_only_its_two_legs_are_read_and_it_closes_as_with_the_chain(
    lean: ModuleType, make_algorithm: Callable[..., Any], counted: type[_Reads]
) -> None:
    held, tickets = _open_strangle(lean, make_algorithm)
    full, _ = _open_strangle(lean, make_algorithm)
    full.market._held_snapshot = lambda feed, time_utc, keys: None  # no held read: the whole chain
    listed = sum(len(c) for c in held.current_slice.option_chains.values())

    held_reads, held_sending = _manage(held, counted)
    full_reads, full_sending = _manage(full, counted)

    assert held_reads == 2  # one securities[leg] per leg held, for the decision and the gate
    assert full_reads >= listed > 100  # the whole filtered chain (row + security per contract)
    assert held_sending == full_sending == 3 * 2
    [close], [close_full] = held.combo_orders[1:], full.combo_orders[1:]
    assert [d.codes for d in held.journal.decisions()][-1] == ("TAKE_PROFIT",)
    assert [d.codes for d in held.journal.decisions()][-1] == [d.codes for d in full.journal.decisions()][-1]
    assert held.journal.decisions()[-1].details == full.journal.decisions()[-1].details
    assert held.journal.verdicts()[-1].action == full.journal.verdicts()[-1].action == "APPROVE"
    assert close.limit_price == close_full.limit_price
    assert {leg.symbol: leg.quantity for leg in close.legs} == {t.symbol: -t.quantity for t in tickets}


def test_when_the_legs_are_read_alone_then_their_rows_equal_the_full_reads_rows(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, _ = _open_strangle(lean, make_algorithm)
    [position] = algorithm.strategies["futures_strangle"].positions.values()
    keys = tuple(leg.symbol for leg in position.structure.legs)
    feed = algorithm.market.feed_of(algorithm.strategies["futures_strangle"])
    now = ENTRY_UTC.replace(tzinfo=UTC)

    alone = algorithm.market.reader.read_held(feed, keys, now)
    whole = algorithm.market.reader.read(feed, now).snapshot

    assert alone is not None and whole is not None and sorted(alone.symbol) == sorted(keys)
    rows = [whole.index_of(k) for k in alone.symbol]
    for name in ("symbol", "underlying_symbol", "underlying_pts", "strike_pts", "expiry", "right", "bid_pts",
                 "ask_pts", "quote_time_utc"):
        np.testing.assert_array_equal(getattr(alone, name), getattr(whole, name)[rows], err_msg=name)
    assert np.isfinite(alone.underlying_pts).all() and np.isfinite(alone.bid_pts).all()
    for name in ("root", "time_utc", "multiplier_usd_per_pt", "style", "settlement", "min_tick_pts"):
        assert getattr(alone, name) == getattr(whole, name), name


def test_when_a_leg_is_unknown_to_the_host_then_the_held_read_declines(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, _ = _open_strangle(lean, make_algorithm)
    feed = algorithm.market.feed_of(algorithm.strategies["futures_strangle"])

    assert algorithm.market.reader.read_held(feed, ("NOT A CONTRACT",), ENTRY_UTC.replace(tzinfo=UTC)) is None
