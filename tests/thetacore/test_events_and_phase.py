"""Event file parsing and account phases at their boundaries."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from risk.account_phase import account_phase, zdte_contracts
from thetacore.events import (
    EventFileError,
    add_weekdays,
    entry_event_block,
    first_event_between,
    parse_events_csv,
)
from thetacore.parameters import load_parameters

ROOT = Path(__file__).resolve().parents[2]


def test_bundled_events_file_parses_and_events_inside_the_span_are_found():
    events = parse_events_csv((ROOT / "data/events/events.csv").read_text())
    assert date(2014, 7, 22) in events["AAPL"]
    assert first_event_between(date(2014, 6, 9), date(2014, 7, 25), events["AAPL"]) == date(2014, 7, 22)
    assert first_event_between(date(2014, 6, 9), date(2014, 7, 21), events["AAPL"]) is None
    assert first_event_between(date(2014, 7, 22), date(2014, 7, 22), events["AAPL"]) == date(2014, 7, 22)


@pytest.mark.parametrize("text", ["sym,when\nAAPL,2014-07-22\n", "symbol,date,kind,note\nAAPL,22/07/2014,e,\n",
                                  "symbol,date,kind,note\n,2014-07-22,e,\n"])
def test_malformed_events_file_names_the_line(text):
    with pytest.raises(EventFileError, match=r"events.csv:\d"):
        parse_events_csv(text)


@pytest.mark.parametrize(("nlv", "phase", "contracts"), [
    (39_999.99, 1, 1), (40_000, 2, 2), (54_999, 2, 2), (55_000, 3, 3), (74_999, 3, 3), (75_000, 4, 4)])
def test_phases_switch_exactly_at_the_rule_thresholds(nlv, phase, contracts):
    p = load_parameters({})
    assert account_phase(nlv, p) == phase
    assert zdte_contracts(phase, p) == contracts


def test_unknown_nlv_has_no_phase():
    with pytest.raises(ValueError, match="known NLV"):
        account_phase(float("nan"), load_parameters({}))


# ----- issue 11: event avoidance per the reference ------------------------------------------------
def test_add_weekdays_skips_the_weekend():
    # Friday 2020-01-03 + 2 weekdays = Tuesday 2020-01-07; + 0 = itself
    assert add_weekdays(date(2020, 1, 3), 2) == date(2020, 1, 7)
    assert add_weekdays(date(2020, 1, 3), 0) == date(2020, 1, 3)


@pytest.mark.parametrize(("expiry", "event", "blocks"), [
    (date(2021, 1, 15), date(2020, 1, 7), True),   # long position, event on the 2nd trading day
    (date(2021, 1, 15), date(2020, 1, 8), False),  # 3rd trading day: later in its life
    (date(2020, 1, 10), date(2020, 1, 9), True),   # 7 DTE < 10: any event before expiry
    (date(2020, 1, 10), date(2020, 1, 13), False),  # after the short position's expiry, beyond 2 days
])
def test_entry_event_block_from_friday_2020_01_03(expiry, event, blocks):
    hit = entry_event_block(date(2020, 1, 3), expiry, (event,), trading_days=2, short_dte_days=10)
    assert (hit == event) is blocks and (hit is None) is not blocks


def test_reg_t_rates_come_from_the_parameters():
    """SPY put, S 300, K 250, premium 2: default 2 + max(0.20 x 300 - 50, 0.10 x 250) = 27;
    with 25% / 12%: 2 + max(75 - 50, 30) = 32. Index (15% / 10%): 2 + max(45 - 50, 25) = 27."""
    from thetacore.enums import Right
    from thetacore.margin import RegTRates, naked_short_bp_pts
    from thetacore.structures import UnderlyingKind
    eq = UnderlyingKind.EQUITY
    assert naked_short_bp_pts(eq, Right.PUT, 250.0, 300.0, 2.0) == pytest.approx(27.0)
    rates = RegTRates.from_parameters(load_parameters({"regt_equity_base_frac": "0.25", "regt_equity_min_frac": "0.12"}))
    assert naked_short_bp_pts(eq, Right.PUT, 250.0, 300.0, 2.0, rates) == pytest.approx(32.0)
    assert naked_short_bp_pts(UnderlyingKind.INDEX, Right.PUT, 250.0, 300.0, 2.0, rates) == pytest.approx(27.0)
