"""The decision journal: every decision and order outcome, logged and kept in memory.

LEAN APIs: ``QCAlgorithm.log`` (backtest log / live log stream) and
``on_end_of_algorithm`` (the summary). Decisions are journaled verbatim (time, strategy,
action, reason codes and texts); the host never reinterprets them. So are the risk gate's
verdicts (kind ``"gate"``, action ``APPROVE`` / ``RESIZE`` / ``REFUSE``): the rows of
:attr:`risk.gate_session.GateSession.journal`, with every field kept in ``details``.

Persistence seam: :meth:`DecisionJournal.rows` returns JSON-ready dictionaries. Saving them
to ``object_store`` (keys prefixed with the project, lean-notes.md "Live") and reloading them
on restart is a later issue; it will read and write exactly these rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from thetacore.decisions import Decision

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm


@dataclass(frozen=True)
class JournalEntry:
    """One line of the journal: a decision, or a note about an order group."""

    time_utc: datetime
    strategy: str
    kind: str  # "decision", "order" or "gate"
    action: str  # decision action (ENTERED, ...), order outcome (SENT, FILLED, ...) or verdict (REFUSE, ...)
    codes: tuple[str, ...]
    text: str
    details: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return f"{self.time_utc:%Y-%m-%d %H:%M}Z {self.strategy} {self.action} {self.text}"


@dataclass
class DecisionJournal:
    """Logs each entry with ``algorithm.log`` and keeps it in :attr:`entries`."""

    algorithm: QCAlgorithm
    entries: list[JournalEntry] = field(default_factory=list)

    def record(self, decision: Decision) -> JournalEntry:
        """Journal one strategy decision."""
        entry = JournalEntry(
            decision.time_utc,
            decision.strategy,
            "decision",
            decision.action.name,
            decision.codes,
            decision.reason_text,
            dict(decision.details),
        )
        return self._add(entry)

    def note(self, time_utc: datetime, strategy: str, outcome: str, text: str) -> JournalEntry:
        """Journal an order outcome of ``strategy`` (``SENT``, ``FILLED``, ``UNFILLED``...)."""
        return self._add(JournalEntry(time_utc, strategy, "order", outcome, (), text))

    def verdict(self, row: dict[str, Any]) -> JournalEntry:
        """Journal one gate verdict row (``GateSession.journal``: time_utc, strategy,
        position_id, purpose, asked, action, quantity, codes, reason, alerts, trading_state)."""
        text = (f"{row['position_id']} {row['purpose']} asked {row['asked']} -> {row['quantity']} "
                f"[{row['trading_state']}]" + (f": {row['reason']}" if row["reason"] else ""))
        entry = JournalEntry(datetime.fromisoformat(row["time_utc"]), row["strategy"], "gate",
                             str(row["action"]).upper(), tuple(row["codes"]), text, dict(row))
        return self._add(entry)

    def verdicts(self) -> list[JournalEntry]:
        return [e for e in self.entries if e.kind == "gate"]

    def decisions(self) -> list[JournalEntry]:
        return [e for e in self.entries if e.kind == "decision"]

    def rows(self) -> list[dict[str, Any]]:
        """JSON-ready rows (the seam for object_store persistence)."""
        return [
            {
                "time_utc": e.time_utc.isoformat(),
                "strategy": e.strategy,
                "kind": e.kind,
                "action": e.action,
                "codes": list(e.codes),
                "text": e.text,
                "details": {k: _plain(v) for k, v in e.details.items()},
            }
            for e in self.entries
        ]

    def summary_lines(self) -> list[str]:
        """Counts of decisions by strategy and action, of reason codes, of gate verdicts and
        their codes, and of order outcomes."""
        actions = Counter((e.strategy, e.action) for e in self.entries if e.kind == "decision")
        codes = Counter(c for e in self.entries if e.kind == "decision" for c in e.codes)
        gate = Counter((e.strategy, e.action) for e in self.entries if e.kind == "gate")
        gate_codes = Counter(c for e in self.entries if e.kind == "gate" for c in e.codes)
        orders = Counter((e.strategy, e.action) for e in self.entries if e.kind == "order")
        lines = [f"journal: {len(self.decisions())} decision(s), {len(self.entries)} entries"]
        lines += [f"  {s} {a}: {n}" for (s, a), n in sorted(actions.items())]
        lines += [f"  reason {c}: {n}" for c, n in sorted(codes.items())]
        lines += [f"  gate {s} {a}: {n}" for (s, a), n in sorted(gate.items())]
        lines += [f"  gate reason {c}: {n}" for c, n in sorted(gate_codes.items())]
        lines += [f"  orders {s} {a}: {n}" for (s, a), n in sorted(orders.items())]
        return lines

    def log_summary(self) -> None:
        """Log :meth:`summary_lines` (called from ``on_end_of_algorithm``)."""
        for line in self.summary_lines():
            self.algorithm.log(line)

    def _add(self, entry: JournalEntry) -> JournalEntry:
        self.entries.append(entry)
        self.algorithm.log(entry.line())
        return entry


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a detail value (numbers, strings and lists of them pass,
    others become str)."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)
