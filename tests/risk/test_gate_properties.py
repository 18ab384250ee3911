"""Property tests of the gate over the REAL ES strangle of 2020-01-06 10:00 ET (data/) and its
closing order: hypothesis spoils the real inputs in hostile ways (bad numbers, and wrong types:
``None``, strings, booleans, float quantities, NaN, infinities, negatives) and the gate must
refuse each one FOR THE REASON that spoiling it should cause, with a reason and never a
traceback; over sane random accounts and markets, its verdicts keep their invariants.

Each hostile example spoils one input (:data:`ENTRY_KINDS` / :data:`EXIT_KINDS`); the reason
code it must cause is computed here from the spoiled value alone (a wrong type or a non-finite
number is MISSING/NAN/INVALID, a zero or negative number NONPOSITIVE/INVALID...), not read
from the gate. A second test combines two or three spoils. The counts are printed in pytest's
terminal summary.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections import Counter
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk.buying_power_limits import bp_limit_frac
from risk.correlation import ROOT_GROUP
from risk.gate import Gate, GateAction
from risk.gate_inputs import OpenPosition
from tests.risk.gate_builders import GOOD_STATS, MARCH, NOW, account, closing, market, params, position, stats
from thetacore.enums import IntentPurpose

HOSTILE_EXAMPLES = 1_200
WRONG_TYPES = st.sampled_from([None, "1.5", "", "nan", True, False, b"2", [1.0], object()])
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
NON_POSITIVE = st.one_of(st.just(0.0), st.just(0), st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),
                         st.integers(max_value=-1))
BAD_NUMBER = st.one_of(WRONG_TYPES, NON_FINITE, NON_POSITIVE)
BAD_QUANTITY = st.one_of(WRONG_TYPES, NON_FINITE, st.floats(0.01, 1e6).filter(lambda x: x != int(x)),
                         st.sampled_from([1.0, 2.0, 0, -1, -(10**9)]))
BAD_TIME = st.one_of(st.none(), st.sampled_from(["2020-01-06T15:00:00Z", 1578322800, True]),
                     st.just(NOW.replace(tzinfo=None)))
QUOTE_KINDS = ("price", "crossed", "wide", "stale", "missing")
ENTRY_KINDS = (*QUOTE_KINDS, "quantity", "quantity_big", "limit", "limit_far", "vix", "nlv", "market_number", "tick")
EXIT_KINDS = (*QUOTE_KINDS, "quantity", "quantity_big", "limit", "limit_far", "unknown_position", "tick")
_SETTINGS = {"deadline": None, "database": None, "suppress_health_check": [HealthCheck.too_slow]}


def _real(x: object) -> bool:
    """A real finite number (an ``int`` or ``float``, never a ``bool``)."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _number_code(value: object) -> str:
    """What an entry's bad number must cause: unknown (MISSING) or impossible (INVALID)."""
    return "DATA_INVALID" if _real(value) else "DATA_MISSING"


def _spoil_quote(draw, m, kind):
    """``(market, expected code)`` with one leg's quote spoiled as ``kind``."""
    i = draw(st.integers(0, len(m.quotes) - 1))
    q = m.quotes[i]
    if kind == "missing":
        keep = draw(st.sampled_from(["one", "none", "None", "not_quotes"]))
        quotes = {"one": m.quotes[:i] + m.quotes[i + 1:], "none": (), "None": None,
                  "not_quotes": tuple((q.symbol, q.bid_pts, q.ask_pts) for q in m.quotes)}[keep]
        return dataclasses.replace(m, quotes=quotes), "QUOTE_MISSING"
    if kind == "price":
        side, value = draw(st.sampled_from(["bid_pts", "ask_pts"])), draw(BAD_NUMBER)
        q, code = dataclasses.replace(q, **{side: value}), "QUOTE_NONPOSITIVE" if _real(value) else "QUOTE_NAN"
    elif kind == "crossed":
        q, code = dataclasses.replace(q, bid_pts=q.ask_pts + draw(st.floats(0.01, 1e6))), "QUOTE_CROSSED"
    elif kind == "wide":  # spread / mid = 2 (1 - f) / (1 + f) > 0.5 for f < 0.6; wider than 4 ticks too
        q, code = dataclasses.replace(q, bid_pts=q.ask_pts * draw(st.floats(1e-6, 0.59))), "QUOTE_SPREAD_WIDE"
    else:  # stale: too old, ahead of the decision, or no usable time (None, naive, not a datetime)
        when = draw(st.one_of(st.floats(121.0, 1e8).map(lambda s: NOW - timedelta(seconds=s)),
                              st.floats(2.0, 1e8).map(lambda s: NOW + timedelta(seconds=s)), BAD_TIME))
        q = dataclasses.replace(q, quote_time_utc=when)
        code = ("QUOTE_TIME_MISSING" if not isinstance(when, datetime) or when.tzinfo is None
                else "QUOTE_STALE" if when < NOW else "QUOTE_TIME_AHEAD")
    return dataclasses.replace(m, quotes=m.quotes[:i] + (q,) + m.quotes[i + 1:]), code


