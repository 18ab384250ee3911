"""Shared builders over the real bundled data (see data/PROVENANCE.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from replay.market import FutureOptionMarket

DATA = Path(__file__).resolve().parent.parent / "data"
ES_DAY = date(2020, 1, 6)
# 10:00 America/New_York on 2020-01-06 (EST, UTC-5): the strangle's default entry time.
ES_ENTRY_UTC = datetime(2020, 1, 6, 15, 0, tzinfo=UTC)

RELAXED = {
    "strangle_entry_weekday": "-1",
    "strangle_entry_nth_weekday": "0",
    "strangle_iv_rank_min_frac": "0",
    "strangle_consolidation_days": "0",
    "strangle_dte_min": "60",
    "strangle_dte_max": "120",
    "strangle_put_delta_max": "0.25",
}


@pytest.fixture(scope="session")
def es_market() -> FutureOptionMarket:
    """Real ES futures and futures-option quotes of 2020-01-06 (REAL chain, not modelled)."""
    return FutureOptionMarket.load(DATA, "ES", ES_DAY, ES_DAY)


@pytest.fixture()
def report(request):
    """``report(line)``: a line printed in pytest's terminal summary (counts a test wants
    seen in every run, e.g. how many hostile inputs the gate refused)."""
    lines = request.config.__dict__.setdefault("thetadesk_report", [])
    return lines.append


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for line in config.__dict__.get("thetadesk_report", []):
        terminalreporter.write_line(line)
