"""Correlation groups on the REAL ES chain of 2020-01-06 (data/): entries are the 3050/3000
put credit spread (short puts: passes above VIX 30); open positions are given records."""

from __future__ import annotations

import pytest

from risk.correlation import correlation_reasons, group_limit, group_of
from risk.gate import Gate, GateAction
from tests.risk.gate_builders import NOW, account, market, params, position, put_spread

BRIEF_MAP = {"A1": "ES MES SPX SPXW NQ MNQ RTY", "A2": "SPY QQQ IWM", "B1": "GC MGC ZB ZN", "B2": "HG MHG",
             "C1": "CL MCL", "C2": "NG", "D1": "ZC ZS ZW", "D2": "LE HE", "E": "6E 6J M6E"}


def test_when_a_root_is_looked_up_then_its_group_is_the_rules_table_group():
    for group, roots in BRIEF_MAP.items():
        assert {group_of(r) for r in roots.split()} == {group}
    assert group_of("SPXW*model") == "A1" and group_of("XYZ") is None


@pytest.mark.parametrize(("group", "calm", "stressed"), [("A1", 2, 1), ("A2", 3, 2), ("C2", 1, 0), ("D2", 1, 0)])
def test_when_vix_is_above_30_then_every_limit_is_one_lower(group, calm, stressed):
    p = params()
    assert (group_limit(group, 30.0, p), group_limit(group, 30.01, p)) == (calm, stressed)


def _check(ctx, held, vix=14.0, prev=13.5, **overrides):
    spread, bp = put_spread(ctx, 3050, 3000)
    return Gate(params(**overrides)).check(spread, account(positions=held),
                                           market(spread, ctx, bp, vix_level=vix, vix_prev_close=prev), NOW)


@pytest.mark.parametrize(("n_open", "action"), [(1, GateAction.APPROVE), (2, GateAction.REFUSE)])
def test_when_a1_holds_n_positions_then_a_third_es_entry_is_refused(ctx, n_open, action):
    held = tuple(position(f"es{i}", "ES" if i % 2 else "SPXW") for i in range(n_open))
    v = _check(ctx, held)
    assert v.action is action
    if action is GateAction.REFUSE:
        assert v.codes == ("CORRELATION_GROUP",)
        assert "group A1 (equity index futures) has 2 open >= limit 2" in v.reason_text


def test_when_vix_is_above_30_then_one_open_a1_position_is_the_limit(ctx):
    v = _check(ctx, (position("es0"),), vix=30.5, prev=29.0)
    assert "CORRELATION_GROUP" in v.codes and v.action is GateAction.REFUSE
    assert "has 1 open >= limit 1 (one lower while VIX 30.5 > 30)" in v.reason_text


@pytest.mark.parametrize(("n_spy", "action"), [(1, GateAction.APPROVE), (2, GateAction.REFUSE)])
def test_when_a1_plus_a2_reach_3_then_the_combined_limit_refuses(ctx, n_spy, action):
    held = (position("es0"),) + tuple(position(f"spy{i}", "SPY") for i in range(n_spy))
    v = _check(ctx, held)
    assert v.action is action
    if action is GateAction.REFUSE:
        assert v.codes == ("CORRELATION_A1_A2",) and "groups A1+A2 have 3 open >= limit 3" in v.reason_text


def test_when_an_open_position_has_no_group_then_entries_are_refused(ctx):
    v = _check(ctx, (position("x", "XYZ"),))
    assert v.codes == ("CORRELATION_GROUP_UNKNOWN",) and "1 open position(s) have no correlation group" in v.reason_text


def test_when_the_any_group_cap_is_lower_then_it_binds():
    p = params(corr_limit_any_group="2")
    [r] = correlation_reasons("QQQ", ["A2", "A2"], 14.0, p)
    assert r.code == "CORRELATION_GROUP" and "group A2 (equity ETFs) has 2 open >= limit 2" in r.text
    assert correlation_reasons("NG", [], 14.0, p) == []
    assert correlation_reasons("NG", ["C2"], 14.0, p)[0].text.endswith("has 1 open >= limit 1")
