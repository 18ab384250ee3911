"""The LEAN host re-marks buying power in use at each scheduled NLV mark (issue 11;
docs/strategy-rules.md, "Risk", BP row): the REAL-chain ES strangle opened through main.py
(-1 3000P / -1 3460C 2020-03-20) is re-marked from its legs' and its future's current quotes
(:meth:`leanhost.risk_desk.RiskDesk.mark_bp`), and keeps its last good mark when a leg's
quote is crossed. The futures scan itself is tested elsewhere (its model is issue 11's other
branch); here the host's wiring: the mark reads the LEAN securities the router holds and the
option's ``Symbol.Underlying`` (LEAN ``Common/Symbol.cs`` ``Underlying`` / ``HasUnderlying``)."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from gate_world import mark_nlv
from test_leanhost_risk_gate import _filled


def _put_security(algorithm: Any) -> Any:
    [record] = algorithm.risk.session.records.values()
    put = next(leg for leg in record.structure.legs if leg.ratio < 0 and int(leg.right) == -1)
    return algorithm.securities[algorithm.risk.router.symbols[put.symbol]]


def test_when_the_short_put_doubles_then_the_next_mark_raises_bp_in_use_and_a_crossed_quote_keeps_it(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _filled(lean, make_algorithm)
    [record] = algorithm.risk.session.records.values()
    assert record.structure is not None and record.units == 1
    mark_nlv(algorithm, 100_000.0)
    calm = record.bp_usd
    assert calm > 0
    put = _put_security(algorithm)
    put.bid_price, put.ask_price = 2 * put.bid_price, 2 * put.ask_price  # the put's premium doubles
    mark_nlv(algorithm, 99_000.0)
    spiked = record.bp_usd
    assert spiked > calm  # a higher premium at the same future is a higher IV: the scan loss grows
    put.bid_price, put.ask_price = put.ask_price + 1.0, put.ask_price  # crossed: no price
    mark_nlv(algorithm, 99_000.0)
    assert record.bp_usd == pytest.approx(spiked)


def test_a_wide_put_quote_the_nlv_marks_reject_keeps_the_last_good_bp_mark(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """The put's quote widens to bid b / ask 3b (two-sided, positive, uncrossed: the removed
    ``bp_marks.validated_mid`` took its mid 2b, the doubled premium above); its spread 2b is
    100% of that mid > ``safety_max_spread_frac_of_mid`` 50%: the NLV marks reject it
    (:class:`risk.marks.MarkBook`), and so does the BP re-mark: BP stays at its last good mark.
    The same quote tightened to 2b -/+ 0.05 is taken, and BP rises as with a real doubling."""
    algorithm = _filled(lean, make_algorithm)
    [record] = algorithm.risk.session.records.values()
    mark_nlv(algorithm, 100_000.0)
    calm = record.bp_usd
    put = _put_security(algorithm)
    bid = put.bid_price
    put.bid_price, put.ask_price = bid, 3 * bid
    mark_nlv(algorithm, 99_000.0)
    assert record.bp_usd == pytest.approx(calm)
    assert algorithm.risk.marks.last_good[str(put.symbol.value)][0] != pytest.approx(2 * bid)  # NLV kept too
    put.bid_price, put.ask_price = 2 * bid - 0.05, 2 * bid + 0.05
    mark_nlv(algorithm, 99_000.0)
    assert record.bp_usd > calm
