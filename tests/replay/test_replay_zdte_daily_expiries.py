"""Issue 7 item 10: 0DTE only where daily expiries exist, in the replay.

LEAN source: QuantConnect/Lean ``Common/Securities/FutureOption/FuturesOptionsExpiryFunctions.cs``
(ES options: one ``ThirdFriday`` expiry per contract month). The replay skips the strategy
with a one-line reason in ``problems``, as it does for a strategy without data.
"""

from __future__ import annotations

from pathlib import Path

from replay.engine import run_replay
from thetacore.parameters import load_parameters

DATA = Path(__file__).resolve().parents[2] / "data"
ONLY_ZDTE = {"strangle_enabled": "false", "lt112_enabled": "false", "ipmcc_enabled": "false",
             "leap_puts_enabled": "false"}


def test_when_zero_dte_is_asked_for_es_then_the_replay_refuses_it_with_one_line() -> None:
    result = run_replay(load_parameters({**ONLY_ZDTE, "zdte_underlying": "ES"}), DATA, None, None)

    assert result.strategies == [] and result.decisions == []
    [problem] = result.problems
    assert problem.startswith("zero_dte: refused at start, zdte_underlying=ES: ES options have no daily expiries")
    assert "\n" not in problem


def test_by_default_zero_dte_runs_on_the_spxw_days() -> None:
    result = run_replay(load_parameters(ONLY_ZDTE), DATA, None, None)

    assert [s.name for s in result.strategies] == ["zero_dte"] and result.problems == []
    # the bundled SPXW days (README): 2021-01-04..08 and 2023-06-26
    assert [d.isoformat() for d in result.days["zero_dte"]] == [
        "2021-01-04", "2021-01-05", "2021-01-06", "2021-01-07", "2021-01-08", "2023-06-26"]
