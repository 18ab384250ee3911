"""What the account phase allows (docs/strategy-rules.md, "Risk": account phases by NLV).

* ``PHASE_PRODUCT``: phase 1 (NLV < ``phase2_min_nlv_usd``) trades micros only: the roots of
  ``phase1_roots`` (default MES, MCL, MGC);
* ``PHASE_STRATEGY``: LT112 starts in phase 2 ("phase 2: ES allowed, LT112");
* ``PHASE_ZDTE_CONTRACTS``: 0DTE contracts per trade by phase, 1 / 2 / 3 / 4
  (``zdte_contracts_phase1..4``, :func:`risk.account_phase.zdte_contracts`), a size cap.

Phases come from :func:`risk.account_phase.account_phase`.
"""

from __future__ import annotations

from risk.account_phase import account_phase, zdte_contracts
from thetacore.decisions import Reason
from thetacore.parameters import Parameters

ZERO_DTE_STRATEGY = "zero_dte"
LT112_STRATEGY = "lt112"
LT112_MIN_PHASE = 2


def phase_reasons(strategy: str, root: str, nlv_usd: float, p: Parameters) -> list[Reason]:
    """Reasons the account's phase forbids this entry (empty: allowed)."""
    phase, out = account_phase(nlv_usd, p), []
    phase1_roots = tuple(r.strip().upper() for r in p.phase1_roots.split(",") if r.strip())
    base = root.split("*")[0].upper()
    if phase == 1 and base not in phase1_roots:
        out.append(Reason("PHASE_PRODUCT", f"phase 1 (NLV {nlv_usd:,.0f} < {p.phase2_min_nlv_usd:,.0f}) "
                          f"trades micros only ({', '.join(phase1_roots)}); {base} is not one"))
    if strategy == LT112_STRATEGY and phase < LT112_MIN_PHASE:
        out.append(Reason("PHASE_STRATEGY", f"{strategy} needs phase {LT112_MIN_PHASE} (NLV >= "
                          f"{p.phase2_min_nlv_usd:,.0f}); account is phase {phase} at NLV {nlv_usd:,.0f}"))
    return out


def zdte_cap(strategy: str, asked: int, nlv_usd: float, p: Parameters) -> tuple[int | None, Reason | None]:
    """``(cap, reason)``: the 0DTE contracts cap of the phase, with a reason when it cuts
    ``asked``; ``(None, None)`` for other strategies."""
    if strategy != ZERO_DTE_STRATEGY:
        return None, None
    phase = account_phase(nlv_usd, p)
    cap = zdte_contracts(phase, p)
    if asked <= cap:
        return cap, None
    return cap, Reason("PHASE_ZDTE_CONTRACTS", f"asked {asked}, phase {phase} (NLV {nlv_usd:,.0f}) allows "
                       f"{cap} 0DTE unit(s)")
