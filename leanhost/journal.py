"""The decision journal: every decision and order outcome, logged and kept in memory.

LEAN APIs: ``QCAlgorithm.log`` (backtest log / live log stream) and
``on_end_of_algorithm`` (the summary). Decisions are journaled verbatim (time, strategy,
action, reason codes and texts); the host never reinterprets them.

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
    kind: str  # "decision" or "order"
    action: str  # decision action (ENTERED, DECLINED, ...) or order outcome (SENT, FILLED, ...)
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
        """Counts of decisions by strategy and action, of reason codes, and of order outcomes."""
        actions = Counter((e.strategy, e.action) for e in self.entries if e.kind == "decision")
        codes = Counter(c for e in self.entries if e.kind == "decision" for c in e.codes)
        orders = Counter((e.strategy, e.action) for e in self.entries if e.kind == "order")
        lines = [f"journal: {len(self.decisions())} decision(s), {len(self.entries)} entries"]
        lines += [f"  {s} {a}: {n}" for (s, a), n in sorted(actions.items())]
        lines += [f"  reason {c}: {n}" for c, n in sorted(codes.items())]
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
    """A JSON-friendly form of a detail value (numbers and strings pass, others become str)."""
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)
