"""Fixtures over the REAL ES option chain of 2020-01-06 10:00 ET (tests/risk/gate_builders.py)."""

from tests.risk.gate_builders import ctx, strangle  # noqa: F401
