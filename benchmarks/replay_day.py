"""Goal 3: replay seconds per simulated day at 400, 2,000 and 20,000 contracts (MODELLED).

The bundled ES day holds too few contracts to scale, so the market here is MODELLED: an
in-memory :class:`replay.market.FutureOptionMarket` for 2020-01-06 whose option quotes are
:mod:`replay.model_chain` prices (bid/ask every 15 minutes from 00:00 to 24:00 ET), on the
REAL market hours and interest-rate files of ``data/``. The real engine
(:func:`replay.engine.run_replay`) runs one day of the ES strategies (strangle, LT112, 0DTE
on ES) with the default parameters: each declines its entry and has nothing to manage.

Baseline in the same run: the same market with the code before issue 10 -- a snapshot
built contract by contract (``_Series.at`` per contract in a Python loop) for every rule
that fires, whether or not it reads the chain (:class:`LoopMarket`).
"""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from replay import engine
from replay.lean_data.interest_rate import interest_rate_path, read_interest_rates
from replay.lean_data.market_hours import MarketHours
from replay.market import FutureOptionMarket, _Contract, _Series, option_symbol
from replay.model_chain import model_chain
from replay.schedule import NEW_YORK
from strategies.base import MarketContext
from thetacore.chain import ChainSnapshot
from thetacore.parameters import load_parameters
from thetacore.products import product

DATA = Path(__file__).resolve().parent.parent / "data"
DAY = date(2020, 1, 6)
FUTURE = "ES202003"
SPOT = 3240.0


class LoopMarket(FutureOptionMarket):
    """The pre-issue-10 snapshot: one ``_Series.at`` per contract, eagerly per rule."""

    snapshots = 0

    def chain_at(self, t_utc: datetime) -> tuple[ChainSnapshot | None, str]:
        LoopMarket.snapshots += 1
        t = np.datetime64(t_utc.astimezone(UTC).replace(tzinfo=None), "ms")
        unders = self.underlying_mids(t_utc)
        today = t_utc.astimezone(NEW_YORK).date()
        rows = [(c, *c.quotes.at(t, self.max_age)) for c in self.options if c.expiry >= today]
        rows = [r for r in rows if not np.isnat(r[3])]
        if not rows:
            return None, "no quote"
        chain = ChainSnapshot(
            self.root + self.label, t_utc, self.multiplier, self.product.style, self.product.settlement,
            np.array([r[0].symbol for r in rows], dtype=object),
            np.array([r[0].underlying for r in rows], dtype=object),
            np.array([unders.get(r[0].underlying, np.nan) for r in rows]), np.array([r[0].strike for r in rows]),
            np.array([np.datetime64(r[0].expiry, "D") for r in rows]),
            np.array([r[0].right for r in rows], dtype=np.int8),
            np.array([r[1] for r in rows]), np.array([r[2] for r in rows]),
            np.array([r[3] for r in rows], dtype="datetime64[ms]"), min_tick_pts=self.tick,
        )
        return chain, ""

    def context(self, t_utc: datetime, *, nlv_usd: float = float("nan"), vix_level: float = float("nan"),
                event_dates: tuple[date, ...] = ()) -> MarketContext:
        chain, problem = self.chain_at(t_utc)
        today = t_utc.astimezone(NEW_YORK).date()
        spot = self.underlying_mids(t_utc).get(self.front_underlying(today), float("nan"))
        return MarketContext(t_utc, today, chain, self.rates.rate_on(today), problem, self.daily_bars(today),
                             spot, vix_level, nlv_usd, event_dates)


class CountingMarket(FutureOptionMarket):
    """The current market, counting the snapshots actually built."""

    snapshots = 0

    def chain_at(self, t_utc: datetime) -> tuple[ChainSnapshot | None, str]:
        CountingMarket.snapshots += 1
        return super().chain_at(t_utc)


