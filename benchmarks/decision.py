"""Goal 2: one scheduled decision (strategy + risk gate) on 2,000- and 20,000-contract chains.

MODELLED chains (:mod:`replay.model_chain`, root suffix ``*model``) around one decision
instant, Friday 2024-01-12 10:30 ET, with the calendar rules relaxed so that every family
runs its whole chain scan (strangle: RELAXED README parameters; LT112 and the LEAP ladder:
any weekday; 0DTE on SPXW; the IPMCC LEAP's extrinsic limit at 30% for the modelled smile). Each repetition gets a fresh snapshot object (the arrays are shared: building
the snapshot is the host's cost, goal 3) and a fresh strategy and gate, so nothing is
cached from the previous repetition. Baseline in the same run: one full-chain IV + greeks
(:func:`thetacore.chain_greeks.with_greeks`) on the same chain, i.e. what each of the
strategy and the gate paid before issue 10.
"""

from __future__ import annotations

import gc
import time as clock
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from replay.model_chain import model_chain
from risk.gate_session import GateSession
from strategies.base import MarketContext, Strategy
from strategies.registry import build_strategies
from thetacore.chain import ChainSnapshot
from thetacore.chain_greeks import with_greeks
from thetacore.market_stats import DailyBars
from thetacore.parameters import load_parameters
from thetacore.pricing import NEW_YORK
from thetacore.products import product

DAY = date(2024, 1, 12)  # a Friday
AT_UTC = datetime.combine(DAY, time(10, 30), tzinfo=NEW_YORK).astimezone(UTC)
RATE = 0.05
OFFSETS_DAYS = [0, 1, 4, 7, 14, 21, 28, 35, 49, 63, 70, 91, 98, 119, 126, 154, 182, 273, 364, 371, 399, 546,
                728, 735]
RELAXED = {
    "strangle_entry_weekday": "-1", "strangle_entry_nth_weekday": "0", "strangle_iv_rank_min_frac": "0",
    "strangle_consolidation_days": "0", "strangle_dte_min": "60", "strangle_dte_max": "120",
    "strangle_put_delta_max": "0.25", "lt112_entry_weekday": "-1", "lt112_entry_nth_weekday": "0",
    "leap_put_weekday": "-1", "vix_level": "15", "vix_prev_close": "15", "zdte_underlying": "SPXW",
    "ipmcc_leap_max_extrinsic_frac": "0.3",
}
FAMILIES = {  # strategy name -> (switch, chain root, underlying, spot, strike step, entry rule)
    "futures_strangle": ("strangle_enabled", "ES", "ES202403", 4800.0, 5.0, "entry"),
    "zero_dte": ("zdte_enabled", "SPXW", "SPX", 4800.0, 5.0, "entry"),
    "lt112": ("lt112_enabled", "ES", "ES202406", 4800.0, 5.0, "entry"),
    "ipmcc": ("ipmcc_enabled", "SPY", "SPY", 475.0, 1.0, "leap"),
    "leap_puts": ("leap_puts_enabled", "SPY", "SPY", 475.0, 1.0, "rung"),
}
SWITCHES = [f[0] for f in FAMILIES.values()]


