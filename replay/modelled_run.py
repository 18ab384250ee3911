"""The daily, multi-year MODELLED replay (issue 12): ``python -m replay --chains modelled``.

Every enabled family except 0DTE (it needs intraday data) runs over the REAL daily path of SPY
(1998-2021) on option chains that never existed: priced each day by the documented model of
:mod:`modelled` (GARCH level, calibrated smile, listing calendars, quote rule). SPY options
(IPMCC, LEAP puts) are the SPY family; the futures strangle and LT112 trade MODELLED ES options
over ``SPY x 10.03``. Everything it produces is labelled MODELLED (symbols, summary, report).

One decision time per trading day: the **16:00 ET close** (the chains are priced at the close
from data up to that day only), and before it, on a day a strategy holds a contract expiring at
the close, its **pre-close rules** (:data:`PRE_CLOSE_RULES`: IPMCC's ``expiry`` buy-back at
``ipmcc_expiry_close_et``) at their own time. Each day, in this order:

1. holdings expired by the first decision time settle (:meth:`replay.broker.SimBroker.settle_expired`):
   ES options (09:30 ET expiry) and delivered futures at the day's close-based future price --
   the daily data has no opening print, so the close stands for the quarterly special opening
   quotation (documented approximation); with no pre-close rule due, SPY options of the day too;
1b. a pre-close pass (only on such an expiry day): the strategy's pre-close rules decide at
   their time on the day's close quotes (the daily data has one price a day: the close stands
   for the price 15 minutes earlier), orders fill by the fill rule below at that time; then the
   SPY options expiring at the close settle. A delivered underlying (an assignment) is booked to
   the strategy that takes it and closed, or flagged (:mod:`replay.delivered`);
2. the held contracts are priced (``grid=False``: marking), the full grid of a family only when
   a strategy of it decides that day (an entry rule on its entry day, a pending roll or sale);
3. every strategy's schedule rules run once, in the order of their times of day, each on a
   :class:`~strategies.base.MarketContext` at the close with the MODELLED VIX
   (``vix_prev_close``: the model's level of the day before); every intent passes the same risk
   gate (:class:`risk.gate_session.GateSession`) through the minute replay's own routing
   (:class:`replay.engine._Run`);
4. fill rule: an order meets the day's close quotes once, as the minute broker's first look
   after submission (16:01 ET; :mod:`replay.broker`: at the natural when marketable, else at its
   limit when the model point ``mid + f x (far - mid)`` reaches it), and is canceled
   ``order_timeout_min`` later if not filled (the quotes do not move within the day);
5. one NLV mark for the gate's loss limits and drawdown steps after the fills; a flatten or
   close-losers request is sent and filled by the same rule;
6. the delivered-underlying reconciliation (:meth:`replay.delivered.UnderlyingDesk.reconcile`):
   shares or futures no strategy owns raise a CRITICAL alert and block entries;
7. with a MODELLED operator (``--operator-clear-after N``: :mod:`replay.operator_policy`), its
   daily look: a drawdown stop/flatten step held N trading days on a flat book is cleared by the
   operator's own clear (peak re-based), alerted and listed in ``summary.json`` ``operator_clears``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from modelled import LABEL, ROOT_SUFFIX
from modelled.chains import (
    CLOSE_ET,
    SPX_PER_SPY,
    DteWindows,
    ModelledChain,
    ModelledMarket,
    futures_listings,
)
from modelled.paths import RateCurve, read_path
from modelled.vol import build_vol_path
from replay.broker import SimBroker
from replay.delivered import UnderlyingDesk
from replay.engine import ReplayResult, _journal, _notify, _Run, _settle_positions, nlv_usd
from replay.lean_data.market_hours import MarketHours
from replay.ledger import Ledger
from replay.modelled_quotes import ModelledQuotes
from replay.operator_policy import OperatorClearPolicy
from risk.gate_session import GateSession
from strategies.base import MarketContext, Strategy
from strategies.entry_calendar import entry_day_reason
from strategies.futures_strangle import FuturesStrangle
from strategies.ipmcc import Ipmcc
from strategies.leap_puts import LeapPuts
from strategies.lt112 import Lt112
from strategies.registry import build_strategies
from thetacore.market_stats import DailyBars
from thetacore.parameters import Parameters
from thetacore.pricing import et_instant_utc, time_to_expiry_years
from thetacore.products import product
from thetacore.schedule import DailyAt, ScheduleRule

log = logging.getLogger("replay.modelled")
FAMILIES = {"ES": "es", "SPY": "spy"}
PRE_CLOSE_RULES = frozenset({"expiry"})
"""Schedule rules (``DailyAt``) run at their own time before the close, on a day the strategy
holds a contract expiring at the close (IPMCC's expiry-day buy-back), and never at the close."""
DAILY_BARS = 300
"""Daily bars a context carries, as the LEAN host's history request (leanhost/subscriptions.py,
``DAILY_HISTORY_BARS``); closes only (high = low = close: the path holds closes)."""


def build_market(data_root: Path) -> ModelledMarket:
    """The MODELLED market over the REAL SPY path of ``data_root`` (the volatility model is fitted
    here, once: ~6 s)."""
    path = read_path(data_root, "SPY")
    holidays = MarketHours.from_data_root(data_root).entry("equity", "usa", "SPY").holidays
    return ModelledMarket(path, build_vol_path(path), RateCurve.from_data_root(data_root), holidays)


def modelled_days(market: ModelledMarket, start: date | None, end: date | None) -> list[date]:
    """Path days with a fitted volatility model inside ``[start, end]``."""
    ok = np.isfinite(market.vol.var_next_pct2)
    days = [d.astype(object) for d in market.vol.day[ok]]
    return [d for d in days if (start is None or d >= start) and (end is None or d <= end)]


@dataclass
class _Day:
    """One trading day's chains, built on demand (held contracts or the full grid)."""

    market: ModelledMarket
    day: date
    quotes: ModelledQuotes
    held: dict[str, dict[date, list[float]]]
    chains: dict[tuple[str, bool, DteWindows | None], ModelledChain] = field(default_factory=dict)
    builds: dict[str, int] = field(default_factory=dict)

    def expiring(self, family: str, at_et: time) -> ModelledChain:
        """The held contracts of ``family`` expiring today, priced at ``at_et`` (a pre-close rule's
        time; the close's price, the time to expiry left then): the close chain no longer lists them."""
        key = (family + "@" + at_et.isoformat(), False, None)
        if key not in self.chains:
            held = {self.day: self.held.get(family, {}).get(self.day, [])}
            build = self.market.es_chain if family == "es" else self.market.equity_chain
            self.chains[key] = build(self.day, held, grid=False, at_et=at_et)
            self.quotes.add_chain(self.chains[key])
            self.builds["held"] = self.builds.get("held", 0) + 1
        return self.chains[key]

    def chain(self, family: str, full: bool, window: DteWindows | None = None) -> ModelledChain:
        """The family's chain of the day: the grid of the expiries in the DTE ``window`` (a
        strategy's subscriptions; held strikes added) or the held contracts only."""
        key = (family, full, window if full else None)
        if key not in self.chains:
            build = self.market.es_chain if family == "es" else self.market.equity_chain
            chain = build(self.day, self.held.get(family, {}), grid=full, dte_window=window if full else None)
            self.chains[key] = chain
            self.quotes.add_chain(chain)
            kind = "grid" if full else "held"
            self.builds[kind] = self.builds.get(kind, 0) + 1
        return self.chains[key]


def dte_window(strat: Strategy) -> DteWindows:
    """The DTE ranges of a strategy's subscriptions (what the LEAN host subscribes, one
    window per ``Strategy.subscriptions()`` entry)."""
    return tuple(sorted({(s.dte_min, s.dte_max) for s in strat.subscriptions()}))


def _rule_time(rule: ScheduleRule) -> time:
    return rule.time_et if isinstance(rule, DailyAt) else rule.start_et


def needs_grid(strat: Strategy, rule: str, day: date) -> bool:
    """Whether ``rule`` of ``strat`` may choose new contracts on ``day`` (it gets the full grid):
    an entry rule on its entry day, a management rule with a roll or a sale pending. Every other
    call reads the held contracts only (their quotes are what management values)."""
    if isinstance(strat, FuturesStrangle) and rule != "manage":
        p = strat.p
        return entry_day_reason(day, p.strangle_entry_weekday, p.strangle_entry_nth_weekday) is None \
            and not strat.open_positions()
    if isinstance(strat, Lt112) and rule != "manage":
        return entry_day_reason(day, strat.p.lt112_entry_weekday, strat.p.lt112_entry_nth_weekday) is None
    if isinstance(strat, LeapPuts):
        return bool(strat.pending_rolls) if rule == "manage" else not strat._calendar_reasons(day)
    if isinstance(strat, Ipmcc):
        if rule in PRE_CLOSE_RULES:
            return False
        if rule == "manage":
            return bool(strat.sale_due)
        if rule == "leap":
            return strat.leap() is None
        return strat.p.ipmcc_short_weekday < 0 or day.weekday() == strat.p.ipmcc_short_weekday
    return rule != "manage"


def _held_strikes(ledger: Ledger) -> dict[str, dict[date, list[float]]]:
    out: dict[str, dict[date, list[float]]] = {"es": {}, "spy": {}}
    for h in ledger.holdings.values():
        if h.expiry is None or h.strike_pts is None:
            continue
        family = "es" if h.symbol.startswith("ES" + ROOT_SUFFIX) else "spy"
        out[family].setdefault(h.expiry, []).append(h.strike_pts)
    return out


def underlyings(market: ModelledMarket, day: date) -> tuple[dict[str, float], dict[str, date]]:
    """The day's closes: SPY, and every listed ES future ``SPX e^{(r-q)T}`` (``T >= 0``; a future
    expiring today is at SPX), with each future's last trading day."""
    i = market.path.index_of(day)
    spot = float(market.path.close_pts[i])
    r, q = market.rates.rate_frac(day), float(market.path.dividend_yield_frac[i])
    now = et_instant_utc(day, CLOSE_ET)
    prices = {market.path.ticker + ROOT_SUFFIX: spot}
    futures: dict[str, date] = {}
    for x in futures_listings(market.futures_calendar, day, market.holidays):
        futures[x.future_symbol + ROOT_SUFFIX] = x.future_expiry
    exp_et = product("ES").expiry_time_et
    for sym, exp in futures.items():
        t = float(time_to_expiry_years(np.array([np.datetime64(exp, "D")]), now, exp_et)[0])
        prices[sym] = spot * SPX_PER_SPY * float(np.exp((r - q) * max(t, 0.0)))
    return prices, futures


@dataclass
class ModelledResult(ReplayResult):
    """A :class:`replay.engine.ReplayResult` of a MODELLED run, with its label and cost counters."""

    label: str = LABEL
    chain_builds: dict[str, int] = field(default_factory=dict)
    vix_by_day: dict[str, float] = field(default_factory=dict)
    underlying: UnderlyingDesk = field(default_factory=UnderlyingDesk)
    operator: OperatorClearPolicy | None = None


def run_modelled(params: Parameters, data_root: Path | str, start: date | None, end: date | None, *,
                 market: ModelledMarket | None = None,
                 on_day: Callable[[date], None] | None = None,
                 operator: OperatorClearPolicy | None = None) -> ModelledResult:
    """Run every enabled family except 0DTE day by day on MODELLED chains (module doc).

    Args:
        params: the run's parameters (``config.json`` and overrides).
        data_root: LEAN data folder (the SPY daily path, factor file, rates, market hours).
        start, end: New York dates (``None``: the whole modelled path, 1999-01-04..2021-03-31).
        market: a prebuilt MODELLED market (tests; default built from ``data_root``).
        operator: the MODELLED operator's clear policy (:mod:`replay.operator_policy`; None: no
            operator, a drawdown stop holds until NLV recovers above its line).

    Raises:
        replay.lean_data.errors.DataError: for missing or corrupt data files.
    """
    market = market or build_market(Path(data_root))
    result = ModelledResult(params, start, end, [], operator=operator)
    for strat in build_strategies(params):
        root = strat.subscription().root
        if strat.name == "zero_dte":
            result.problems.append(f"{strat.name}: skipped, 0DTE needs intraday data (a daily MODELLED run has none)")
        elif root not in FAMILIES:
            result.problems.append(f"{strat.name}: skipped, no MODELLED chain of {root} (SPY and ES only)")
        else:
            result.strategies.append(strat)
    days = modelled_days(market, start, end)
    result.days = {s.name: days for s in result.strategies}
    quotes = ModelledQuotes()
    ledger = Ledger(params.starting_cash_usd)
    broker = SimBroker(params, ledger, quotes)
    session = GateSession.create(params)
    result.ledger, result.broker, result.quotes, result.session = ledger, broker, quotes, session  # type: ignore[assignment]
    run = _Run(result, session, broker, quotes, ledger)  # type: ignore[arg-type]
    order = {s.name: sorted(s.schedules(), key=_rule_time) for s in result.strategies}
    by_name = {s.name: s for s in result.strategies}
    vix_prev = float("nan")
    for day in days:
        _one_day(result, run, market, day, order, by_name, vix_prev)
        vix_prev = result.vix_by_day[day.isoformat()]
        if on_day is not None:
            on_day(day)
    result.orders = broker.orders
    return result


def _one_day(result: ModelledResult, run: _Run, market: ModelledMarket, day: date,
             order: dict[str, list[ScheduleRule]], by_name: dict[str, Strategy], vix_prev: float) -> None:
    """Settle, price, decide, fill, mark and reconcile one trading day at its close (module doc)."""
    assert result.ledger is not None and result.broker is not None
    quotes, ledger = run.quotes, result.ledger
    assert isinstance(quotes, ModelledQuotes)
    t = et_instant_utc(day, CLOSE_ET)
    quotes.new_day(day)
    prices, futures = underlyings(market, day)
    quotes.set_underlyings(prices, futures)
    pre = _pre_close(result.strategies, order, day)
    _settle(result, run, min((at for _, _, at in pre), default=t))
    today = _Day(market, day, quotes, _held_strikes(ledger))
    for fam in ("es", "spy"):
        if today.held[fam]:
            today.chain(fam, False)
    vix = market.vix(day)
    result.vix_by_day[day.isoformat()] = vix
    bars = _bars(market, day)
    vix_daily = market.vix_daily(day)
    windows = {s.name: dte_window(s) for s in result.strategies}

    def decide(strat: Strategy, rule: ScheduleRule, at: datetime) -> None:
        fam = FAMILIES[strat.subscription().root]
        chain = today.expiring(fam, _rule_time(rule)) if rule.name in PRE_CLOSE_RULES else \
            today.chain(fam, needs_grid(strat, rule.name, day), windows[strat.name])
        ctx = MarketContext(time_utc=at, today_et=day, chain=chain.snapshot, rate_frac=chain.rate_frac,
                            underlying_daily=bars[fam], underlying_pts=_spot(chain, prices, fam, market),
                            vix_level=vix, nlv_usd=nlv_usd(ledger, quotes, at), vix_daily=vix_daily)
        for decision in strat.on_schedule(rule.name, ctx):
            _journal(result, decision)
            if decision.intent is not None:
                run.route(strat, decision, ctx, vix_prev, product(strat.subscription().root), at)

    for strat, rule, at in pre:
        decide(strat, rule, at)
        _fill(result, run, by_name, at)
    if pre:
        _settle(result, run, t)
    for strat in result.strategies:
        for rule in order[strat.name]:
            if rule.name not in PRE_CLOSE_RULES:
                decide(strat, rule, t)
    after = t + timedelta(minutes=result.params.order_timeout_min + 1)
    _fill(result, run, by_name, t)
    run.mark(after)
    _fill(result, run, by_name, after)
    for a in result.underlying.reconcile(ledger, run.session, after):
        result.alerts.append(f"{after.isoformat()} {a}")
    if result.operator is not None:
        _operator_check(result, run, after + timedelta(minutes=result.params.order_timeout_min + 1))
    for k, v in today.builds.items():
        result.chain_builds[k] = result.chain_builds.get(k, 0) + v
    result.end_utc = t + timedelta(minutes=2 * result.params.order_timeout_min + 2)


def _operator_check(result: ModelledResult, run: _Run, t: datetime) -> None:
    """The MODELLED operator's daily look, after the day's fills (:mod:`replay.operator_policy`):
    flat = no strategy position open or closing, no ledger holding, no working order."""
    assert result.operator is not None and result.ledger is not None and result.broker is not None
    flat = not any(s.open_positions() for s in result.strategies) and not result.ledger.holdings \
        and not result.broker.working()
    done = result.operator.on_day(run.session, flat, t)
    if done is not None:
        text = (f"OPERATOR_CLEAR {done.step} ({done.code} held {done.held_trading_days} trading days, book flat): "
                f"{done.alert}")
        log.warning("%s %s", t, text)
        result.alerts.append(f"{t.isoformat()} {text}")


def _pre_close(strategies: list[Strategy], order: dict[str, list[ScheduleRule]],
               day: date) -> list[tuple[Strategy, ScheduleRule, datetime]]:
    """The pre-close rules due on ``day`` (:data:`PRE_CLOSE_RULES`): a strategy's, when it holds
    an open position with a leg expiring today, at the rule's time (ET), earliest first."""
    out = []
    for strat in strategies:
        if not any(leg.expiry == day for pos in strat.open_positions() for leg in pos.structure.legs):
            continue
        for rule in order[strat.name]:
            if rule.name in PRE_CLOSE_RULES:
                out.append((strat, rule, et_instant_utc(day, _rule_time(rule))))
    return sorted(out, key=lambda x: x[2])


def _settle(result: ModelledResult, run: _Run, t: datetime) -> None:
    """Settle what expired by ``t``; close the positions settled whole; book or flag every
    delivered underlying (:class:`replay.delivered.UnderlyingDesk`)."""
    assert result.ledger is not None and result.broker is not None
    quotes = run.quotes
    assert isinstance(quotes, ModelledQuotes)
    records = result.broker.settle_expired(t, quotes.under) if result.ledger.holdings else []
    if not records:
        return
    for strat, pos in _settle_positions(result.strategies, result.broker, t):
        run.closed(strat, pos, t)
    result.underlying.on_settlements(records, result.strategies, result.ledger, t)


def _bars(market: ModelledMarket, day: date) -> dict[str, DailyBars]:
    """The families' daily bars up to ``day`` (:data:`DAILY_BARS` closes; ES = SPY x 10.03)."""
    i = market.path.index_of(day)
    lo = max(0, i + 1 - DAILY_BARS)
    closes, days = market.path.close_pts[lo: i + 1], market.path.day[lo: i + 1]
    es = closes * SPX_PER_SPY
    return {"spy": DailyBars(days, closes, closes, closes), "es": DailyBars(days, es, es, es)}


def _spot(chain: ModelledChain, prices: dict[str, float], fam: str, market: ModelledMarket) -> float:
    """The underlying price a strategy sees: SPY's close; for ES the front listed future."""
    if fam == "spy":
        return prices[market.path.ticker + ROOT_SUFFIX]
    under = chain.snapshot.underlying_pts
    return float(under[0]) if len(under) else float("nan")


def _fill(result: ModelledResult, run: _Run, by_name: dict[str, Strategy], t: datetime) -> None:
    """Orders sent at ``t`` meet the day's quotes at ``t + 1 min``; unfilled ones are canceled at
    ``t + order_timeout_min`` (module doc, fill rule)."""
    assert result.broker is not None
    broker = result.broker
    quotes = run.quotes
    assert isinstance(quotes, ModelledQuotes)
    for o in broker.working():
        quotes.remember([leg.symbol for leg in o.intent.structure.legs])
    for when in (t + timedelta(minutes=1), t + timedelta(minutes=result.params.order_timeout_min)):
        for o in broker.step(when):
            strat = by_name[o.intent.strategy]
            broker_hook = getattr(broker, "on_order_ended", None)
            if broker_hook is not None:
                broker_hook(strat, o, run.session, when)
            _notify(strat, o)
            run.after_order(strat, o, when)


def first_day_utc(day: date) -> datetime:
    """The close instant of ``day`` (UTC)."""
    return et_instant_utc(day, CLOSE_ET).astimezone(UTC)


def label_summary(summary: dict[str, Any], result: ModelledResult) -> dict[str, Any]:
    """Stamp a :func:`replay.summary.build_summary` of a MODELLED run: ``label`` on the summary,
    its run, every decision, order, gate verdict, alert, settlement and mark; the run's
    decision time, fill rule, chain builds and MODELLED VIX per day; the invariant
    ``no_unowned_underlying`` (every delivered share or future booked to a strategy, else listed
    in ``unowned_underlying``) and ``underlying`` (every booking, close, flag and release:
    :mod:`replay.delivered`)."""
    summary["label"] = LABEL
    run = summary["run"]
    run.update(label=LABEL, chains="modelled", decision_time_et="16:00 (the close)",
               fill_rule="once at the day's MODELLED close quotes (replay/modelled_run.py)",
               chain_builds=result.chain_builds, vix_label="MODELLED (the model's 30-day implied level)")
    for key in ("decisions", "orders", "settlements", "marks"):
        for row in summary[key]:
            row["label"] = LABEL
    for row in summary["gate"]["verdicts"]:
        row["label"] = LABEL
    summary["gate"]["alerts"] = [f"{a} [{LABEL}]" for a in summary["gate"]["alerts"]]
    summary["modelled_vix"] = result.vix_by_day
    inv = summary["invariants"]
    inv["expired_unsettled"] = expired_unsettled(result)
    inv["every_expiry_settled"] = not inv["expired_unsettled"]
    inv["unowned_underlying"] = list(result.underlying.unowned)
    inv["no_unowned_underlying"] = not inv["unowned_underlying"]
    inv["all_held"] = bool(inv["all_held"] and inv["every_expiry_settled"] and inv["no_unowned_underlying"])
    summary["underlying"] = [row | {"label": LABEL} for row in result.underlying.actions]
    policy = result.operator
    run["operator_policy"] = (f"MODELLED operator: clears a drawdown stop/flatten step held {policy.after_days} trading "
                              "days on a flat book, re-basing the drawdown peak (replay/operator_policy.py)"
                              if policy else "none: a drawdown stop holds until NLV recovers above its line")
    summary["operator_clears"] = [c.to_dict() | {"label": LABEL} for c in policy.clears] if policy else []
    return summary


def expired_unsettled(result: ModelledResult) -> list[str]:
    """Holdings still in the ledger after their expiry instant at the run's end (each should
    have settled on its day: :meth:`replay.broker.SimBroker.settle_expired`)."""
    if result.ledger is None or result.end_utc is None:
        return []
    return sorted(h.symbol for h in result.ledger.holdings.values()
                  if h.expiry is not None and h.settle_time_et is not None
                  and SimBroker.expiry_utc(h) <= result.end_utc)


def render_modelled(summary: dict[str, Any]) -> str:
    """Short text of a MODELLED run (the full record is ``summary.json``): per strategy the
    positions filled and their exits by kind, the gate's refusals, P&L, invariants."""
    run, pnl = summary["run"], summary["pnl"]
    lines = [f"ThetaDesk replay on MODELLED chains over the REAL SPY path {run['start']} .. {run['end']} "
             f"[{LABEL}: not market prices; decisions at 16:00 ET]"]
    lines += [f"  problem: {p}" for p in run["problems"]]
    by: dict[str, dict[str, int]] = {}
    for p in summary["positions"]["strategy_positions"]:
        if p["entry_net_pts"] is None:
            continue
        kinds = by.setdefault(p["strategy"], {})
        kind = (p["exit_reason"] or "open").split(":")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    for name, kinds in by.items():
        lines.append(f"  {name}: {sum(kinds.values())} position(s); exits "
                     + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    refused = sum(1 for v in summary["gate"]["verdicts"] if v["action"] == "refuse")
    lines.append(f"  gate: {len(summary['gate']['verdicts'])} verdict(s), {refused} refused; "
                 f"{len(summary['gate']['alerts'])} alert(s)")
    clears = summary.get("operator_clears", [])
    lines.append(f"  operator: {run.get('operator_policy', 'none')}; {len(clears)} clear(s)"
                 + (": " + ", ".join(f"{c['date']} {c['code']}" for c in clears) if clears else ""))
    lines.append(f"  NLV ${pnl['nlv_usd']:,.2f}  P&L ${pnl['total_pnl_usd']:+,.2f}  fees ${pnl['fees_usd']:,.2f} "
                 f"[{LABEL}]")
    inv = summary["invariants"]
    lines.append("  invariants: " + ("every invariant held" if inv["all_held"] else "BROKEN: see summary.json"))
    return "\n".join(lines)