def _with(intent, **fields):
    """A copy of ``intent`` with any ``fields`` (``OrderIntent`` itself refuses some quantity
    types; a host bug or a restored file can still hand the gate one)."""
    out = copy.copy(intent)
    for name, value in fields.items():
        object.__setattr__(out, name, value)
    return out


def _spoil(draw, intent, acct, m, kind):
    """``(intent, account, market, expected code)`` with one hostile change of ``kind``."""
    closing_order = intent.purpose is IntentPurpose.CLOSE
    if kind in QUOTE_KINDS:
        m, code = _spoil_quote(draw, m, kind)
        return intent, acct, m, code
    if kind == "quantity":
        return _with(intent, quantity=draw(BAD_QUANTITY)), acct, m, "QUANTITY_INVALID"
    if kind == "quantity_big":  # whole numbers: more than held (exits), more contracts than one order may carry
        qty = draw(st.integers(2, 10**9) if closing_order else st.integers(11, 10**9))
        code = ("CLOSE_TOO_LARGE" if qty >= 11 else "CLOSE_MORE_THAN_HELD") if closing_order else "FAT_FINGER_CONTRACTS"
        return _with(intent, quantity=qty), acct, m, code
    if kind == "limit":
        value = draw(st.one_of(WRONG_TYPES, NON_FINITE))
        return _with(intent, limit_pts=value), acct, m, "LIMIT_INVALID"
    if kind == "limit_far":
        mid = 32.5 if closing_order else -32.5
        away = draw(st.one_of(st.floats(0.31, 1e9), st.floats(-1e9, -0.31)))
        return _with(intent, limit_pts=mid + away), acct, m, "LIMIT_OUTSIDE_BAND"
    if kind == "unknown_position":
        return intent, dataclasses.replace(acct, positions=()), m, "CLOSE_UNKNOWN_POSITION"
    value = draw(BAD_NUMBER)
    if kind == "tick":  # the combo tick (limit-band and spread-floor slack); 0 is a valid "no tick"
        value = -0.05 if _real(value) and value == 0 else value
        return intent, acct, dataclasses.replace(m, tick_pts=value), _number_code(value)
    if kind == "nlv":
        return intent, dataclasses.replace(acct, nlv_usd=value), m, _number_code(value)
    if kind == "vix":
        return intent, acct, dataclasses.replace(m, vix_level=value), _number_code(value)
    name = draw(st.sampled_from(["vix_prev_close", "underlying_pts", "underlying_prev_close",
                                 "bp_usd_per_unit", "max_loss_usd_per_unit"]))
    if name in ("bp_usd_per_unit", "max_loss_usd_per_unit") and _real(value) and value == 0:
        value = -1.0  # 0 is a valid buying power / loss: spoil with a negative one
    if name == "max_loss_usd_per_unit" and value is None:
        value = math.nan  # None is the valid "undefined risk" (a strangle's own value)
    return intent, acct, dataclasses.replace(m, **{name: value}), _number_code(value)


# codes a spoil may bring along besides its own (sizing reacts to a huge size; a huge exit is also more than held)
_COMPANIONS = {"FAT_FINGER_CONTRACTS": {"FAT_FINGER_NOTIONAL", "BP_LIMIT", "TRADE_RISK_CAP", "KELLY_CAP",
                                        "TRADE_RISK_ABOVE_TARGET"},
               "CLOSE_TOO_LARGE": {"CLOSE_MORE_THAN_HELD"},
               "QUOTE_MISSING": set()}


