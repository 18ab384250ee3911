"""Strategy switches for the leanhost tests: run exactly the strategies a test is about."""

from __future__ import annotations

from dataclasses import fields

from thetacore.parameters import Parameters

STRATEGY_SWITCHES: dict[str, str] = {
    "futures_strangle": "strangle_enabled",
    "zero_dte": "zdte_enabled",
    "lt112": "lt112_enabled",
    "ipmcc": "ipmcc_enabled",
    "leap_puts": "leap_puts_enabled",
}
"""Strategy name -> its ``*_enabled`` parameter."""


def only(*names: str) -> dict[str, str]:
    """Parameters switching on exactly the strategies ``names`` (``only()``: none)."""
    unknown = set(names) - set(STRATEGY_SWITCHES)
    assert not unknown, f"unknown strategies {unknown}"
    known = {f.name for f in fields(Parameters)}
    assert set(STRATEGY_SWITCHES.values()) <= known
    return {switch: "true" if name in names else "false" for name, switch in STRATEGY_SWITCHES.items()}
