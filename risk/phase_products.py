"""What the account phase allows (docs/strategy-rules.md, "Risk": account phases by NLV).

* ``PHASE_PRODUCT``: phase 1 (NLV < ``phase2_min_nlv_usd``) trades micros only: the roots of
  ``phase1_roots`` (default MES, MCL, MGC); LT112 on a full-size future (ES) needs phase
  ``lt112_es_min_phase`` (3: "MES in phase 2, ES from phase 3", M1);
* ``PHASE_STRATEGY``: LT112 starts in phase ``lt112_min_phase`` (2, V17: "phase 2: LT112 on
  MES");
* ``PHASE_ZDTE_CONTRACTS``: 0DTE contracts per trade by phase, 1 / 2 / 3 / 4
  (``zdte_contracts_phase1..4``, :func:`risk.account_phase.zdte_contracts`), a size cap.

:func:`traded_root` is the strategies' side of the same rule (issue 11): the futures strangle
and LT112 configured on ES trade MES where the phase allows only micros, instead of being
refused. Phases come from :func:`risk.account_phase.account_phase`.
"""

from __future__ import annotations

from risk.account_phase import account_phase, zdte_contracts
from thetacore.decisions import Reason
from thetacore.parameters import Parameters

ZERO_DTE_STRATEGY = "zero_dte"
LT112_STRATEGY = "lt112"
STRANGLE_STRATEGY = "futures_strangle"
# full-size futures roots with a micro twin of the same index points (thetacore.products)
MICRO_OF = {"ES": "MES"}


def phase1_roots(p: Parameters) -> tuple[str, ...]:
    """The micro roots phase 1 may trade (``phase1_roots``, upper case)."""
    return tuple(r.strip().upper() for r in p.phase1_roots.split(",") if r.strip())


def traded_root(strategy: str, configured_root: str, phase: int, p: Parameters) -> str:
    """The option root ``strategy`` trades in ``phase`` when configured on ``configured_root``.

    Futures strangle: the micro (MES for ES) in phase 1, else the configured root. LT112: the
    micro below ``lt112_es_min_phase`` (MES in phases 1-2: the gate still refuses LT112 below
    ``lt112_min_phase``), else the configured root. Other strategies and roots without a
    micro twin: the configured root (the gate refuses what the phase forbids).
    """
    root = configured_root.upper()
    micro = MICRO_OF.get(root)
    if micro is None:
        return root
    if strategy == STRANGLE_STRATEGY and phase == 1:
        return micro
    if strategy == LT112_STRATEGY and phase < p.lt112_es_min_phase:
        return micro
    return root


def phase_reasons(strategy: str, root: str, nlv_usd: float, p: Parameters) -> list[Reason]:
    """Reasons the account's phase forbids this entry (empty: allowed)."""
    phase, out = account_phase(nlv_usd, p), []
    micros = phase1_roots(p)
    base = root.split("*")[0].upper()
    if phase == 1 and base not in micros:
        out.append(Reason("PHASE_PRODUCT", f"phase 1 (NLV {nlv_usd:,.0f} < {p.phase2_min_nlv_usd:,.0f}) "
                          f"trades micros only ({', '.join(micros)}); {base} is not one"))
    elif strategy == LT112_STRATEGY and base in MICRO_OF and phase < p.lt112_es_min_phase:
        out.append(Reason("PHASE_PRODUCT", f"LT112 on {base} needs phase {p.lt112_es_min_phase} (MES before); "
                          f"account is phase {phase} at NLV {nlv_usd:,.0f}"))
    if strategy == LT112_STRATEGY and phase < p.lt112_min_phase:
        out.append(Reason("PHASE_STRATEGY", f"{strategy} needs phase {p.lt112_min_phase} (NLV >= "
                          f"{_phase_floor_usd(p.lt112_min_phase, p):,.0f}); account is phase {phase} at NLV "
                          f"{nlv_usd:,.0f}"))
    return out


def _phase_floor_usd(phase: int, p: Parameters) -> float:
    """Lowest NLV of ``phase`` (USD)."""
    return (0.0, p.phase2_min_nlv_usd, p.phase3_min_nlv_usd, p.phase4_min_nlv_usd)[phase - 1]


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
