"""The daily after-close report's text, from plain data (pure; LEAN's adapter gathers the data:
leanhost/daily_report.py).

Sections: the positions with their P&L and DTE, the day's decisions and the gate's
refusals/resizes, the risk state (BP in use against its VIX-regime limit, trading state,
tripped limits) and what each strategy plans next and when. A number the host could not
know (no quote, no VIX) is written ``n/a``, never zero.

Position P&L = ``(mark_net_pts - entry_net_pts) x quantity x multiplier`` (LEAN sign: negative
= credit; ``mark_net_pts`` is the structure's net mid now, what closing would pay at mid), USD,
before fees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class PositionLine:
    """One open position as the host sees it after the close."""

    strategy: str
    position_id: str
    structure: str
    quantity: int
    entry_net_pts: float
    mark_net_pts: float  # NaN: a leg has no two-sided quote
    multiplier_usd_per_pt: float
    dte_days: int  # calendar days to the earliest expiry

    @property
    def pnl_usd(self) -> float:
        """Unrealized P&L at mid, USD, before fees (NaN without a mark)."""
        return (self.mark_net_pts - self.entry_net_pts) * self.quantity * self.multiplier_usd_per_pt


@dataclass(frozen=True)
class EventLine:
    """A decision or a gate verdict of the day: time, strategy, action, reason text."""

    time_utc: datetime
    strategy: str
    action: str
    text: str


@dataclass(frozen=True)
class RiskLine:
    """The risk state after the close.

    Attributes:
        bp_limit_usd: the BP-in-use limit of the current VIX regime (NaN: VIX unknown).
        limit_basis: what sets the limit (``"VIX 13-18"``, ``"reserve 0.20"``) or why unknown.
        tripped: tripped limits as ``"CODE: text"``.
    """

    nlv_usd: float
    bp_in_use_usd: float
    bp_limit_usd: float
    limit_basis: str
    vix_level: float
    trading_state: str
    tripped: tuple[str, ...] = ()


@dataclass(frozen=True)
class StrategyPlan:
    """What a strategy will do next: its next scheduled runs and its last word today."""

    strategy: str
    next_runs: tuple[str, ...]  # e.g. "entry 2020-01-07 10:00 ET"
    open_positions_n: int
    last_reason: str = ""


@dataclass(frozen=True)
class DailyReportInput:
    """Everything the report shows, for New York date ``day``."""

    day: date
    positions: tuple[PositionLine, ...]
    decisions: tuple[EventLine, ...]
    verdicts: tuple[EventLine, ...]
    risk: RiskLine
    plans: tuple[StrategyPlan, ...] = field(default_factory=tuple)


def _usd(v: float) -> str:
    return f"{v:+,.2f} USD" if math.isfinite(v) else "n/a"


def _num(v: float, fmt: str = ",.2f") -> str:
    return format(v, fmt) if math.isfinite(v) else "n/a"


def _positions(rep: DailyReportInput) -> list[str]:
    out = [f"Positions ({len(rep.positions)} open)"]
    if not rep.positions:
        return out + ["  none"]
    for p in rep.positions:
        out.append(f"  {p.strategy} {p.position_id}: {p.quantity} x {p.structure}; entry {p.entry_net_pts:+.2f} pts, "
                   f"mark {_num(p.mark_net_pts, '+.2f')} pts, P&L {_usd(p.pnl_usd)}, DTE {p.dte_days}")
    total = [p.pnl_usd for p in rep.positions]
    known = [v for v in total if math.isfinite(v)]
    unknown = len(total) - len(known)
    out.append(f"  total unrealized {_usd(sum(known))}" + (f" ({unknown} without a mark)" if unknown else ""))
    return out


def _events(title: str, rows: tuple[EventLine, ...], none: str) -> list[str]:
    out = [f"{title} ({len(rows)})"]
    out += [f"  {e.time_utc.astimezone(NEW_YORK):%H:%M} ET {e.strategy} {e.action}: {e.text}" for e in rows]
    return out if rows else out + [f"  {none}"]


def _risk(r: RiskLine) -> list[str]:
    used = r.bp_in_use_usd / r.nlv_usd if r.nlv_usd > 0 and math.isfinite(r.nlv_usd) else math.nan
    limit = r.bp_limit_usd / r.nlv_usd if r.nlv_usd > 0 and math.isfinite(r.nlv_usd) else math.nan
    out = ["Risk",
           f"  NLV {_num(r.nlv_usd)} USD; VIX {_num(r.vix_level)}; trading state {r.trading_state}",
           f"  BP in use {_num(r.bp_in_use_usd)} USD ({_num(used * 100, '.1f')}% of NLV) against a limit of "
           f"{_num(r.bp_limit_usd)} USD ({_num(limit * 100, '.1f')}%, {r.limit_basis})"]
    out += [f"  tripped: {t}" for t in r.tripped] or ["  no limit tripped"]
    return out


def _plans(plans: tuple[StrategyPlan, ...]) -> list[str]:
    out = ["Next"]
    for p in plans:
        runs = "; ".join(p.next_runs) if p.next_runs else "no scheduled run"
        out.append(f"  {p.strategy}: {runs}; {p.open_positions_n} open position(s)"
                   + (f"; today: {p.last_reason}" if p.last_reason else ""))
    return out if plans else out + ["  no strategy enabled"]


def render_daily_report(rep: DailyReportInput) -> tuple[str, str]:
    """``(subject, body)`` of the report: plain text, one section per block.

    The subject names the day, the NLV, the unrealized P&L and the count of refusals, so a
    reader of a mail list sees the state without opening it.
    """
    refusals = sum(1 for v in rep.verdicts if v.action.lower() == "refuse")
    unrealized = sum(p.pnl_usd for p in rep.positions if math.isfinite(p.pnl_usd))
    subject = (f"ThetaDesk daily {rep.day.isoformat()}: NLV {_num(rep.risk.nlv_usd)} USD, "
               f"{len(rep.positions)} open, unrealized {_usd(unrealized)}, {refusals} refusal(s)")
    body = _positions(rep) + [""]
    body += _events("Decisions today", rep.decisions, "no decision today") + [""]
    body += _events("Gate refusals and resizes today", rep.verdicts, "none") + [""]
    body += _risk(rep.risk) + [""] + _plans(rep.plans)
    return subject, "\n".join(body)
