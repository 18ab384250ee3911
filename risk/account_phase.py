"""Account phases by net liquidation value (docs/strategy-rules.md, "Risk").

Phase 1 below ``phase2_min_nlv_usd`` (micros only: MES, MCL, MGC; 0DTE one contract),
phase 2 from 40,000 (ES allowed, LT112), phase 3 from 55,000, phase 4 from 75,000 (USD).
"""

from __future__ import annotations

import math

from thetacore.parameters import Parameters


def account_phase(nlv_usd: float, p: Parameters) -> int:
    """Phase 1-4 for ``nlv_usd``.

    Raises:
        ValueError: for a NaN or negative NLV (an unknown account size has no phase).
    """
    if not math.isfinite(nlv_usd) or nlv_usd < 0:
        raise ValueError(f"account phase needs a known NLV, got {nlv_usd}")
    if nlv_usd >= p.phase4_min_nlv_usd:
        return 4
    if nlv_usd >= p.phase3_min_nlv_usd:
        return 3
    return 2 if nlv_usd >= p.phase2_min_nlv_usd else 1


def zdte_contracts(phase: int, p: Parameters) -> int:
    """0DTE contracts per trade for ``phase`` (1 / 2 / 3 / 4 by default)."""
    return (p.zdte_contracts_phase1, p.zdte_contracts_phase2, p.zdte_contracts_phase3,
            p.zdte_contracts_phase4)[phase - 1]
