"""Entries possible per month, per strategy, from a replay's ``summary.json``.

``python -m analytics entries <run folder | summary.json>`` prints the tables of
``docs/entries-per-month.md``. What counts (every count is read from the summary; nothing is
recomputed):

* An **entry decision** is a decision of action ``entered`` or ``declined``: the hosts record
  one per scheduled entry rule and day (the management rules record ``held`` or ``exited``).
  It is an **entry-day decision** when none of its reasons is a calendar code
  (:data:`CALENDAR_CODES`: not the strategy's entry weekday or week); the refusal reasons
  are tabulated over the entry-day decisions only.
* An **entry kind** is the position-id prefix an entry opens (``<strategy>-<UTC stamp>``, IPMCC
  ``ipmcc-leap-...`` / ``ipmcc-weekly-...``: ``strategies/*.py``); IPMCC has two kinds, the
  LEAP purchase and the weekly call sale (a weekly call sold to replace a rolled one counts).
* **Proposed**: a New York day on which the kind's rules proposed an entry (an ``entered``
  decision with an open intent), whatever the risk gate then did. Several proposals on one
  day (a minute host retrying) count once.
* **Approved**: a day with a proposal the gate approved or resized to at least one unit
  (``gate.verdicts``: purpose ``open``, action ``approve``/``resize``, quantity >= 1).
* **Opened**: open orders of the kind that filled (``orders``: purpose ``open``, status
  ``filled``), each one (not distinct days), in the month of its proposal: the trades the
  run actually made.
* **Months deciding**: the calendar months of the strategy's data days (``run.strategies``)
  from the month of its first entry decision with an option chain (no ``NO_CHAIN`` reason)
  on: the MODELLED SPY chains start on 2005-01-10, so the SPY families' months start there.
  A strategy with no data day is left out. Per-month figures are the totals divided by that
  number; "months with none" counts those months with zero.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: Reason codes that say only "not this strategy's entry day" (strategies/entry_calendar.py,
#: strategies/ipmcc.py, strategies/leap_puts.py, strategies/zero_dte.py).
CALENDAR_CODES = frozenset({"NOT_ENTRY_DAY", "NOT_RUNG_DAY", "NOT_SHORT_DAY"})

#: The entry kinds of a strategy with more than one (position-id prefixes, strategies/ipmcc.py ``_open``).
KINDS: dict[str, tuple[str, ...]] = {"ipmcc": ("ipmcc-leap", "ipmcc-weekly")}

_APPROVED = ("approve", "resize")


def kind_of(position_id: str) -> str:
    """The entry kind of ``position_id``: the id without its last ``-`` part (the UTC stamp).

    Raises:
        ValueError: for an id with no ``-`` (not a strategy position id).
    """
    head, sep, _ = position_id.rpartition("-")
    if not sep or not head:
        raise ValueError(f"{position_id!r} is not a strategy position id (<kind>-<stamp>)")
    return head


@dataclass(frozen=True)
class KindCounts:
    """Entries of one kind over a run: day counts per calendar month ``"YYYY-MM"``.

    ``proposed``/``approved``/``opened`` hold one entry per month of the strategy's data
    (zero included); the properties are per-month means and months with zero.
    """

    kind: str
    proposed: dict[str, int]
    approved: dict[str, int]
    opened: dict[str, int]

    @property
    def months(self) -> int:
        """Calendar months deciding (module doc)."""
        return len(self.proposed)

    def mean(self, which: str) -> float:
        """Mean per month of ``which`` (``proposed``, ``approved`` or ``opened``); NaN without months."""
        values: dict[str, int] = getattr(self, which)
        return sum(values.values()) / len(values) if values else float("nan")

    def months_without(self, which: str) -> int:
        """Months in which ``which`` is zero."""
        values: dict[str, int] = getattr(self, which)
        return sum(1 for v in values.values() if v == 0)

    def total(self, which: str) -> int:
        """Total of ``which`` over the run."""
        values: dict[str, int] = getattr(self, which)
        return sum(values.values())


@dataclass(frozen=True)
class StrategyEntries:
    """One strategy's entry counts and why its entries did not happen.

    ``decline_codes``: code -> entry-day decisions declined with that code (a decision counts
    once per code); ``gate_codes``: code -> refused open verdicts carrying it.
    """

    strategy: str
    data_days: int
    data_months: int
    entry_decisions: int
    entry_day_decisions: int
    kinds: tuple[KindCounts, ...]
    decline_codes: Counter[str] = field(default_factory=Counter)
    gate_codes: Counter[str] = field(default_factory=Counter)


def _months(days: list[str], decisions: list[dict[str, Any]]) -> list[str]:
    """Months of ``days`` from the first entry decision with a chain on (module doc)."""
    chained = [d["time_et"][:7] for d in decisions if "NO_CHAIN" not in {r["code"] for r in d["reasons"]}]
    return sorted({d[:7] for d in days if chained and d[:7] >= min(chained)})


def _per_month(months: list[str], items: list[tuple[str, str]], *, distinct: bool = True) -> dict[str, dict[str, int]]:
    """kind -> month -> number of ``items`` (kind, ``YYYY-MM-DD``), distinct days only when
    ``distinct``; every month of ``months`` present (zero included)."""
    out: dict[str, dict[str, int]] = {}
    for kind, day in (set(items) if distinct else items):
        counts = out.setdefault(kind, dict.fromkeys(months, 0))
        if day[:7] in counts:
            counts[day[:7]] += 1
    return out


def count_entries(summary: dict[str, Any]) -> list[StrategyEntries]:
    """Per strategy with data days, its :class:`StrategyEntries` (module doc for what counts).

    Raises:
        ValueError: when ``summary`` lacks ``run.strategies``, ``decisions``, ``orders`` or
            ``gate.verdicts``, or an entered decision has no position id.
    """
    try:
        strategies: dict[str, list[str]] = summary["run"]["strategies"]
        decisions, orders, verdicts = summary["decisions"], summary["orders"], summary["gate"]["verdicts"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a replay summary.json: missing {exc}") from exc
    day_of: dict[str, str] = {}  # position id -> New York day of its proposal
    for d in decisions:
        if d["action"] == "entered":
            if not d.get("position_id"):
                raise ValueError(f"entered decision at {d['time_et']} of {d['strategy']} has no position id")
            day_of[d["position_id"]] = d["time_et"][:10]
    approved = [(kind_of(v["position_id"]), day_of[v["position_id"]]) for v in verdicts
                if v["purpose"] == "open" and v["action"] in _APPROVED and v["quantity"] >= 1
                and v["position_id"] in day_of]
    opened = [(kind_of(o["position_id"]), day_of.get(o["position_id"], o["time_utc"][:10])) for o in orders
              if o["purpose"] == "open" and o["status"] == "filled"]
    return [_strategy(name, days, decisions, verdicts, approved, opened)
            for name, days in strategies.items() if days]


def _strategy(name: str, days: list[str], decisions: list[dict[str, Any]], verdicts: list[dict[str, Any]],
              approved: list[tuple[str, str]], opened: list[tuple[str, str]]) -> StrategyEntries:
    """:class:`StrategyEntries` of strategy ``name`` with data ``days``; ``approved`` and
    ``opened`` are the run's (kind, New York day) pairs of approved proposals and filled opens."""
    kinds = KINDS.get(name, (name,))
    mine = [d for d in decisions if d["strategy"] == name and d["action"] in ("entered", "declined")]
    months = _months(days, mine)
    proposed = _per_month(months, [(kind_of(d["position_id"]), d["time_et"][:10]) for d in mine
                                   if d["action"] == "entered"])
    ok = _per_month(months, [a for a in approved if a[0] in kinds])
    filled = _per_month(months, [o for o in opened if o[0] in kinds], distinct=False)
    entry_day = [d for d in mine if not CALENDAR_CODES & {r["code"] for r in d["reasons"]}]
    declines = Counter(c for d in entry_day if d["action"] == "declined" for c in {r["code"] for r in d["reasons"]})
    gate = Counter(c for v in verdicts if v["strategy"] == name and v["purpose"] == "open"
                   and v["action"] == "refuse" for c in set(v["codes"]))
    zero = dict.fromkeys(months, 0)
    counts = tuple(KindCounts(k, proposed.get(k, dict(zero)), ok.get(k, dict(zero)), filled.get(k, dict(zero)))
                   for k in kinds)
    return StrategyEntries(name, len(days), len({d[:7] for d in days}), len(mine), len(entry_day),
                           counts, declines, gate)


