"""Run folders the analytics tests read: the bundled replay (default and relaxed) and the
hand-made LEAN result fixture (tests/analytics/fixtures/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.__main__ import main
from tests.conftest import DATA, RELAXED

LEAN_RUN = Path(__file__).resolve().parent / "fixtures" / "lean_backtest" / "2026-11-29_10-00-00"
RELAXED_VIX = {**RELAXED, "vix_level": "13.85", "vix_prev_close": "14.02"}


def _replay(out: Path, params: dict[str, str]) -> Path:
    argv = ["--data", str(DATA), "--out", str(out)]
    for k, v in params.items():
        argv += ["--parameter", k, v]
    assert main(argv) == 0
    return out


@pytest.fixture(scope="session")
def relaxed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's relaxed replay (one strangle opened on 2020-01-06)."""
    return _replay(tmp_path_factory.mktemp("relaxed"), RELAXED_VIX)


@pytest.fixture(scope="session")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default replay: every strategy declines, no trade."""
    return _replay(tmp_path_factory.mktemp("default"), {})