@st.composite
def hostile(draw, base_entry, base_close, max_spoils=1):
    """(intent, account, market, kinds, expected codes) with one to ``max_spoils`` hostile
    changes to a real, approvable input."""
    purpose = draw(st.sampled_from([IntentPurpose.OPEN, IntentPurpose.CLOSE]))
    intent, acct, m = base_entry if purpose is IntentPurpose.OPEN else base_close
    kinds = draw(st.lists(st.sampled_from(ENTRY_KINDS if purpose is IntentPurpose.OPEN else EXIT_KINDS),
                          min_size=1, max_size=max_spoils, unique=True))
    # one spoil per field (the last would win; a spoiled quote is no base for another spoil)
    same_field = {"quantity_big": "quantity", "limit_far": "limit", **dict.fromkeys(QUOTE_KINDS, "quote")}
    kinds = [k for i, k in enumerate(kinds) if same_field.get(k, k) not in [same_field.get(j, j) for j in kinds[:i]]]
    codes = []
    for kind in kinds:
        if kind in QUOTE_KINDS and not m.quotes:
            continue
        intent, acct, m, code = _spoil(draw, intent, acct, m, kind)
        codes.append(code)
    return intent, acct, m, tuple(kinds), tuple(codes)


def _bases(strangle, ctx):
    intent, bp = strangle
    entry = (intent, account(100_000, strategy_stats=(stats(intent.strategy, *GOOD_STATS),)), market(intent, ctx, bp))
    close = closing(intent, ctx)
    held = dataclasses.replace(position(intent.position_id), units=1)
    exit_ = (close, account(100_000, positions=(held,)), market(close, ctx, bp))
    return entry, exit_


def test_when_one_real_input_is_spoiled_then_the_gate_refuses_it_for_that_reason(strangle, ctx, report):
    entry, exit_ = _bases(strangle, ctx)
    p = params()
    assert Gate(p).check(*entry, NOW).action is GateAction.APPROVE  # the unspoiled inputs pass
    assert Gate(p).check(*exit_, NOW).action is GateAction.APPROVE
    seen: Counter[str] = Counter()

    @settings(max_examples=HOSTILE_EXAMPLES, **_SETTINGS)
    @given(case=hostile(entry, exit_))
    def run(case):
        intent, acct, m, kinds, (code,) = case
        v = Gate(p).check(intent, acct, m, NOW)
        assert v.action is GateAction.REFUSE and v.quantity == 0, (kinds, v)
        assert code in v.codes, (kinds, code, v.codes)
        assert set(v.codes) <= {code} | _COMPANIONS.get(code, set()), (kinds, code, v.codes)
        assert all(r.text for r in v.reasons)
        seen[f"{intent.purpose.value}:{code}"] += 1

    run()
    total = sum(seen.values())
    report(f"hostile inputs refused by the risk gate for the reason their spoiling causes: {total} of {total} "
           f"({sum(n for k, n in seen.items() if k.startswith('open'))} entries, "
           f"{sum(n for k, n in seen.items() if k.startswith('close'))} exits); codes {dict(seen.most_common())}")
    assert total >= 1_000
    assert len(seen) >= 25  # every spoil kind and most of its codes were generated


def test_when_several_real_inputs_are_spoiled_then_each_spoil_that_is_checked_is_named(strangle, ctx):
    """Two or three spoils at once. Entries: data problems stop the check at step 1, so the
    reasons are the data spoils' codes when there is one, otherwise the later steps' codes.
    Exits: data problems (quotes, limit, tick) hide the band check; the structural codes always
    show."""
    entry, exit_ = _bases(strangle, ctx)
    p = params()
    later = {"FAT_FINGER_CONTRACTS", "LIMIT_OUTSIDE_BAND"}

    @settings(max_examples=400, **_SETTINGS)
    @given(case=hostile(entry, exit_, max_spoils=3))
    def run(case):
        intent, acct, m, kinds, codes = case
        v = Gate(p).check(intent, acct, m, NOW)
        assert v.action is GateAction.REFUSE and v.quantity == 0 and v.reasons, (kinds, v)
        shown = set(v.codes)
        if intent.purpose is IntentPurpose.OPEN:
            data = set(codes) - later
            expected = data or set(codes)
        else:
            data = any(c.startswith(("QUOTE", "DATA")) or c == "LIMIT_INVALID" for c in codes)
            expected = set(codes) - ({"LIMIT_OUTSIDE_BAND"} if data else set())  # the band needs good data
            if "QUANTITY_INVALID" in codes:  # no size to compare with the held units or the cap
                expected -= {"CLOSE_TOO_LARGE", "CLOSE_MORE_THAN_HELD"}
            if "CLOSE_UNKNOWN_POSITION" in codes:  # no held units to compare with
                expected -= {"CLOSE_MORE_THAN_HELD"}
        assert expected <= shown, (kinds, codes, v.codes)

    run()


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