def _fmt_kind(k: KindCounts) -> list[str]:
    if not k.months:
        return ["-", "-", "-", "-", str(k.total("opened"))]
    return [f"{k.mean('proposed'):.2f}", str(k.months_without("proposed")), f"{k.mean('approved'):.2f}",
            str(k.months_without("approved")), str(k.total("opened"))]


def _top(codes: Counter[str], n: int) -> str:
    """The ``n`` most frequent codes with their counts, ties by code (a stable order)."""
    ranked = sorted(codes.items(), key=lambda cv: (-cv[1], cv[0]))[:n]
    return ", ".join(f"{c} {v}" for c, v in ranked) or "-"


def render_markdown(runs: list[tuple[str, list[StrategyEntries]]], top: int = 4) -> str:
    """Markdown tables of one or more runs, side by side (``runs``: (label, counts) pairs,
    e.g. ``[("before", ...), ("after", ...)]``).

    Table 1, one row per entry kind and run: months it could decide, proposed days per month and
    months with none, approved days per month and months with none, trades opened. Table 2,
    one row per strategy and run: entry decisions, entry-day decisions, the ``top`` most
    frequent decline codes on entry days and gate refusal codes (with their counts).
    """
    head = ("| entry kind | run | months deciding | proposed /month | months none proposed | approved /month "
            "| months none approved | opened (total) |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows, reasons = [head], ["| strategy | run | entry decisions | on entry days | main decline reasons "
                             "(entry days) | main gate refusals |\n| --- | --- | ---: | ---: | --- | --- |"]
    names = list(dict.fromkeys(s.strategy for _, run in runs for s in run))
    for name in names:
        for label, run in runs:
            s = next((x for x in run if x.strategy == name), None)
            if s is None:
                continue
            for k in s.kinds:
                rows.append(f"| {k.kind} | {label} | {k.months} | " + " | ".join(_fmt_kind(k)) + " |")
            reasons.append(f"| {name} | {label} | {s.entry_decisions} | {s.entry_day_decisions} | "
                           f"{_top(s.decline_codes, top)} | {_top(s.gate_codes, top)} |")
    return "\n".join(rows) + "\n\n" + "\n".join(reasons)
