"""A 1-contract entry under the drawdown halve step, moved to the micro product.

Rule (docs/strategy-rules.md, "Risk", drawdown row): "-10%: halve new position sizes (a
1-contract entry moves to the micro product where one exists, else it is refused)". The
micro of ES is MES (:func:`risk.sizing.micro_root`): the same strikes and expiry, a tenth of
the multiplier (CME: ES options 50 USD per point, MES options 5 USD per point).

:func:`micro_intent` builds the micro entry from the micro's chain: every leg's right, strike
and expiry must be quoted there (else None: the gate's ``DRAWDOWN_HALVE_MICRO`` refusal
stands). It asks ``multiplier / micro multiplier`` units (10 MES for 1 ES), so that the gate's
halving gives half the ES exposure (5 MES) and every other limit is checked on the micro
entry itself.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from thetacore.chain import ChainSnapshot
from thetacore.decisions import OrderIntent


def micro_intent(intent: OrderIntent, micro_chain: ChainSnapshot) -> OrderIntent | None:
    """``intent`` on ``micro_chain`` (same rights, strikes, expiries; same limit in points),
    asking ``intent.quantity x multiplier / micro multiplier`` units; None when a leg has no
    row in ``micro_chain`` or the multipliers are not a whole ratio."""
    s = intent.structure
    ratio = s.multiplier_usd_per_pt / micro_chain.multiplier_usd_per_pt
    if ratio < 1 or abs(ratio - round(ratio)) > 1e-9:
        return None
    legs = []
    for leg in s.legs:
        hit = np.flatnonzero((micro_chain.right == int(leg.right)) & (micro_chain.strike_pts == leg.strike_pts)
                             & (micro_chain.expiry == np.datetime64(leg.expiry, "D")))
        if len(hit) == 0:
            return None
        i = int(hit[0])
        legs.append(replace(leg, symbol=str(micro_chain.symbol[i]),
                            underlying_symbol=str(micro_chain.underlying_symbol[i])))
    micro = replace(s, legs=tuple(legs), multiplier_usd_per_pt=micro_chain.multiplier_usd_per_pt)
    return replace(intent, structure=micro, quantity=intent.quantity * round(ratio))
