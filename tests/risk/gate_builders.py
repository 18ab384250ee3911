"""Shared builders for the gate tests over the REAL ES option chain of 2020-01-06 10:00 ET.

Real (data/, see data/PROVENANCE.md): the ES futures-option quotes and quote times, the
ES 2020-03 future (3225.625 mid at 10:00 ET) and its previous daily close (3235.50 on
2020-01-03, data/future daily bars), the risk-free rate. Structures are built on that chain:
the futures strangle the strategy picks (-1 3000P / -1 3460C 2020-03-20, limit -32.40,
SPAN-like buying power 4,838.44 USD per unit) and put credit spreads from its put strikes,
priced and margined the way strategies do (limit between mid and natural on the combo tick,
buying power by :func:`thetacore.margin.buying_power_pts`).

Given, not from data/: VIX levels (the sample has no VIX series; ES_VIX / ES_VIX_PREV are
test inputs in the ordinary 2020-01 range), NLV, buying power in use, open positions and
trade statistics.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time

import pytest

from risk.gate_inputs import AccountSnapshot, GateMarket, OpenPosition, StrategyStats
from strategies.base import MarketContext
from strategies.futures_strangle import FuturesStrangle
from tests.conftest import ES_ENTRY_UTC, RELAXED
from thetacore.chain_greeks import with_greeks
from thetacore.decisions import OrderIntent
from thetacore.enums import IntentPurpose, Right
from thetacore.legs import OptionLeg
from thetacore.margin import buying_power_pts
from thetacore.parameters import Parameters, load_parameters
from thetacore.pricing import time_to_expiry_years
from thetacore.pricing.time_to_expiry import NEW_YORK
from thetacore.pricing_limits import limit_on_tick
from thetacore.products import product
from thetacore.structures import Structure, StructureKind

NOW = ES_ENTRY_UTC
MARCH = date(2020, 3, 20)
JUNE = date(2020, 6, 19)
ES_PREV_CLOSE = 3235.5
ES_VIX = 13.85
ES_VIX_PREV = 14.02
# 34 wins / 6 losses, avg win 400 / avg loss 800 USD: f* = 0.85 - 0.15 / 0.5 = 0.55
GOOD_STATS = (34, 6, 400.0, 800.0)


def params(**overrides: str) -> Parameters:
    """Default parameters with string overrides (as config.json would give them)."""
    return load_parameters(overrides)


def es_strangle(ctx: MarketContext) -> tuple[OrderIntent, float]:
    """The strangle FuturesStrangle enters under RELAXED parameters, and its BP per unit (USD)."""
    d = FuturesStrangle(load_parameters(RELAXED)).entry_decision(ctx)
    assert d.intent is not None, d.reason_text
    return d.intent, float(d.details["buying_power_usd"])


def es_structure(ctx: MarketContext, legs: list[tuple[Right, float, int, date]], strategy: str,
                 kind: StructureKind, quantity: int = 1, root: str = "ES") -> tuple[OrderIntent, float]:
    """An OPEN intent for ``legs`` (right, strike, ratio, expiry) on ``ctx.chain`` (symbols as
    ``ES202003 200320P03000000``), limited at mid + 0.3 x (natural - mid) on the combo tick,
    and its scan-range BP per unit (USD)."""
    chain, prod = ctx.chain, product(root)
    assert chain is not None
    out = []
    for right, strike, ratio, expiry in legs:
        tag = "C" if right is Right.CALL else "P"
        sym = f"{root}{expiry:%Y%m} {expiry:%y%m%d}{tag}{round(strike * 1000):08d}"
        out.append(OptionLeg(sym, f"{root}{expiry:%Y%m}", right, strike, expiry, ratio))
    s = Structure(kind, tuple(out), chain.multiplier_usd_per_pt, prod.underlying_kind)
    mid, natural = s.net_mid_pts(chain), s.net_natural_pts(chain)
    bid, ask = s.leg_quotes(chain)
    limit = limit_on_tick(mid + 0.3 * (natural - mid), natural, prod.combo_tick_pts(((bid + ask) / 2).tolist()))
    greeks = with_greeks(chain, model=prod.model, rate_frac=ctx.rate_frac, yield_frac=0.0,
                         expiry_time_et=prod.expiry_time_et)
    t = float(time_to_expiry_years(min(e for *_, e in legs), ctx.time_utc, prod.expiry_time_et))
    scan = ctx.futures_scan_range_frac(chain.multiplier_usd_per_pt, 0.07)  # the day's: 4.297% on 2020-01-06
    bp = buying_power_pts(s, greeks, net_price_pts=limit, scan_range_frac=scan, t_years=t, rate_frac=ctx.rate_frac,
                          vol_scan_frac=0.04, short_minimum_frac=0.015)
    pid = f"{strategy}-{'-'.join(f'{k:g}' for _, k, _, _ in legs)}"
    return OrderIntent(strategy, IntentPurpose.OPEN, s, quantity, limit, pid), bp * chain.multiplier_usd_per_pt


def put_spread(ctx: MarketContext, short_k: float, long_k: float, expiry: date = MARCH,
               strategy: str = "put_spread", quantity: int = 1) -> tuple[OrderIntent, float]:
    """A put credit spread on the real chain (short ``short_k``, long ``long_k``)."""
    return es_structure(ctx, [(Right.PUT, long_k, 1, expiry), (Right.PUT, short_k, -1, expiry)], strategy,
                        StructureKind.VERTICAL, quantity)


def market(intent: OrderIntent, ctx: MarketContext, bp_usd: float, **overrides: object) -> GateMarket:
    """GateMarket of ``intent`` read from the real chain; keyword overrides replace fields."""
    assert ctx.chain is not None
    m = GateMarket.from_chain(intent, ctx.chain, vix_level=ES_VIX, vix_prev_close=ES_VIX_PREV,
                              underlying_prev_close=ES_PREV_CLOSE, bp_usd_per_unit=bp_usd)
    return dataclasses.replace(m, **overrides) if overrides else m


def stats(strategy: str, wins: int, losses: int, avg_win: float, avg_loss: float) -> StrategyStats:
    return StrategyStats(strategy, wins, losses, avg_win, avg_loss)


def account(nlv: float = 100_000.0, in_use: float = 0.0, positions: tuple[OpenPosition, ...] = (),
            strategy_stats: tuple[StrategyStats, ...] = ()) -> AccountSnapshot:
    return AccountSnapshot(nlv, in_use, positions, strategy_stats)


def position(pid: str, root: str = "ES", strategy: str = "other", expiry: date = MARCH, *,
             short_put: bool = False, bullish: bool = False) -> OpenPosition:
    return OpenPosition(pid, strategy, root, expiry, short_put, bullish, 2_000.0)


def closing(intent: OrderIntent, ctx: MarketContext, quantity: int | None = None) -> OrderIntent:
    """The CLOSE intent of an opened ``intent``: legs reversed, limit at mid + 0.3 x (natural - mid)."""
    s = intent.structure
    legs = tuple(dataclasses.replace(leg, ratio=-leg.ratio) for leg in s.legs)
    c = dataclasses.replace(s, legs=legs)
    assert ctx.chain is not None
    mid, natural = c.net_mid_pts(ctx.chain), c.net_natural_pts(ctx.chain)
    return OrderIntent(intent.strategy, IntentPurpose.CLOSE, c, quantity or intent.quantity,
                       round(mid + 0.3 * (natural - mid), 2), intent.position_id)


def fresh(m: GateMarket, when: datetime) -> GateMarket:
    """``m`` with every quote stamped ``when`` (the same real prices at a later decision)."""
    return dataclasses.replace(m, quotes=tuple(dataclasses.replace(q, quote_time_utc=when) for q in m.quotes))


def at_et(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A decision time given in New York wall-clock time, as aware UTC."""
    return datetime.combine(day, time(hour, minute), NEW_YORK).astimezone(UTC)


@pytest.fixture(scope="session")
def ctx(es_market) -> MarketContext:
    """Market context at 10:00 ET on 2020-01-06: the real ES chain, future and rate."""
    return es_market.context(NOW)


@pytest.fixture(scope="session")
def strangle(ctx) -> tuple[OrderIntent, float]:
    """The real-chain strangle (-1 3000P / -1 3460C 2020-03-20, limit -32.40) and its BP/unit."""
    return es_strangle(ctx)
