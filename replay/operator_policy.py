"""A MODELLED operator for an unattended multi-year replay (issue 12): ``--operator-clear-after DAYS``.

Live, a drawdown stop (``DRAWDOWN_STOP``, 15 %) or flatten (``DRAWDOWN_FLATTEN``, 20 %) step
holds until NLV recovers above its line (docs/strategy-rules.md, "Loss limits and drawdown",
M1) or an operator clears it (``thetadesk/clear_limits``: :meth:`risk.gate.Gate.clear`,
:func:`risk.loss_limits.clear_limit`). Once the stop has closed the losers the book is flat, a
flat book's NLV never moves, and without an operator the account never trades again. This
policy stands in for that operator, and says so everywhere: it is an engineering choice of the
replay, not a rule of the strategy book, and it is OFF unless asked for.

Rule: when a drawdown stop or flatten step has held ``after_days`` TRADING days (NLV marks after
the mark that tripped it: the trip day counts 0; a flatten step also not before the end of its
break of ``drawdown_break_days`` calendar days) AND the book is flat (no strategy position open
or closing, no holding in the ledger, no working order), the replay issues exactly the clear an
operator would: ``Gate.clear(step, who=OPERATOR, now, reason)``. What the clear resets is
:func:`risk.loss_limits.clear_limit`'s rule: every drawdown step is cleared and the steps' peak
NLV is re-based to the latest NLV mark (logged in the gate's audit log with the old and new
peak), so the step does not re-trip at once on the old loss while a new -15 % from the re-based
peak trips it again. The drawdown the run reports (analytics: max drawdown over the NLV marks)
is computed from the marks, not from the gate's peak, so the clear hides no loss; each clear is
also recorded here with the peak it replaced. Loss limits (daily/weekly/monthly) are not
touched: they end with their period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from risk.gate_session import GateSession

OPERATOR = "operator (MODELLED policy)"
STEPS = ("drawdown_flatten", "drawdown_stop")
"""The steps the policy clears, the deepest first (a clear of either clears every drawdown step)."""


@dataclass(frozen=True)
class OperatorClear:
    """One clear the MODELLED operator made.

    Attributes:
        time_utc: ISO time of the clear (after the day's fills).
        step: the gate limit cleared (``drawdown_stop`` or ``drawdown_flatten``).
        code: its code (``DRAWDOWN_STOP`` / ``DRAWDOWN_FLATTEN``).
        tripped_utc: ISO time the step tripped.
        held_trading_days: NLV marks (trading days) it had held after its trip day.
        peak_before_usd / nlv_usd: the steps' peak NLV before the clear and the latest NLV mark,
            which becomes the new peak (USD).
        alert: the gate's clear text.
    """

    time_utc: str
    step: str
    code: str
    tripped_utc: str
    held_trading_days: int
    peak_before_usd: float | None
    nlv_usd: float | None
    alert: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe row for ``summary.json`` ``operator_clears``."""
        return {"time_utc": self.time_utc, "date": self.time_utc[:10], "step": self.step, "code": self.code,
                "tripped_utc": self.tripped_utc, "held_trading_days": self.held_trading_days,
                "peak_before_usd": self.peak_before_usd, "nlv_usd": self.nlv_usd, "who": OPERATOR,
                "alert": self.alert}


@dataclass
class OperatorClearPolicy:
    """Clears a drawdown stop/flatten step held ``after_days`` trading days on a flat book.

    Args:
        after_days: trading days (>= 1) the step must have held after its trip day.

    Raises:
        ValueError: ``after_days`` below 1 (a clear on the trip day itself would re-base the
            peak before the losers are even closed).
    """

    after_days: int
    clears: list[OperatorClear] = field(default_factory=list)
    _held: dict[str, tuple[str, int]] = field(default_factory=dict)  # step -> (its trip time, days held)

    def __post_init__(self) -> None:
        if isinstance(self.after_days, bool) or not isinstance(self.after_days, int) or self.after_days < 1:
            raise ValueError(f"--operator-clear-after must be a whole number of trading days >= 1, "
                             f"not {self.after_days!r}")

    def on_day(self, session: GateSession, flat: bool, now_utc: datetime) -> OperatorClear | None:
        """Call once per trading day, after the day's NLV mark and fills.

        Only the deepest tripped step is counted (flatten before stop); a step that lifted or
        tripped anew starts again from 0.

        Args:
            session: the run's gate session (its gate is cleared through :meth:`risk.gate.Gate.clear`).
            flat: the book holds nothing (see the module doc).
            now_utc: the time of the check (aware).

        Returns:
            The clear made today, or None.
        """
        state = session.gate.state
        step = next((s for s in STEPS if s in state.tripped), None)
        if step is None:
            self._held.clear()
            return None
        trip = state.tripped[step]
        since, held = self._held.get(step, (trip.time_utc, -1))
        if since != trip.time_utc or held < 0:  # first seen today: the trip day counts 0
            tripped_on = datetime.fromisoformat(trip.time_utc).astimezone(UTC).date()
            held = 0 if tripped_on == now_utc.astimezone(UTC).date() else 1
        else:
            held += 1
        self._held = {step: (trip.time_utc, held)}
        if held < self.after_days or not flat or not self._break_over(session, step, trip.time_utc, now_utc):
            return None
        peak, nlv = state.peak_nlv_usd, state.last_nlv_usd
        why = (f"MODELLED operator policy (replay --operator-clear-after {self.after_days}): {trip.code} held "
               f"{held} trading days on a flat book; re-base the drawdown peak to the latest NLV")
        alert = session.gate.clear(step, OPERATOR, now_utc, why)
        self._held.clear()
        done = OperatorClear(now_utc.isoformat(), step, trip.code, trip.time_utc, held, peak, nlv, alert)
        self.clears.append(done)
        return done

    @staticmethod
    def _break_over(session: GateSession, step: str, tripped_utc: str, now_utc: datetime) -> bool:
        """A flatten step is cleared only after its break of ``drawdown_break_days`` calendar days
        (M1: "a 2-week break"; :func:`risk.loss_limits._lift_drawdown` uses the same end)."""
        if step != "drawdown_flatten":
            return True
        return now_utc >= datetime.fromisoformat(tripped_utc) + timedelta(days=session.params.drawdown_break_days)
