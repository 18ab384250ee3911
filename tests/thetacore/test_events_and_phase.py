"""Event file parsing and account phases at their boundaries."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from risk.account_phase import account_phase, zdte_contracts
from thetacore.events import EventFileError, first_event_between, parse_events_csv
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
