"""Prices on the right tick: LEAN rounds our limits with the ES/MES option ticks, so a 3.35
limit goes out as 3.35.

LEAN sources (QuantConnect/Lean): ``Data/symbol-properties/symbol-properties-database.csv``
(no ``futureoption`` row for ES/MES; the project's ``data/`` holds LEAN's copy),
``Common/Securities/SymbolPropertiesDatabase.cs`` ``GetSymbolProperties`` (a future option
without a row gets its future's row: 0.25) and ``SetEntry``,
``Engine/TransactionHandlers/BrokerageTransactionHandler.cs`` ``RoundOrderPrices`` /
``RoundOrderPrice`` (modelled by the stand-in's ``lean_round`` and ``rounded_combo_limit``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from es_world import fire
from order_world import desk_algorithm

ROOT = Path(__file__).resolve().parents[2]


def test_when_lean_reads_its_symbol_properties_then_es_options_have_no_row_and_es_ticks_0_25() -> None:
    with (ROOT / "data" / "symbol-properties" / "symbol-properties-database.csv").open() as f:
        rows = [r for r in csv.reader(f) if r and not r[0].startswith("#")]
    keys = {(r[0], r[1], r[2]): r for r in rows}
    assert ("cme", "ES", "futureoption") not in keys and ("cme", "MES", "futureoption") not in keys
    assert float(keys[("cme", "ES", "future")][6]) == 0.25 and float(keys[("cme", "MES", "future")][6]) == 0.25


@pytest.mark.parametrize(("price", "increment", "sent"), [
    (3.35, 0.25, 3.25), (3.35, 0.05, 3.35), (3.375, 0.25, 3.5), (3.125, 0.25, 3.0), (-2.35, 0.25, -2.25),
    (0.02, 0.05, 0.0), (0.025, 0.05, 0.0), (0.03, 0.05, 0.05)])
def test_when_lean_rounds_a_price_then_it_is_math_round_to_even_on_the_increment(
    host: Callable[[str], ModuleType], lean: ModuleType, price: float, increment: float, sent: float
) -> None:
    """``Math.Round(decimal)`` rounds a midpoint to even: 13.5 ticks -> 14, 12.5 -> 12, 0.5 -> 0."""
    from lean_algorithm import lean_round as stand_in_round

    assert host("order_calls").lean_round(price, increment) == pytest.approx(sent)
    assert stand_in_round(price, increment) == pytest.approx(sent)


@pytest.mark.parametrize("root", ["ES", "MES"])
def test_when_a_futures_option_feed_is_subscribed_then_lean_gets_the_cme_option_tick(
    lean: ModuleType, make_algorithm: Callable[..., Any], root: str
) -> None:
    from fake_strategies import Scripted

    from strategies.base import Subscription

    sub = Subscription(root, "future_option", 30, 120, 0.2)
    algorithm = make_algorithm(lambda p: [Scripted("s", sub, lambda s, r, c: [])])
    future = algorithm.futures[0][0]

    entry = algorithm.symbol_properties_database.custom[("cme", root, lean.SecurityType.FUTURE_OPTION)]
    assert entry.minimum_price_variation == 0.05  # CME: 0.05 up to 5.00, 0.25 above; LEAN holds one number
    assert entry.contract_multiplier == future.symbol_properties.contract_multiplier  # the future's row
    assert entry.market_ticker == root and entry.quote_currency == "USD"


def test_when_a_combo_is_sent_at_2_35_then_lean_sends_2_35_not_the_futures_tick(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, desk = desk_algorithm(lean, make_algorithm)
    desk.plan = (3400.0, 3420.0, 1, -2.35)

    fire(algorithm, "desk:entry")

    [combo] = algorithm.combo_orders
    assert combo.asked_limit == -2.35 and combo.limit_price == pytest.approx(-2.35)  # 0.25 would give -2.25
    assert {algorithm.securities[t.symbol].symbol_properties.minimum_price_variation for t in combo.tickets} == {0.05}


def test_when_a_single_call_is_sold_at_3_35_then_lean_sends_3_35(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, desk = desk_algorithm(lean, make_algorithm)
    desk.plan = (3460.0, 0.0, 1, -3.35)

    fire(algorithm, "desk:entry")

    [ticket] = algorithm.limit_orders
    assert (ticket.quantity, ticket.limit_price) == (-1, pytest.approx(3.35))  # not 3.25 / 3.50


@pytest.mark.parametrize("close_limit", [0.02, 0.0, -0.0])
def test_when_a_close_would_go_out_at_0_00_then_it_is_never_sent(
    lean: ModuleType, make_algorithm: Callable[..., Any], close_limit: float
) -> None:
    """A close worth less than half a tick rounds to 0.00 (``RoundOrderPrices``), and LEAN's
    ``ComboLimitOrder`` throws on a zero limit: refused with a reason, for every brokerage."""
    algorithm, desk = desk_algorithm(lean, make_algorithm)
    desk.plan = (3400.0, 3420.0, 1, -2.40)
    fire(algorithm, "desk:entry")
    short, long_ = algorithm.combo_orders[0].tickets
    algorithm.fill(short, 8.75)
    algorithm.fill(long_, 6.35)
    desk.close_limit = close_limit

    fire(algorithm, "desk:exit")

    assert len(algorithm.combo_orders) == 1
    [position] = desk.positions.values()
    assert any("LIMIT_PRICE" in n and "0.00" in n for n in position.notes)
    assert any("refused before sending: LIMIT_PRICE" in e for e in algorithm.errors)
    assert any("close refused before sending: LIMIT_PRICE" in a for a in algorithm.risk.alerts.raised)