def family_chain(name: str, contracts: int) -> ChainSnapshot:
    """A MODELLED chain of about ``contracts`` contracts for ``name``'s product."""
    _, root, under, spot, step, _ = FAMILIES[name]
    expiries = [DAY + timedelta(days=d) for d in OFFSETS_DAYS]
    per_side = max(5, contracts // (2 * len(expiries)) // 2)
    step = max(step, step * round(0.25 * spot / per_side / step))  # strikes span about +-25%
    strikes = step * np.round(spot / step) + step * np.arange(-per_side, per_side)
    prod = product(root)
    return model_chain(prod, AT_UTC, spot, expiries, strikes, multiplier_usd_per_pt=50.0 if root == "ES" else 100.0,
                       rate_frac=RATE, underlying_symbol=under)


def _daily(spot: float) -> DailyBars:
    """300 MODELLED daily bars ending the day before :data:`DAY` (a gentle random walk)."""
    rng = np.random.default_rng(7)
    close = spot * np.exp(np.cumsum(rng.normal(0.0, 0.008, 300))[::-1] * -1)
    close *= spot / close[-1]
    days = np.array([np.datetime64(DAY - timedelta(days=300 - i), "D") for i in range(300)])
    return DailyBars(days, close * 1.004, close * 0.996, close)


def _setup(name: str, chain: ChainSnapshot) -> tuple[Strategy, GateSession, MarketContext]:
    switches = {s: "false" for s in SWITCHES}
    switches[FAMILIES[name][0]] = "true"
    params = load_parameters({**RELAXED, **switches})
    [strat] = build_strategies(params)
    ctx = MarketContext(AT_UTC, DAY, replace(chain), RATE, "", _daily(FAMILIES[name][3]), FAMILIES[name][3],
                        15.0, 100_000.0)
    if name == "zero_dte":  # the 09:30 move-start rule of the day has run (not timed)
        strat.on_schedule("move_start", ctx)
    return strat, GateSession.create(params), ctx


def decide(name: str, chain: ChainSnapshot) -> tuple[float, str]:
    """Seconds of one entry decision plus the gate's review of its intent; the outcome.

    The cyclic garbage collector is off while the clock runs, as ``timeit`` does (a collection
    pass over the whole process is not the decision's), and, as ``timeit``, no collection is
    forced just before it: a full pass walks every object of the process and leaves the CPU
    caches cold, so the figure would depend on what else the process holds (LT112 at 1,840
    contracts, best of 15: 1.03-1.27 ms, or 1.8-2.0 ms right after a full pass with 300,000
    other objects alive; the benchmark's earlier form). Python runs such a pass rarely (when
    the long-lived objects have grown by a quarter), so the warm figure is the typical one.
    """
    strat, session, ctx = _setup(name, chain)
    gc.disable()
    try:
        start = clock.thread_time()
        decisions = strat.on_schedule(FAMILIES[name][5], ctx)
        for d in decisions:
            if d.intent is not None:
                session.review(d, ctx, vix_prev_close=15.0, now_utc=AT_UTC)
        elapsed = clock.thread_time() - start
    finally:
        gc.enable()
    outcome = ",".join(f"{d.action.value}" + ("" if d.intent else f"({len(d.codes)} reasons)") for d in decisions)
    return elapsed, outcome


def full_chain_greeks(name: str, chain: ChainSnapshot) -> float:
    """Seconds of one :func:`with_greeks` on the whole chain (the baseline)."""
    prod = product(FAMILIES[name][1])
    fresh = replace(chain)
    start = clock.thread_time()
    with_greeks(fresh, model=prod.model, rate_frac=RATE, yield_frac=0.0, expiry_time_et=prod.expiry_time_et)
    return clock.thread_time() - start


def run(repeats: int = 7, sizes: tuple[int, ...] = (2_000, 20_000), rounds: int = 3) -> list[dict[str, object]]:
    """Best decision and baseline times per family and chain size, as rows: ``rounds``
    rounds, each of ``repeats`` decisions and baselines of every family in turn, so that a
    burst of other jobs on the shared machine spoils one round of a family, not all of them."""
    rows: list[dict[str, object]] = []
    for size in sizes:
        goal_ms = 2.0 if size <= 2_000 else 20.0
        chains = {name: family_chain(name, size) for name in FAMILIES}
        best: dict[str, list[float]] = {name: [float("inf"), float("inf")] for name in FAMILIES}
        outcomes: dict[str, str] = {}
        for _ in range(rounds):
            for name, chain in chains.items():
                for _ in range(repeats):
                    t, outcomes[name] = decide(name, chain)
                    best[name][0] = min(best[name][0], t)
                # best of the repeats, for both: the machine is shared, the minimum is its unloaded speed
                best[name][1] = min(best[name][1], *(full_chain_greeks(name, chain) for _ in range(repeats)))
        for name, chain in chains.items():
            ms, base = 1e3 * best[name][0], best[name][1]
            rows.append({
                "goal": "2 decision", "figure": f"{name} decision+gate, {len(chain):,} contracts [{outcomes[name]}]",
                "value": f"{ms:.2f} ms", "baseline": f"full-chain IV+greeks {1e3 * base:.2f} ms",
                "ratio": f"{ms / (base * 1e3):.2f} (decision / baseline)",
                "target": f"< {goal_ms:g} ms", "met": ms < goal_ms,
            })
    return rows
