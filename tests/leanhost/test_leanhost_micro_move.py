"""The LEAN host moves a 1-lot ES entry under the drawdown halve step to MES (issue 11;
docs/strategy-rules.md, "Loss limits and drawdown": "a 1-contract entry moves to the micro
product where one exists, else it is refused"; M1), sends it, and manages it from the MES
chain, through main.py in the stand-in.

World: the REAL ES chain of 2020-01-06 10:00 New York (the strangle's relaxed entry:
-1 3000P / -1 3460C 2020-03-20, limit -32.40), and an MES chain CONSTRUCTED from the same
quotes (tests/leanhost/es_world.py ``mes=True``: the bundled data have no MES options; CME: MES
options are 5 USD per point, a tenth of ES's 50). GIVEN NLV marks: a 300,000 peak on
2019-12-02, 270,000 on 2020-01-06 (drawdown 10.0%: the halve step; the day, week and month
start at 270,000, so no loss limit trips).

Sizes by hand: no trade record -> Kelly's one unit: 1 ES, which fits every limit (NLV 270,000:
2% target 5,400 USD) -> halved floor(1 / 2) = 0 -> refused ``DRAWDOWN_HALVE_MICRO``. Moved:
1 x 50 / 5 = 10 MES; Kelly's one unit counted in ES units is 10 MES; each MES unit needs a
tenth of an ES unit's buying power (same scan fraction, a tenth of the multiplier), so 10 MES
fit where 1 ES fit -> 10, halved: floor(10 / 2) = 5 MES, half the ES exposure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import ModuleType
from typing import Any

import pytest
from es_world import ENTRY_UTC, RELAXED, calm_es_market, fill_close, fire, install_es_chain, live_setup
from gate_world import mark_nlv

from strategies.base import PositionState

STRANGLE = "futures_strangle"
PUT, CALL = "MESH20 200320P03000000", "MESH20 200320C03460000"


def _world(lean: ModuleType, make_algorithm: Callable[..., Any], setup: Any = None, *, mes: bool = True,
           **params: str) -> Any:
    algorithm = make_algorithm(setup=setup, **RELAXED, **params)
    install_es_chain(lean, algorithm, mes=mes)
    calm_es_market(algorithm)
    return algorithm


def _entered(lean: ModuleType, make_algorithm: Callable[..., Any], setup: Any = None, *, mes: bool = True,
             halve: bool = True, **params: str) -> Any:
    algorithm = _world(lean, make_algorithm, setup, mes=mes, **params)
    if halve:
        algorithm.utc_time = datetime(2019, 12, 2, 15, 0)
        mark_nlv(algorithm, 300_000.0)
        algorithm.utc_time = datetime(2020, 1, 6, 14, 45)
    mark_nlv(algorithm, 270_000.0)
    algorithm.utc_time = ENTRY_UTC
    fire(algorithm, f"{STRANGLE}:entry")
    return algorithm


def _position(algorithm: Any) -> Any:
    [position] = algorithm.strategies[STRANGLE].positions.values()
    return position


def _requote(algorithm: Any, value: str, bid: float, ask: float) -> None:
    """GIVEN a new quote of the contract ``value`` in the slice's chain and its security."""
    for chain in algorithm.current_slice.option_chains.values():
        for contract in chain:
            if contract.symbol.value == value:
                contract.bid_price, contract.ask_price = bid, ask
                security = algorithm.securities[contract.symbol]
                security.bid_price, security.ask_price = bid, ask


