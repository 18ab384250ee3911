"""Property tests of the gate over the REAL ES strangle of 2020-01-06 10:00 ET (data/) and its
closing order: hypothesis spoils the real inputs in hostile ways and the gate must approve
none of them; over sane random accounts and markets, its verdicts keep their invariants.

The count of hostile inputs generated and refused is printed in pytest's terminal summary.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk.buying_power_limits import bp_limit_frac
from risk.correlation import ROOT_GROUP
from risk.gate import Gate, GateAction
from risk.gate_inputs import OpenPosition
from tests.risk.gate_builders import GOOD_STATS, MARCH, NOW, account, closing, market, params, position, stats
from thetacore.enums import IntentPurpose

HOSTILE_EXAMPLES = 1_200
BAD_NUMBER = st.one_of(st.sampled_from([math.nan, math.inf, -math.inf, 0.0]),
                       st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False))
ENTRY_KINDS = ("price", "crossed", "zero_bid", "stale", "missing", "wide", "quantity", "limit", "vix", "nlv",
               "market_number")
EXIT_KINDS = ("price", "crossed", "zero_bid", "stale", "missing", "wide", "quantity", "limit", "unknown_position")
_SETTINGS = {"deadline": None, "database": None, "suppress_health_check": [HealthCheck.too_slow]}


def _spoil_quote(draw, m, kind):
    if not m.quotes:
        return m
    i = draw(st.integers(0, len(m.quotes) - 1))
    q = m.quotes[i]
    if kind == "missing":
        keep = draw(st.sampled_from(["one", "none"]))
        return dataclasses.replace(m, quotes=() if keep == "none" else m.quotes[:i] + m.quotes[i + 1:])
    if kind == "price":
        side = draw(st.sampled_from(["bid_pts", "ask_pts"]))
        q = dataclasses.replace(q, **{side: draw(BAD_NUMBER)})
    elif kind == "crossed":
        q = dataclasses.replace(q, bid_pts=q.ask_pts + draw(st.floats(0.01, 1e6)))
    elif kind == "zero_bid":
        q = dataclasses.replace(q, bid_pts=0.0)
    elif kind == "wide":
        q = dataclasses.replace(q, bid_pts=q.ask_pts * draw(st.floats(1e-6, 0.59)))
    elif kind == "stale":
        shift = draw(st.one_of(st.floats(121.0, 1e8), st.floats(-1e8, -2.0), st.none()))
        q = dataclasses.replace(q, quote_time_utc=None if shift is None else NOW - timedelta(seconds=shift))
    return dataclasses.replace(m, quotes=m.quotes[:i] + (q,) + m.quotes[i + 1:])


@st.composite
def hostile(draw, base_entry, base_close):
    """(intent, account, market) with one to three hostile changes to a real, approvable input."""
    purpose = draw(st.sampled_from([IntentPurpose.OPEN, IntentPurpose.CLOSE]))
    intent, acct, m = base_entry if purpose is IntentPurpose.OPEN else base_close
    kinds = draw(st.lists(st.sampled_from(ENTRY_KINDS if purpose is IntentPurpose.OPEN else EXIT_KINDS),
                          min_size=1, max_size=3))
    mid = -32.5 if purpose is IntentPurpose.OPEN else 32.5
    for kind in kinds:
        if kind == "quantity":
            intent = dataclasses.replace(intent, quantity=draw(st.integers(11, 10**9)))
        elif kind == "limit":
            away = draw(st.one_of(st.floats(0.31, 1e9), st.floats(-1e9, -0.31), st.sampled_from([math.nan, math.inf])))
            intent = dataclasses.replace(intent, limit_pts=mid + away)
        elif kind == "vix":
            m = dataclasses.replace(m, vix_level=draw(BAD_NUMBER))
        elif kind == "nlv":
            acct = dataclasses.replace(acct, nlv_usd=draw(BAD_NUMBER))
        elif kind == "market_number":
            name = draw(st.sampled_from(["vix_prev_close", "underlying_pts", "underlying_prev_close",
                                         "bp_usd_per_unit", "max_loss_usd_per_unit"]))
            value = draw(st.one_of(st.sampled_from([math.nan, math.inf]), st.floats(-1e9, -1e-6)))
            m = dataclasses.replace(m, **{name: value})
        elif kind == "unknown_position":
            acct = dataclasses.replace(acct, positions=())
        else:
            m = _spoil_quote(draw, m, kind)
    return intent, acct, m, tuple(kinds)


def _bases(strangle, ctx):
    intent, bp = strangle
    entry = (intent, account(100_000, strategy_stats=(stats(intent.strategy, *GOOD_STATS),)), market(intent, ctx, bp))
    close = closing(intent, ctx)
    exit_ = (close, account(100_000, positions=(position(intent.position_id),)), market(close, ctx, bp))
    return entry, exit_


def test_when_real_inputs_are_spoiled_then_the_gate_approves_none_of_them(strangle, ctx, report):
    entry, exit_ = _bases(strangle, ctx)
    p = params()
    assert Gate(p).check(*entry, NOW).action is GateAction.APPROVE  # the unspoiled inputs pass
    assert Gate(p).check(*exit_, NOW).action is GateAction.APPROVE
    refused: list[IntentPurpose] = []

    @settings(max_examples=HOSTILE_EXAMPLES, **_SETTINGS)
    @given(case=hostile(entry, exit_))
    def run(case):
        intent, acct, m, kinds = case
        v = Gate(p).check(intent, acct, m, NOW)
        assert v.action is GateAction.REFUSE and v.quantity == 0, (kinds, v)
        assert v.reasons and all(r.code.isupper() for r in v.reasons)
        refused.append(intent.purpose)

    run()
    report(f"hostile inputs refused by the risk gate: {len(refused)} of {len(refused)} "
           f"({refused.count(IntentPurpose.OPEN)} entries, {refused.count(IntentPurpose.CLOSE)} exits)")
    assert len(refused) >= 1_000


ROOTS = sorted(ROOT_GROUP)


@st.composite
def sane(draw):
    """Ordinary accounts and markets: most checks pass, so caps and resizes are exercised."""
    nlv = draw(st.floats(60_000, 5_000_000))
    vix = draw(st.floats(10.0, 38.0))
    held = tuple(OpenPosition(f"p{i}", draw(st.sampled_from(["a", "b", "futures_strangle"])),
                              draw(st.sampled_from(ROOTS)), MARCH, draw(st.booleans()), draw(st.booleans()), 1_000.0)
                 for i in range(draw(st.integers(0, 2))))
    record = stats("futures_strangle", draw(st.integers(0, 60)), draw(st.integers(0, 20)),
                   draw(st.floats(50, 1_000)), draw(st.floats(50, 1_000)))
    return dict(nlv=nlv, in_use=draw(st.floats(0, 0.7)) * nlv, vix=vix, prev=vix / draw(st.floats(0.8, 1.25)),
                asked=draw(st.integers(1, 6)), positions=held, record=record)


def test_when_sane_inputs_vary_then_every_verdict_keeps_the_limits(strangle, ctx):
    intent, bp = strangle
    base, p = market(intent, ctx, bp), params()
    seen, codes = [], Counter()

    @settings(max_examples=400, **_SETTINGS)
    @given(case=sane())
    def run(case):
        ask = dataclasses.replace(intent, quantity=case["asked"])
        acct = account(case["nlv"], case["in_use"], case["positions"], (case["record"],))
        m = dataclasses.replace(base, vix_level=case["vix"], vix_prev_close=case["prev"])
        v = Gate(p).check(ask, acct, m, NOW)
        q = v.quantity
        assert 0 <= q <= ask.quantity
        assert (v.action is GateAction.REFUSE) == (q == 0)
        assert (v.action is GateAction.RESIZE) == (0 < q < ask.quantity)
        if q:
            assert case["in_use"] + q * bp <= bp_limit_frac(case["vix"], p)[0] * case["nlv"] + 1e-6
            assert bp <= p.max_risk_per_trade_hard_frac * case["nlv"] + 1e-6
            assert q == 1 or q * bp <= p.max_risk_per_trade_frac * case["nlv"] + 1e-6
            assert 2 * q <= p.safety_max_contracts_per_order and case["vix"] < p.circuit_vix_level
        seen.append(v.action)
        codes.update(v.codes)

    run()
    print(f"sane inputs checked: {len(seen)} ({seen.count(GateAction.APPROVE)} approved, "
          f"{seen.count(GateAction.RESIZE)} resized, {seen.count(GateAction.REFUSE)} refused); codes {dict(codes.most_common())}")
