"""The LEAN host re-marks the buying power of an index-option position (issue 11, BP row of
docs/strategy-rules.md): LEAN serves an index (SPX) as trade bars only, so its bid and ask
stay 0 and the index had no quote at all: every SPXW/SPX position kept its entry buying power
for good. The index's value now stands for both sides (:func:`leanhost.nlv_marks.index_quote`),
validated like every mark (a stale index value keeps the last good buying power).

The position: the 0DTE put credit spread the host sends on the MODELLED SPXW chain around the
REAL SPX 3738.81 (test_leanhost_index_options.py): -1 3710P / +1 3680P, 1 unit, 100 USD/pt.
Reg-T by hand (Cboe: a credit vertical needs its width less its credit; marked at the current
net mid): (30 - (mid 3710P - mid 3680P)) x 100 USD.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest
from gate_world import mark_nlv
from test_leanhost_index_options import _modelled_entry


def _filled(lean: ModuleType, make_algorithm: Callable[..., Any]) -> Any:
    algorithm = _modelled_entry(lean, make_algorithm)
    [order] = algorithm.combo_orders
    short, wing = sorted(order.tickets, key=lambda t: t.quantity)
    algorithm.fill(short, 2.10)
    algorithm.fill(wing, 0.60)
    return algorithm


def _security(algorithm: Any, strike: float) -> Any:
    """The LEAN security of the booked spread's leg at ``strike``."""
    [record] = algorithm.risk.session.records.values()
    [leg] = [leg for leg in record.structure.legs if leg.strike_pts == strike]
    return algorithm.securities[algorithm.risk.router.symbols[leg.symbol]]


def test_an_spxw_spread_is_re_marked_from_the_spx_value_and_kept_when_that_value_is_stale(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _filled(lean, make_algorithm)
    [record] = algorithm.risk.session.records.values()
    short, wing = _security(algorithm, 3710.0), _security(algorithm, 3680.0)
    short.bid_price, short.ask_price = 9.90, 10.10  # the market falls toward the short put: mid 10.00
    wing.bid_price, wing.ask_price = 2.95, 3.05  # mid 3.00
    mark_nlv(algorithm, 99_000.0)
    assert not [line for line in algorithm.logs if line.startswith("BP_MARK_KEPT")]
    assert record.bp_usd == pytest.approx((30 - (10.00 - 3.00)) * 100)  # 2,300 USD
    spx = next(s for s in algorithm.securities.values() if s.symbol.value == "SPX")
    spx.last_data = lean.BaseData(spx.symbol, spx.price, spx.last_data.end_time - timedelta(minutes=10))
    short.bid_price, short.ask_price = 19.90, 20.10
    mark_nlv(algorithm, 98_000.0)
    [kept] = [line for line in algorithm.logs if line.startswith("BP_MARK_KEPT")]
    assert kept.startswith(f"BP_MARK_KEPT {record.position.position_id}: no validated mid for SPX;")
    assert record.bp_usd == pytest.approx(2_300.0)  # the last good mark: a stale index is no value
