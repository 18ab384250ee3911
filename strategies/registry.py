"""Which strategies run: each one enabled or disabled by its ``*_enabled`` parameter.

Both hosts build their strategy list here, so a switch means the same in LEAN and in the
replay.
"""

from __future__ import annotations

from strategies.base import Strategy
from strategies.futures_strangle import FuturesStrangle
from strategies.ipmcc import Ipmcc
from strategies.leap_puts import LeapPuts
from strategies.lt112 import Lt112
from strategies.zero_dte import ZeroDte
from thetacore.parameters import Parameters


def build_strategies(params: Parameters) -> list[Strategy]:
    """Instances of every enabled strategy, in a fixed order."""
    out: list[Strategy] = []
    if params.strangle_enabled:
        out.append(FuturesStrangle(params))
    if params.zdte_enabled:
        out.append(ZeroDte(params))
    if params.lt112_enabled:
        out.append(Lt112(params))
    if params.ipmcc_enabled:
        out.append(Ipmcc(params))
    if params.leap_puts_enabled:
        out.append(LeapPuts(params))
    return out
