"""The decision journal: every decision and order outcome, counted, logged within
QuantConnect's limits, and the latest ones kept in memory.

LEAN APIs: ``QCAlgorithm.log`` (backtest log / live log stream) and
``on_end_of_algorithm`` (the summary). Decisions are journaled verbatim (time, strategy,
action, reason codes and texts); the host never reinterprets them. So are the risk gate's
verdicts (kind ``"gate"``, action ``APPROVE`` / ``RESIZE`` / ``REFUSE``): the rows of
:attr:`risk.gate_session.GateSession.journal`, with every field kept in ``details``.

Limits of a months-long live run (QuantConnect docs, "Logging": a cloud project's live log
keeps at most 100,000 lines, the oldest removed beyond that; the log volume per day is capped
by organization tier, e.g. 10 KB on the free tier; the same text logged twice is kept once;
LEAN ``Common/Packets/Controls.cs``: ``BacktestLogLimit`` 10,000 lines, ``DailyLogLimit``),
so the journal

* keeps the latest :data:`KEEP_ENTRIES` entries in a ring buffer and the whole run's counts
  in counters (memory bounded whatever the run's length; :meth:`summary_lines` covers the
  whole run);
* logs a repeated decision without an order (same strategy, action and reason codes: a
  decline or hold every few minutes) once per New York day, and then one line with how many
  repeats it left out, when the day ends;
* logs at most :data:`MAX_LINES_PER_DAY` lines a day (about 40 KB) and then one line saying
  how many it left out; every entry is still counted and kept in the ring buffer.

Persistence seam: :meth:`DecisionJournal.rows` returns JSON-ready dictionaries of the
entries in memory. Saving them to ``object_store`` is a later issue.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from thetacore.decisions import Decision

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm

KEEP_ENTRIES = 2000
"""Entries kept in memory (the latest ones)."""

MAX_LINES_PER_DAY = 400
"""Journal lines logged per New York day at most (x ~100 characters: ~40 KB; a year of
full days stays well under QuantConnect's 100,000-line live log only with the collapsing
of repeats, which brings a normal day to a few dozen lines)."""

COLLAPSIBLE = frozenset({"DECLINED", "HELD"})
"""Decision actions whose repeats (same strategy and reason codes) are logged once a day."""

NEW_YORK = ZoneInfo("America/New_York")


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
    """Counts every entry, logs it within the limits above and keeps the latest ones in
    :attr:`entries` (a ring buffer of :data:`KEEP_ENTRIES`)."""

    algorithm: QCAlgorithm
    keep_entries: int = KEEP_ENTRIES
    max_lines_per_day: int = MAX_LINES_PER_DAY
    entries: deque[JournalEntry] = field(init=False)
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (kind, strategy, action)
    code_counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, code)
    lines_logged: int = 0
    _day: date | None = None
    _day_lines: int = 0
    _day_over_cap: int = 0
    _seen_today: set[tuple[str, str, tuple[str, ...]]] = field(default_factory=set)
    _repeats: Counter[tuple[str, str, tuple[str, ...]]] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.entries = deque(maxlen=self.keep_entries)

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
        return self._add(entry, collapsible=decision.intent is None and decision.action.name in COLLAPSIBLE)

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
        """Gate verdicts among the entries in memory."""
        return [e for e in self.entries if e.kind == "gate"]

    def decisions(self) -> list[JournalEntry]:
        """Decisions among the entries in memory."""
        return [e for e in self.entries if e.kind == "decision"]

    def rows(self) -> list[dict[str, Any]]:
        """JSON-ready rows of the entries in memory (the seam for object_store persistence)."""
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
        """Counts over the whole run: decisions by strategy and action, reason codes, gate
        verdicts and their codes, order outcomes."""
        def of(kind: str) -> list[tuple[str, str, int]]:
            return sorted((s, a, n) for (k, s, a), n in self.counts.items() if k == kind)

        total = sum(self.counts.values())
        decisions = sum(n for (k, _, _), n in self.counts.items() if k == "decision")
        lines = [f"journal: {decisions} decision(s), {total} entries"]
        lines += [f"  {s} {a}: {n}" for s, a, n in of("decision")]
        lines += [f"  reason {c}: {n}" for (k, c), n in sorted(self.code_counts.items()) if k == "decision"]
        lines += [f"  gate {s} {a}: {n}" for s, a, n in of("gate")]
        lines += [f"  gate reason {c}: {n}" for (k, c), n in sorted(self.code_counts.items()) if k == "gate"]
        lines += [f"  orders {s} {a}: {n}" for s, a, n in of("order")]
        return lines

    def log_summary(self) -> None:
        """Log what the current day left out, then :meth:`summary_lines` (called from
        ``on_end_of_algorithm``)."""
        self._close_day()
        for line in self.summary_lines():
            self.algorithm.log(line)

    # ----- counting and logging -----------------------------------------------------------------
    def _add(self, entry: JournalEntry, collapsible: bool = False) -> JournalEntry:
        self.entries.append(entry)
        self.counts[(entry.kind, entry.strategy, entry.action)] += 1
        self.code_counts.update((entry.kind, c) for c in entry.codes)
        day = entry.time_utc.astimezone(NEW_YORK).date() if entry.time_utc.tzinfo else entry.time_utc.date()
        if day != self._day:
            self._close_day()
            self._day = day
        key = (entry.strategy, entry.action, entry.codes)
        if collapsible and key in self._seen_today:
            self._repeats[key] += 1
        elif self._day_lines >= self.max_lines_per_day:
            self._day_over_cap += 1
        else:
            if collapsible:
                self._seen_today.add(key)
            self._log(entry.line())
        return entry

    def _close_day(self) -> None:
        """One line per collapsed repeat and one for lines over the cap, for the day ending."""
        if self._day is None:
            return
        for (strategy, action, codes), n in sorted(self._repeats.items()):
            self._log(f"{self._day} {strategy} {action} repeated {n} more time(s) that day with the same "
                      f"reasons ({', '.join(codes) or 'none'}): not logged again")
        if self._day_over_cap:
            self._log(f"{self._day} journal: {self._day_over_cap} line(s) over the {self.max_lines_per_day}-line "
                      "daily cap not logged (counted in the summary)")
        self._seen_today.clear()
        self._repeats.clear()
        self._day_lines = self._day_over_cap = 0

    def _log(self, line: str) -> None:
        self._day_lines += 1
        self.lines_logged += 1
        self.algorithm.log(line)


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a detail value (numbers, strings and lists of them pass,
    others become str)."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)
