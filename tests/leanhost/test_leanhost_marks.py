"""The NLV the risk gate sees in LEAN comes from validated marks (issue 8 item 3), through
main.py on the REAL ES chain of 2020-01-06 10:00 New York (the relaxed strangle, -1 3000P /
-1 3460C 2020-03-20, filled at 29.10 / 3.40).

LEAN values an option holding at ``Security.Price`` (``SecurityHolding.HoldingsValue`` =
price x quantity x multiplier, summed into ``SecurityPortfolioManager.TotalPortfolioValue``),
the last quote bar's mid with no check. The stand-in's ``total_portfolio_value`` is GIVEN by
each test as LEAN would compute it from the prices set here. Before issue 8 the gate took that
value as is: one crossed put quote (bid 900) at a mark moved it by ~21,800 USD and tripped the
daily loss limit and every drawdown step, and the flatten went out.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from es_world import fire, relaxed_es_algorithm

STRANGLE = "futures_strangle"
MULTIPLIER = 50.0


def _filled(lean: ModuleType, make_algorithm: Callable[..., Any]) -> tuple[Any, Any, Any]:
    algorithm = relaxed_es_algorithm(lean, make_algorithm)
    fire(algorithm, f"{STRANGLE}:entry")
    put, call = algorithm.combo_orders[0].tickets
    algorithm.fill(put, 29.10)
    algorithm.fill(call, 3.40)
    return algorithm, algorithm.securities[put.symbol], algorithm.securities[call.symbol]


def _quote(algorithm: Any, security: Any, bid: float, ask: float, base_nlv: float, base_price: float) -> None:
    """The put quoted ``bid``/``ask``; LEAN's price is their mid and its account value moves by
    the short put's change in holdings value (GIVEN as LEAN computes it)."""
    security.bid_price, security.ask_price, security.price = bid, ask, (bid + ask) / 2
    algorithm.portfolio.total_portfolio_value = base_nlv - MULTIPLIER * (security.price - base_price)


@pytest.mark.parametrize(("bid", "ask", "code"), [(900.0, None, "QUOTE_CROSSED"), (-900.0, None, "QUOTE_NONPOSITIVE"),
                                                  (1.0, 400.0, "QUOTE_SPREAD_WIDE")])
def test_when_one_put_quote_at_a_mark_is_crossed_negative_or_wide_then_the_gate_nlv_does_not_move(
    lean: ModuleType, make_algorithm: Callable[..., Any], bid: float, ask: float | None, code: str
) -> None:
    algorithm, put, _ = _filled(lean, make_algorithm)
    good = put.price
    algorithm.portfolio.total_portfolio_value = 100_000.0
    fire(algorithm, "gate:nlv")  # a good mark: the put at its real mid
    state = algorithm.risk.session.gate.state
    assert state.last_nlv_usd == 100_000.0

    _quote(algorithm, put, bid, put.ask_price if ask is None else ask, 100_000.0, good)
    assert abs(algorithm.portfolio.total_portfolio_value - 100_000.0) > 5_000  # what LEAN reports: > 5% away
    orders = len(algorithm.combo_orders)
    fire(algorithm, "gate:nlv")

    assert state.last_nlv_usd == pytest.approx(100_000.0) and state.peak_nlv_usd == pytest.approx(100_000.0)
    assert state.tripped == {} and len(algorithm.combo_orders) == orders
    [rejected] = [e for e in algorithm.errors if e.startswith("MARK_REJECTED")]
    assert code in rejected and f"LEAN security {put.symbol.value}" in rejected
    assert rejected.endswith(f"mark kept at {good:g}")


def test_when_the_put_really_moves_then_the_gate_nlv_follows_leans_value(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, put, _ = _filled(lean, make_algorithm)
    good = put.price
    algorithm.portfolio.total_portfolio_value = 100_000.0
    fire(algorithm, "gate:nlv")

    _quote(algorithm, put, 40.00, 40.50, 100_000.0, good)  # a real, valid quote: the put is up
    fire(algorithm, "gate:nlv")

    expected = 100_000.0 - MULTIPLIER * (40.25 - good)  # by hand: the short put's loss
    assert algorithm.risk.session.gate.state.last_nlv_usd == pytest.approx(expected)
    assert not [e for e in algorithm.errors if e.startswith("MARK_REJECTED")]


def test_when_a_flatten_meets_a_crossed_put_then_its_close_is_refused_by_the_gate_and_alerted(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """A real 21% fall (GIVEN) trips the flatten step while the put's quote is crossed: the
    close is not sent (the gate's exit checks refuse it) until the quote is good again."""
    algorithm, put, _ = _filled(lean, make_algorithm)
    ask = put.ask_price
    algorithm.portfolio.total_portfolio_value = 100_000.0
    fire(algorithm, "gate:nlv")

    put.bid_price = ask + 5.0  # crossed; LEAN's price unchanged
    algorithm.portfolio.total_portfolio_value = 79_000.0
    fire(algorithm, "gate:nlv")

    assert "drawdown_flatten" in algorithm.risk.session.gate.state.tripped
    assert len(algorithm.combo_orders) == 1
    assert any("GATE_FLATTEN: close of" in e and "refused by the gate's exit checks" in e and "QUOTE_CROSSED" in e
               for e in algorithm.errors)

    put.bid_price = ask - 0.25
    fire(algorithm, "gate:nlv")  # the request holds: retried with the good quote
    assert len(algorithm.combo_orders) == 2 and "close GATE_FLATTEN" in algorithm.combo_orders[-1].tag


def test_when_a_decision_meets_a_crossed_put_then_the_gate_marks_the_validated_nlv_not_leans(
    lean: ModuleType, make_algorithm: Callable[..., Any], host: Callable[[str], ModuleType]
) -> None:
    """The decision's market context carries LEAN's ``total_portfolio_value``; the gate checks
    every intent with the validated NLV instead (its check marks the NLV it is given)."""
    from risk.flatten import close_intent
    from thetacore.decisions import Decision
    from thetacore.enums import Action

    algorithm, put, _ = _filled(lean, make_algorithm)
    good = put.price
    algorithm.portfolio.total_portfolio_value = 100_000.0
    fire(algorithm, "gate:nlv")
    _quote(algorithm, put, 900.0, put.ask_price, 100_000.0, good)  # LEAN: ~78,000

    strategy = algorithm.strategies[STRANGLE]
    [pos] = strategy.open_positions()
    intent = close_intent(STRANGLE, pos, algorithm.risk.quote, "TEST")
    assert intent is not None
    now = host("scheduling").now_utc(algorithm)
    ctx = algorithm.market.context(algorithm.market.feed_of(strategy), now)
    assert ctx.nlv_usd < 80_000  # what LEAN says
    algorithm.risk.route(strategy, Decision(now, STRANGLE, Action.EXITED, (), intent), ctx)

    state = algorithm.risk.session.gate.state
    assert state.last_nlv_usd == pytest.approx(100_000.0) and state.tripped == {}
    # the exit itself is judged on the decision's chain (the slice's real quotes): approved
    assert algorithm.journal.verdicts()[-1].action == "APPROVE"
