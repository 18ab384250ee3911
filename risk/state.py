"""The gate's memory: tripped limits, counters, peak and period-start NLV, operator audit log.

Hosts persist it between runs (LEAN ``ObjectStore``, a file for the replay) with
:meth:`GateState.to_dict` / :meth:`GateState.from_dict`; both are JSON-safe (strings,
numbers, booleans, lists, dicts). A restart must never reset a tripped limit: a trip is
cleared only when its period ends (:func:`roll_periods`) or by an operator (audit-logged).

Periods use the exchange calendar date in America/New_York: the day (``2020-01-06``), the
ISO week (``2020-W02``) and the month (``2020-01``). A trip whose period is ``none`` (the
drawdown steps) holds until its condition lifts on an NLV mark (:mod:`risk.loss_limits`:
recovery above the line, the flatten step's break) or an operator clears it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from thetacore.pricing.time_to_expiry import NEW_YORK

PERIODS = ("day", "week", "month")
NO_PERIOD = "none"
MOVE_LATCH = "circuit_move_"


class TradingState(Enum):
    """What the gate admits (nautilus_trader's trading states).

    ACTIVE: entries and exits; REDUCING: exits only (an entry-stopping limit is tripped);
    HALTED: exits only, and the operator kill switch or the flatten step is on.
    """

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


@dataclass(frozen=True)
class Trip:
    """One tripped limit: its code, the text with numbers, and the period it holds for."""

    code: str
    text: str
    period: str
    period_key: str
    time_utc: str

    @property
    def blocks_entries(self) -> bool:
        """Every trip blocks entries except the halve-sizes drawdown step."""
        return self.code != "DRAWDOWN_HALVE"


@dataclass(frozen=True)
class AuditEntry:
    """One manual override: when, who (or what), what changed, old and new value (text)."""

    time_utc: str
    who: str
    what: str
    old: str
    new: str
    why: str = ""


def period_keys(now_utc: datetime) -> dict[str, str]:
    """``{"day": "2020-01-06", "week": "2020-W02", "month": "2020-01"}`` for ``now_utc``.

    Raises:
        ValueError: for a naive datetime (the exchange date would be a guess).
    """
    if now_utc.tzinfo is None:
        raise ValueError(f"gate times must be timezone-aware UTC, got {now_utc!r}")
    return dict(_period_keys(now_utc))  # a copy: the caller may change it


@lru_cache(maxsize=64)
def _period_keys(now_utc: datetime) -> dict[str, str]:
    """:func:`period_keys` of one instant, computed once (one gate check asks for it four
    times). Equal instants in other zones share an entry: they have the same New York date."""
    d = now_utc.astimezone(NEW_YORK).date()
    year, week, _ = d.isocalendar()
    return {"day": d.isoformat(), "week": f"{year}-W{week:02d}", "month": f"{d.year}-{d.month:02d}"}


@dataclass
class GateState:
    """Mutable, persistable state of the gate (see the module docstring).

    Attributes:
        period_key: current key per period (``day``/``week``/``month``), None before the first
            time the gate saw.
        period_start_nlv_usd: first NLV mark of each current period (USD), None until marked.
        peak_nlv_usd: highest NLV marked (USD); the drawdown reference.
        last_nlv_usd: latest NLV mark (USD).
        losing_exits_today: losing exits counted on the current day.
        tripped: tripped limits by name (``loss_daily``, ``drawdown_stop``...).
        kill_switch_override: operator's run-time kill switch: True keeps it on whatever the
            parameter says; None (or a ``False`` saved by an older version, inert) follows the
            parameter. It can never turn off a ``kill_switch=true`` parameter
            (:mod:`safety.kill_switch`).
        sent_today: structure keys of entries approved today (duplicate detection).
        audit_log: every manual override, oldest first.
    """

    period_key: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(PERIODS))
    period_start_nlv_usd: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(PERIODS))
    peak_nlv_usd: float | None = None
    last_nlv_usd: float | None = None
    losing_exits_today: int = 0
    tripped: dict[str, Trip] = field(default_factory=dict)
    kill_switch_override: bool | None = None
    sent_today: list[str] = field(default_factory=list)
    audit_log: list[AuditEntry] = field(default_factory=list)

    def trip(self, name: str, code: str, text: str, period: str, now_utc: datetime) -> bool:
        """Record a trip unless ``name`` is already tripped; True when newly tripped."""
        if name in self.tripped:
            return False
        key = (self.period_key.get(period) or "") if period != NO_PERIOD else ""
        self.tripped[name] = Trip(code, text, period, key, now_utc.isoformat())
        return True

    def audit(self, now_utc: datetime, who: str, what: str, old: object, new: object, why: str = "") -> None:
        """Append one manual override to the audit log."""
        if not who.strip():
            raise ValueError("an override needs who (or what) made it")
        self.audit_log.append(AuditEntry(now_utc.isoformat(), who, what, str(old), str(new), why))

    def entry_blocks(self, root: str | None = None) -> list[Trip]:
        """Trips that stop new entries, in the order they tripped. With ``root``, an
        underlying-move latch (``circuit_move_<root>``) of another root does not count."""
        return [t for name, t in self.tripped.items() if t.blocks_entries and (
            root is None or not name.startswith(MOVE_LATCH) or name == MOVE_LATCH + root)]

    def trading_state(self, kill_switch_param: bool) -> TradingState:
        """HALTED with the kill switch (the parameter OR a run-time "on": a saved "off" never
        outranks ``kill_switch=true``) or the flatten step, REDUCING with any entry block."""
        kill = bool(kill_switch_param) or self.kill_switch_override is True
        if kill or "drawdown_flatten" in self.tripped:
            return TradingState.HALTED
        return TradingState.REDUCING if self.entry_blocks() else TradingState.ACTIVE

    # ----- persistence -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of the whole state, keys in field order: what ``asdict`` gives (the
        values are str, float, int, bool or None, copied one level down; trips and audit
        entries as dicts), without its deep recursion (the replay saves the gate at every NLV
        mark: issue 10). tests/risk/test_state_to_dict.py compares it with ``asdict``."""
        return {
            "period_key": dict(self.period_key),
            "period_start_nlv_usd": dict(self.period_start_nlv_usd),
            "peak_nlv_usd": self.peak_nlv_usd,
            "last_nlv_usd": self.last_nlv_usd,
            "losing_exits_today": self.losing_exits_today,
            "tripped": {k: asdict(v) for k, v in self.tripped.items()},
            "kill_switch_override": self.kill_switch_override,
            "sent_today": list(self.sent_today),
            "audit_log": [asdict(a) for a in self.audit_log],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GateState:
        """The state :meth:`to_dict` wrote.

        Raises:
            KeyError, TypeError: for a dict that is not a saved gate state (a kill-switch
                override that is not ``true``/``false``/``null`` included: ``"off"`` is no
                boolean, and guessing would risk turning trading on).
        """
        state = cls(
            period_key={p: data["period_key"].get(p) for p in PERIODS},
            period_start_nlv_usd={p: data["period_start_nlv_usd"].get(p) for p in PERIODS},
            peak_nlv_usd=data["peak_nlv_usd"],
            last_nlv_usd=data["last_nlv_usd"],
            losing_exits_today=int(data["losing_exits_today"]),
            tripped={k: Trip(**v) for k, v in data["tripped"].items()},
            kill_switch_override=data["kill_switch_override"],
            sent_today=list(data["sent_today"]),
            audit_log=[AuditEntry(**a) for a in data["audit_log"]],
        )
        override = state.kill_switch_override
        if override is not None and not isinstance(override, bool):
            raise TypeError(f"kill_switch_override {override!r} is not true, false or null")
        return state


def roll_periods(state: GateState, now_utc: datetime) -> list[str]:
    """Start new periods at ``now_utc``: clear trips of ended periods, reset the day's
    counters, forget the ended periods' start NLV. Returns alert texts for cleared trips.

    Time never runs backwards here: a ``now_utc`` whose key sorts before the current key
    changes nothing (a late event must not clear today's trips).
    """
    keys, alerts = period_keys(now_utc), []
    for period in PERIODS:
        old = state.period_key[period]
        if old is not None and keys[period] <= old:
            continue
        state.period_key[period] = keys[period]
        state.period_start_nlv_usd[period] = None
        if old is None:
            continue
        for name, t in list(state.tripped.items()):
            if t.period == period:
                del state.tripped[name]
                alerts.append(f"{t.code} cleared: its {period} {old} ended ({keys[period]} began)")
        if period == "day":
            state.losing_exits_today = 0
            state.sent_today.clear()
    return alerts