def modelled_market(cls: type[FutureOptionMarket], contracts: int) -> FutureOptionMarket:
    """A MODELLED ES futures-option market of about ``contracts`` contracts on :data:`DAY`."""
    day_start = datetime.combine(DAY, time(0), tzinfo=NEW_YORK).astimezone(UTC)
    ends = np.datetime64(day_start.replace(tzinfo=None), "ms") + np.arange(0, 24 * 60, 15) * np.timedelta64(60_000, "ms")
    expiries = [date(2020, 1, 10), date(2020, 1, 17), date(2020, 1, 31), date(2020, 2, 21), date(2020, 3, 20)]
    per_side = max(4, contracts // (2 * len(expiries)) // 2)
    step = 0.25 * max(1, round(0.4 * SPOT / per_side / 0.25))  # strikes span about +-40%, all > 0
    strikes = SPOT + step * np.arange(-per_side, per_side)
    chain = model_chain(product("ES"), day_start, SPOT, expiries, strikes, multiplier_usd_per_pt=50.0,
                        rate_frac=0.0155, underlying_symbol=FUTURE)
    options = []
    for i in range(len(chain)):
        exp = chain.expiry[i].astype(date)
        series = _Series(ends, np.full(ends.size, chain.bid_pts[i]), np.full(ends.size, chain.ask_pts[i]))
        options.append(_Contract(option_symbol("ES", "202003", exp, int(chain.right[i]), float(chain.strike_pts[i])),
                                 FUTURE, float(chain.strike_pts[i]), exp, int(chain.right[i]), series))
    minute_ends = np.datetime64(day_start.replace(tzinfo=None), "ms") + np.arange(1, 24 * 60 + 1) * np.timedelta64(
        60_000, "ms")
    future = _Series(minute_ends, np.full(minute_ends.size, SPOT - 0.125), np.full(minute_ends.size, SPOT + 0.125))
    hours = MarketHours.from_data_root(DATA).entry("future", "cme", "ES")
    return cls("ES", hours, {FUTURE: future}, options, 50.0, 0.25, read_interest_rates(interest_rate_path(DATA)),
               {}, 15, extended_hours=True)


def simulate_day(market: FutureOptionMarket) -> float:
    """Seconds of :func:`replay.engine.run_replay` over :data:`DAY` on ``market``."""
    params = load_parameters({"ipmcc_enabled": "false", "leap_puts_enabled": "false"})
    with mock.patch.object(engine, "load_market", lambda *a, **k: market):
        start = clock.thread_time()
        engine.run_replay(params, DATA, DAY, DAY)
        return clock.thread_time() - start


def best_day(cls: type[FutureOptionMarket], contracts: int, repeats: int) -> float:
    """The best of ``repeats`` :func:`simulate_day`, each on a market built afresh before its
    clock starts: a market memoizes (its flattened quotes, its data days), and a run on a
    used one would not pay what a replay pays once per run."""
    return min(simulate_day(modelled_market(cls, contracts)) for _ in range(repeats))


def run(sizes: tuple[int, ...] = (400, 2_000, 20_000), simulate_baseline_up_to: int = 2_000,
        repeats: int = 3) -> list[dict[str, Any]]:
    """Seconds per simulated day and per contract-day, current code vs the loop baseline,
    each the best of ``repeats`` simulated days on fresh markets (the machine is shared: as
    every row).

    Above ``simulate_baseline_up_to`` contracts the baseline day is not run (it takes minutes)
    but estimated from measured parts: the current day, less its snapshots, plus the
    baseline's snapshot count times one measured per-contract-loop snapshot (marked est.).
    """
    rows: list[dict[str, Any]] = []
    for size in sizes:
        new_market = modelled_market(CountingMarket, size)
        old_market = modelled_market(LoopMarket, size)
        n = len(new_market.options)
        CountingMarket.snapshots = LoopMarket.snapshots = 0
        new = best_day(CountingMarket, size, repeats)
        new_snaps = CountingMarket.snapshots // repeats
        snap_new, snap_old = _snapshot_seconds(new_market), _snapshot_seconds(old_market)
        if size <= simulate_baseline_up_to:
            LoopMarket.snapshots = 0
            old, how = best_day(LoopMarket, size, repeats), "per-contract loop"
            old_snaps = LoopMarket.snapshots // repeats
        else:
            old_snaps = 95  # every due rule of the day builds one (as measured at the smaller sizes)
            old, how = new - new_snaps * snap_new + old_snaps * snap_old, "per-contract loop (est.)"
        rows.append({
            "goal": "3 replay", "figure": f"replay s/simulated day, {n:,} contracts (MODELLED; "
                                          f"{new_snaps} snapshots vs {old_snaps})",
            "value": f"{new:.3f} s ({new / n * 1e6:.1f} us/contract-day)",
            "baseline": f"{how} {old:.3f} s ({old / n * 1e6:.1f} us/contract-day)",
            "ratio": f"{old / new:.1f}x", "target": ">= 10x", "met": old / new >= 10.0,
        })
        rows.append({
            "goal": "3 replay", "figure": f"one chain snapshot, {n:,} contracts (MODELLED)",
            "value": f"{snap_new * 1e3:.2f} ms", "baseline": f"per-contract loop {snap_old * 1e3:.2f} ms",
            "ratio": f"{snap_old / snap_new:.1f}x", "target": "(array build)", "met": None,
        })
    return rows


def _snapshot_seconds(market: FutureOptionMarket, repeats: int = 5) -> float:
    t = datetime.combine(DAY, time(10, 0), tzinfo=NEW_YORK).astimezone(UTC)
    market.chain_at(t)  # the flattened index is built once per market (not per snapshot)
    best = float("inf")
    for _ in range(repeats):
        start = clock.thread_time()
        market.chain_at(t)
        best = min(best, clock.thread_time() - start)
    return best
