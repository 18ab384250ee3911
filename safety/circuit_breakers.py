"""Market circuit breakers: stop new entries in a disorderly market.

* ``CIRCUIT_VIX_LEVEL``: VIX >= ``circuit_vix_level`` (40);
* ``CIRCUIT_VIX_JUMP``: VIX up more than ``circuit_vix_jump_frac`` (30%) from its previous
  close;
* ``CIRCUIT_UNDERLYING_MOVE``: the order's underlying moved more than
  ``circuit_underlying_move_frac`` (4%) either way from its previous close.

A tripped breaker stops entries for the rest of the exchange day (the gate latches it in its
state, so a VIX that spikes and settles back does not reopen the day) and, when
``circuit_flatten`` is true, asks hosts to flatten open positions. Exits always pass. The
inputs must be finite and positive: the gate refuses an entry before it gets here when they
are not (missing data is never a pass).
"""

from __future__ import annotations

from thetacore.decisions import Reason
from thetacore.parameters import Parameters


def circuit_reasons(p: Parameters, *, vix: float, vix_prev_close: float, root: str,
                    underlying_pts: float, underlying_prev_close: float) -> list[tuple[str, Reason]]:
    """``[(latch name, reason)]`` for every breaker the market trips now (empty: none).

    Args:
        vix, vix_prev_close: VIX now and at the previous close (index points).
        root: the order's option root (names the underlying-move latch).
        underlying_pts, underlying_prev_close: the underlying now and at its previous close.
    """
    out = []
    if vix >= p.circuit_vix_level:
        out.append(("circuit_vix_level", Reason("CIRCUIT_VIX_LEVEL", f"VIX {vix:.2f} >= {p.circuit_vix_level:g}")))
    jump = vix / vix_prev_close - 1.0
    if jump > p.circuit_vix_jump_frac:
        out.append(("circuit_vix_jump", Reason("CIRCUIT_VIX_JUMP", f"VIX {vix:.2f} up {jump:.2%} from previous "
                    f"close {vix_prev_close:.2f} > {p.circuit_vix_jump_frac:.2%}")))
    move = underlying_pts / underlying_prev_close - 1.0
    if abs(move) > p.circuit_underlying_move_frac:
        out.append((f"circuit_move_{root}", Reason("CIRCUIT_UNDERLYING_MOVE", f"{root} {underlying_pts:,.2f} "
                    f"moved {move:+.2%} from previous close {underlying_prev_close:,.2f}; |move| > "
                    f"{p.circuit_underlying_move_frac:.2%}")))
    return out
