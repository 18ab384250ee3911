"""Correlation groups and their open-position limits (docs/strategy-rules.md, "Risk").

Groups (root -> group; roots are option roots, futures-option roots equal the future's):

==== ============================ ========================== ==================
group what                          roots                      limit (parameter)
==== ============================ ========================== ==================
A1   equity index futures/index    ES MES SPX SPXW NQ MNQ RTY  2 (corr_limit_a1)
A2   equity ETFs                   SPY QQQ IWM                 3 (corr_limit_a2)
B1   safe haven: gold, bonds       GC MGC ZB ZN                2 (corr_limit_b1)
B2   industrial metals             HG MHG                      2 (corr_limit_b2)
C1   crude oil                     CL MCL                      2 (corr_limit_c1)
C2   natural gas                   NG                          1 (corr_limit_c2)
D1   grains                        ZC ZS ZW                    2 (corr_limit_d1)
D2   proteins                      LE HE                       1 (corr_limit_d2)
E    currencies                    6E 6J M6E                   2 (corr_limit_e)
==== ============================ ========================== ==================

SPX/SPXW index options sit with the index futures (A1): they are the same S&P 500 exposure.
Never more than ``corr_limit_any_group`` (3) in any group; A1 + A2 together at most
``corr_limit_a1_a2`` (3); every limit one lower while VIX > ``corr_vix_tighten_above`` (30).
A new entry passes when the open count of its group (and of A1 + A2) is below the limit.
A root with no group is a refusal (``CORRELATION_GROUP_UNKNOWN``), never an unlimited pass.
"""

from __future__ import annotations

from collections.abc import Iterable

from thetacore.decisions import Reason
from thetacore.parameters import Parameters

GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "A1": ("equity index futures", ("ES", "MES", "SPX", "SPXW", "NQ", "MNQ", "RTY")),
    "A2": ("equity ETFs", ("SPY", "QQQ", "IWM")),
    "B1": ("safe haven (gold, bonds)", ("GC", "MGC", "ZB", "ZN")),
    "B2": ("industrial metals", ("HG", "MHG")),
    "C1": ("crude oil", ("CL", "MCL")),
    "C2": ("natural gas", ("NG",)),
    "D1": ("grains", ("ZC", "ZS", "ZW")),
    "D2": ("proteins", ("LE", "HE")),
    "E": ("currencies", ("6E", "6J", "M6E")),
}
ROOT_GROUP: dict[str, str] = {root: g for g, (_, roots) in GROUPS.items() for root in roots}
EQUITY_GROUPS = ("A1", "A2")


def group_of(root: str) -> str | None:
    """Correlation group of an option root (``"ES"`` -> ``"A1"``), None when unknown."""
    return ROOT_GROUP.get(root.split("*")[0].upper())


def group_limit(group: str, vix: float, p: Parameters) -> int:
    """Open-position limit of ``group`` at VIX ``vix``: min(group, any-group) - tightening."""
    base = min(int(getattr(p, f"corr_limit_{group.lower()}")), p.corr_limit_any_group)
    return max(0, base - _tighten(vix, p))


def _tighten(vix: float, p: Parameters) -> int:
    return 1 if vix > p.corr_vix_tighten_above else 0


def correlation_reasons(root: str, open_groups: Iterable[str | None], vix: float, p: Parameters) -> list[Reason]:
    """Reasons a new entry on ``root`` breaks a correlation limit (empty: it fits).

    Args:
        root: the new entry's option root.
        open_groups: correlation group of every open position (None: unknown root).
        vix: VIX level now (finite).
    """
    groups = list(open_groups)
    group = group_of(root)
    out = []
    if group is None:
        out.append(Reason("CORRELATION_GROUP_UNKNOWN", f"root {root!r} has no correlation group"))
    unknown = sum(1 for g in groups if g is None)
    if unknown:
        out.append(Reason("CORRELATION_GROUP_UNKNOWN", f"{unknown} open position(s) have no correlation group"))
    if out:
        return out
    assert group is not None
    tight = f" (one lower while VIX {vix:.1f} > {p.corr_vix_tighten_above:g})" if _tighten(vix, p) else ""
    n, limit = groups.count(group), group_limit(group, vix, p)
    if n >= limit:
        out.append(Reason("CORRELATION_GROUP", f"group {group} ({GROUPS[group][0]}) has {n} open >= "
                          f"limit {limit}{tight}"))
    if group in EQUITY_GROUPS:
        both = sum(1 for g in groups if g in EQUITY_GROUPS)
        both_limit = max(0, p.corr_limit_a1_a2 - _tighten(vix, p))
        if both >= both_limit:
            out.append(Reason("CORRELATION_A1_A2", f"groups A1+A2 have {both} open >= limit {both_limit}{tight}"))
    return out