def test_a_one_lot_es_entry_under_the_halve_step_goes_out_as_five_mes_and_closes_at_its_profit_take(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _entered(lean, make_algorithm)

    refused, moved = algorithm.journal.verdicts()
    assert (refused.action, refused.codes) == ("REFUSE", ("DRAWDOWN_HALVE_MICRO",))
    assert (moved.action, moved.codes, moved.details["asked"], moved.details["quantity"]) == (
        "RESIZE", ("DRAWDOWN_HALVE",), 10, 5)
    assert f"{STRANGLE}: 1 ES moved to the micro under the halve step: resize 5 MES" in algorithm.logs
    [entry] = algorithm.combo_orders
    assert entry.quantity == 5 and entry.limit_price == pytest.approx(-32.40)  # same limit in points
    assert [(leg.symbol.value, leg.quantity) for leg in entry.legs] == [(PUT, -1), (CALL, -1)]
    position = _position(algorithm)
    assert position.quantity == 5 and position.structure.multiplier_usd_per_pt == 5.0
    assert [leg.symbol for leg in position.structure.legs] == [PUT, CALL]
    [record] = algorithm.risk.session.records.values()
    assert (record.units, record.position.root) == (5, "MES")
    bp_at_entry = record.bp_usd

    put, call = entry.tickets
    algorithm.fill(put, 29.10)
    algorithm.fill(call, 3.40)
    assert position.state is PositionState.OPEN and position.entry_net_pts == pytest.approx(-32.50)
    # reconciliation: LEAN holds -5 of each MES leg, exactly what the book expects (ADOPT: confirmed)
    [found] = algorithm.reconciler.run("test")
    assert (found.kind.value, found.positions) == ("adopt", ((STRANGLE, position.position_id),))
    assert {algorithm.securities[s].holdings.quantity for s in (put.symbol, call.symbol)} == {-5}

    mark_nlv(algorithm, 270_000.0)  # BP re-marked on the MES legs' quotes and MES margin: no change yet
    assert record.bp_usd == pytest.approx(bp_at_entry)

    # 50% take profit: cost to close at mid 11.25 + 1.10 = 12.35 <= 32.50 / 2
    _requote(algorithm, PUT, 11.00, 11.50)
    _requote(algorithm, CALL, 1.00, 1.20)
    fire(algorithm, f"{STRANGLE}:manage")

    assert position.state is PositionState.CLOSING and position.exit_reason == "TAKE_PROFIT"
    close = algorithm.combo_orders[-1]
    assert close.quantity == 5 and [(leg.symbol.value, leg.quantity) for leg in close.legs] == [(PUT, 1), (CALL, 1)]
    # mid 12.35 + 0.3 x (natural 12.70 - 12.35) = 12.455, up to the 0.05 tick: 12.50
    assert close.limit_price == pytest.approx(12.50)
    realized, stats = fill_close(algorithm, close, 11.50, 1.20)

    assert position.state is PositionState.CLOSED and position.exit_net_pts == pytest.approx(12.70)
    # -(-32.50 + 12.70) x 5 x 5 = 495.00 USD, less Tastytrade's micro fees: to open
    # 10 x (1.50 + 0.30 + 0.22) = 20.20, to close 10 x (0.30 + 0.22) = 5.20
    assert realized.startswith(f"{position.position_id}: +469.60 USD after 25.40 USD fees")
    assert (stats.wins, stats.win_sum_usd) == (1, pytest.approx(469.60))
    assert algorithm.risk.session.records == {}


def test_the_five_mes_hold_half_the_buying_power_of_the_one_es_they_replace(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """Same entry without the drawdown: 1 ES approved. Buying power scales with units x
    multiplier at the same scan fraction: 5 x 5 / (1 x 50) = one half."""
    es = _entered(lean, make_algorithm, halve=False)
    [es_record] = es.risk.session.records.values()
    assert es_record.units == 1 and es.combo_orders[0].quantity == 1
    mes = _entered(lean, make_algorithm)
    [mes_record] = mes.risk.session.records.values()
    assert mes_record.bp_usd == pytest.approx(es_record.bp_usd / 2)
    assert mes_record.position.risk_usd == pytest.approx(es_record.position.risk_usd / 2)


@pytest.mark.parametrize(("mes", "params"), [(False, {}), (True, {"micro_move_enabled": "false"})])
def test_without_an_mes_chain_or_with_the_move_off_the_refusal_stands_and_nothing_is_sent(
    lean: ModuleType, make_algorithm: Callable[..., Any], mes: bool, params: dict[str, str]
) -> None:
    algorithm = _entered(lean, make_algorithm, mes=mes, **params)

    [verdict] = algorithm.journal.verdicts()
    assert (verdict.action, verdict.codes) == ("REFUSE", ("DRAWDOWN_HALVE_MICRO",))
    assert algorithm.combo_orders == [] and algorithm.risk.session.records == {}
    assert _position(algorithm).state is PositionState.CLOSED
    assert any("DRAWDOWN_HALVE_MICRO refusal stands" in line for line in algorithm.logs)


def test_after_a_live_restart_the_mes_position_is_restored_adopted_and_closed_from_the_mes_chain(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """The durable book keeps the moved position (MES legs, 5 units, 5 USD/pt) and the gate's
    MES record; the restarted run adopts LEAN's -5 MES holdings and its take profit closes 5."""
    first = _entered(lean, make_algorithm, live_setup())
    for ticket, price in zip(first.combo_orders[0].tickets, (29.10, 3.40), strict=True):
        first.fill(ticket, price)
    second = _world(lean, make_algorithm, live_setup(first.object_store))
    second.portfolio.total_portfolio_value = 270_000.0  # GIVEN: the account value is unchanged
    for security in first.securities.values():
        if security.holdings.quantity:
            second.securities[security.symbol].holdings.quantity = security.holdings.quantity
    restored = _position(second)
    assert (restored.state, restored.quantity, restored.entry_net_pts) == (PositionState.OPEN, 5, pytest.approx(-32.50))
    assert [leg.symbol for leg in restored.structure.legs] == [PUT, CALL]
    assert restored.structure.multiplier_usd_per_pt == 5.0
    [record] = second.risk.session.records.values()
    assert (record.units, record.position.root) == (5, "MES")
    second.on_warmup_finished()
    assert [e.action for e in second.journal.entries if e.action == "ADOPTED"] == ["ADOPTED"]
    assert "host_reconcile" not in second.risk.session.gate.state.tripped

    _requote(second, PUT, 11.00, 11.50)
    _requote(second, CALL, 1.00, 1.20)
    fire(second, f"{STRANGLE}:manage")
    [close] = second.combo_orders
    assert close.quantity == 5 and [(leg.symbol.value, leg.quantity) for leg in close.legs] == [(PUT, 1), (CALL, 1)]
    assert _position(second).exit_reason == "TAKE_PROFIT"


def test_an_es_position_is_managed_from_the_es_chain_alone_and_a_moved_one_reads_mes_once(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """The MES chain is read only for a position the ES chain does not quote (issue 10's
    one-read-per-decision rule keeps holding for ES positions)."""
    deltas = []
    for halve, roots in ((False, ["ES"]), (True, ["ES", "MES"])):
        algorithm = _entered(lean, make_algorithm, halve=halve)
        for ticket, price in zip(algorithm.combo_orders[0].tickets, (29.10, 3.40), strict=True):
            algorithm.fill(ticket, price)
        reader, reads = algorithm.market.reader, []
        original = reader.read
        reader.read = lambda feed, t, reads=reads, original=original: reads.append(feed.root) or original(feed, t)
        fire(algorithm, f"{STRANGLE}:manage")
        assert reads == roots
        deltas.append(algorithm.dashboard.figures(STRANGLE).net_delta_usd_per_pt)
    # the dashboard's net delta of the MES position, from the MES chain its decision read: the
    # same quotes in points, 5 x 5 USD/pt against 1 x 50: one half of the ES position's
    assert deltas[0] != 0 and deltas[1] == pytest.approx(deltas[0] / 2)
