"""Concentration limits and open positions per strategy (docs/strategy-rules.md, "Risk").

* ``CONCENTRATION_SAME_EXPIRY``: no two LT112 positions on the same expiry (M1, August 2024;
  issue 11: the rule is about LT112s only, LEAP-put rungs may share an expiry);
* ``CONCENTRATION_BULLISH``: at most ``max_bullish_multiweek`` (3) bullish-delta multi-week
  programs across LT112, LEAP puts and IPMCC, the LEAP-put ladder counting as ONE program
  (:func:`program_key`); an alert at ``bullish_multiweek_alert_at`` (4, V17);
* ``STRATEGY_POSITIONS``: at most ``max_open_positions_per_strategy`` (3) open positions per
  strategy; the LEAP-put ladder (strategy :data:`LEAP_PUTS_STRATEGY`) uses
  ``leap_put_max_rungs`` (10) instead.

Classification, from the structure alone (so both hosts agree), at the ENTRY date:

* multi-week: its earliest expiry is at least ``multiweek_min_dte`` days away;
* short-put multi-week: multi-week, no call legs, at least one short put (LT112's 1/-1/-2
  puts, a LEAP put rung, a put credit spread; a strangle is not: it sells calls too);
* bullish multi-week: short-put multi-week, or multi-week long calls only (the IPMCC LEAP).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date

from thetacore.decisions import Reason
from thetacore.enums import Right
from thetacore.parameters import Parameters
from thetacore.structures import Structure

LEAP_PUTS_STRATEGY = "leap_puts"
LT112_STRATEGY = "lt112"


def is_multiweek(structure: Structure, today: date, min_dte: int) -> bool:
    """True when the structure's earliest expiry is >= ``min_dte`` days from ``today``."""
    return (min(leg.expiry for leg in structure.legs) - today).days >= min_dte


def is_short_put_multiweek(structure: Structure, today: date, min_dte: int) -> bool:
    """Multi-week, no calls, at least one short put."""
    puts_only = all(leg.right is Right.PUT for leg in structure.legs)
    return puts_only and any(leg.ratio < 0 for leg in structure.legs) and is_multiweek(structure, today, min_dte)


def is_bullish_multiweek(structure: Structure, today: date, min_dte: int) -> bool:
    """Short-put multi-week, or multi-week long calls only."""
    long_calls = all(leg.right is Right.CALL and leg.ratio > 0 for leg in structure.legs)
    return is_short_put_multiweek(structure, today, min_dte) or (long_calls and is_multiweek(structure, today, min_dte))


def program_key(strategy: str, position_id: str) -> str:
    """The bullish program a position belongs to: the LEAP-put ladder is ONE program whatever
    its number of rungs (reference "concentration"); any other position is its own program."""
    return strategy if strategy == LEAP_PUTS_STRATEGY else position_id


def concentration_reasons(structure: Structure, today: date, open_lt112_expiries: Sequence[date],
                          open_bullish_programs: Collection[str], p: Parameters, *,
                          strategy: str = "") -> list[Reason]:
    """Reasons a new entry breaks a concentration limit (empty: it fits).

    Args:
        structure: the new entry.
        today: exchange date of the entry.
        open_lt112_expiries: earliest expiry of every open LT112 position.
        open_bullish_programs: :func:`program_key` of every open bullish multi-week position
            (duplicates collapse: the ladder's rungs are one program).
        strategy: the entry's strategy name (LT112: the same-expiry rule; LEAP puts: a rung
            of an open ladder is no new program).
    """
    out = []
    if strategy == LT112_STRATEGY and is_short_put_multiweek(structure, today, p.multiweek_min_dte):
        expiry = min(leg.expiry for leg in structure.legs)
        n = sum(1 for e in open_lt112_expiries if e == expiry)
        if n:
            out.append(Reason("CONCENTRATION_SAME_EXPIRY", f"{n} LT112 position(s) already open on "
                              f"{expiry.isoformat()}; at most one per expiry"))
    programs = set(open_bullish_programs)
    joins_ladder = strategy == LEAP_PUTS_STRATEGY and LEAP_PUTS_STRATEGY in programs
    if (is_bullish_multiweek(structure, today, p.multiweek_min_dte) and not joins_ladder
            and len(programs) >= p.max_bullish_multiweek):
        out.append(Reason("CONCENTRATION_BULLISH", f"{len(programs)} bullish multi-week programs open >= "
                          f"limit {p.max_bullish_multiweek} (the LEAP-put ladder counts once)"))
    return out


def bullish_alert(open_bullish_programs: Collection[str], p: Parameters) -> str | None:
    """Operator alert when ``bullish_multiweek_alert_at`` (4, V17) or more bullish
    multi-week programs are open (e.g. after a reconciliation or a raised cap)."""
    n = len(set(open_bullish_programs))
    if n < p.bullish_multiweek_alert_at:
        return None
    return f"CONCENTRATION_BULLISH_ALERT: {n} bullish multi-week programs open >= alert level {p.bullish_multiweek_alert_at}"


def strategy_limit(strategy: str, p: Parameters) -> int:
    """Most open positions for ``strategy``."""
    return p.leap_put_max_rungs if strategy == LEAP_PUTS_STRATEGY else p.max_open_positions_per_strategy


def strategy_positions_reason(strategy: str, open_count: int, p: Parameters) -> Reason | None:
    """``STRATEGY_POSITIONS`` when ``strategy`` already has its limit of open positions."""
    limit = strategy_limit(strategy, p)
    if open_count < limit:
        return None
    return Reason("STRATEGY_POSITIONS", f"{strategy} has {open_count} open positions >= limit {limit}")
