"""Pure rules of the 0DTE trade (docs/strategy-rules.md, "0DTE (Friday)"): the move read, the
structure it calls for, short strikes placed by ATR distance, wings by points, and prices
that respect which side of each quote a leg trades on.

Every choice is by a named criterion (style.md, point 11): a short strike is *the listed
strike nearest spot -/+ mult x ATR*, a long strike *the listed strike nearest short -/+ wing
points beyond the short*, never a position in a list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from enum import Enum

import numpy as np

from strategies.base import MarketContext
from thetacore.atr import AtrError, wilder_atr_pts
from thetacore.chain import ChainSnapshot
from thetacore.chain_greeks import with_greeks
from thetacore.decisions import Reason
from thetacore.enums import Right
from thetacore.legs import OptionLeg
from thetacore.margin import buying_power_pts
from thetacore.parameters import Parameters
from thetacore.pricing import time_to_expiry_years
from thetacore.pricing_limits import limit_on_tick
from thetacore.products import PRODUCTS, OptionProduct
from thetacore.structures import QuoteError, Structure, StructureKind, UnderlyingKind

ZDTE_EXPIRY_TIME_ET = time(16, 0)
"""Settle time of every 0DTE contract: SPXW is PM-settled at 16:00 ET (Cboe); ES and MES
Friday weekly and daily options stop trading at 15:00 CT = 16:00 ET (CME). The products
table's 09:30 for ES is the AM settlement of the quarterly options, which 0DTE does not use."""


class Shape(Enum):
    """What the morning's move calls for: fade a rally with calls, a drop with puts, or
    sell both sides when the market is flat."""

    CALL_SPREAD = "call_credit_spread"
    PUT_SPREAD = "put_credit_spread"
    IRON_CONDOR = "iron_condor"

    @property
    def rights(self) -> tuple[Right, ...]:
        """Sides sold, puts first."""
        return {Shape.CALL_SPREAD: (Right.CALL,), Shape.PUT_SPREAD: (Right.PUT,),
                Shape.IRON_CONDOR: (Right.PUT, Right.CALL)}[self]


def move_frac(start_pts: float, now_pts: float) -> float:
    """Relative move ``now / start - 1`` (fraction; NaN unless both prices are > 0)."""
    if not (np.isfinite(start_pts) and np.isfinite(now_pts) and start_pts > 0 and now_pts > 0):
        return float("nan")
    return now_pts / start_pts - 1.0


def choose_shape(move: float, threshold_frac: float) -> Shape:
    """``move > +threshold``: call spread; ``move < -threshold``: put spread; otherwise
    (including exactly at the threshold) an iron condor."""
    if move > threshold_frac:
        return Shape.CALL_SPREAD
    if move < -threshold_frac:
        return Shape.PUT_SPREAD
    return Shape.IRON_CONDOR


def right_name(right: Right) -> str:
    return "call" if right is Right.CALL else "put"


@dataclass(frozen=True)
class StrikePick:
    """One listed contract picked by distance to a target price.

    Attributes:
        index: position in the chain searched.
        symbol, strike_pts: the contract and its strike.
        target_pts: the price the strike was meant to be nearest to.
        abs_delta: |delta| of the contract (NaN when the chain has none for it).
    """

    index: int
    symbol: str
    right: Right
    strike_pts: float
    target_pts: float
    abs_delta: float


def _pick(chain: ChainSnapshot, idx: np.ndarray, right: Right, target_pts: float,
          tie_key: np.ndarray) -> StrikePick | None:
    if idx.size == 0:
        return None
    dist = np.abs(chain.strike_pts[idx] - target_pts)
    near = idx[np.abs(dist - dist.min()) <= 1e-9]  # np.isclose(rtol=0, atol=1e-9), without its overhead
    best = int(near[np.argmax(tie_key[near])])
    return StrikePick(best, str(chain.symbol[best]), right, float(chain.strike_pts[best]), target_pts,
                      float(abs(chain.delta[best])))


def nearest_short(chain: ChainSnapshot, expiry: date, right: Right, target_pts: float) -> StrikePick | None:
    """The listed ``right`` strike at ``expiry`` nearest ``target_pts``; between two equally
    near strikes the one farther out of the money (lower put, higher call) is taken.
    ``None`` when the expiry lists no such contract."""
    idx = np.flatnonzero((chain.expiry == np.datetime64(expiry, "D")) & (chain.right == int(right)))
    return _pick(chain, idx, right, target_pts, int(right) * chain.strike_pts)


def nearest_wing(chain: ChainSnapshot, expiry: date, short: StrikePick, wing_pts: float) -> StrikePick | None:
    """The listed strike of the short's right nearest ``short -/+ wing_pts`` among strikes
    strictly beyond the short (lower for puts, higher for calls); between two equally near
    strikes the narrower wing is taken. ``None`` when no strike lies beyond the short."""
    sign = int(short.right)
    beyond = sign * (chain.strike_pts - short.strike_pts) > 0
    idx = np.flatnonzero((chain.expiry == np.datetime64(expiry, "D")) & (chain.right == sign) & beyond)
    return _pick(chain, idx, short.right, short.strike_pts + sign * wing_pts, -sign * chain.strike_pts)


def build_structure(chain: ChainSnapshot, expiry: date, pairs: list[tuple[StrikePick, StrikePick]],
                    underlying_kind: UnderlyingKind) -> Structure:
    """A credit vertical (one ``(short, long)`` pair: legs short then long, ratios -1/+1) or
    an iron condor (two pairs: legs by ascending strike, ratios +1/-1/-1/+1)."""
    legs = []
    for short, long in pairs:
        for pick, ratio in ((short, -1), (long, 1)):
            legs.append(OptionLeg(pick.symbol, str(chain.underlying_symbol[pick.index]), pick.right,
                                  pick.strike_pts, expiry, ratio))
    if len(pairs) == 1:
        return Structure(StructureKind.VERTICAL, tuple(legs), chain.multiplier_usd_per_pt, underlying_kind)
    ordered = tuple(sorted(legs, key=lambda leg: leg.strike_pts))
    return Structure(StructureKind.IRON_CONDOR, ordered, chain.multiplier_usd_per_pt, underlying_kind)


# ----- prices, side-aware -------------------------------------------------------------------
def net_prices_pts(structure: Structure, chain: ChainSnapshot) -> tuple[float, float, list[float]]:
    """``(net mid, net natural, leg mids)`` per unit, LEAN sign (+ debit, - credit), from
    :meth:`thetacore.structures.Structure.side_aware_quotes`. Natural buys at the ask and sells at the bid.

    Raises:
        QuoteError: as :meth:`~thetacore.structures.Structure.side_aware_quotes`.
    """
    bid, ask = structure.side_aware_quotes(chain)
    r = structure.ratios()
    mids = (bid + ask) / 2.0
    return float(np.dot(r, mids)), float(np.dot(r, np.where(r > 0, ask, bid))), mids.tolist()


def closing_structure(structure: Structure, chain: ChainSnapshot) -> tuple[Structure, list[OptionLeg]]:
    """The order that closes ``structure``: every leg reversed, except long legs with no bid
    (nobody pays anything for them: they are worthless far wings), which are left to expire.

    Returns:
        ``(closing structure, legs left to expire)``.

    Raises:
        QuoteError: when every leg would be left (nothing to close).
    """
    keep, left = [], []
    for leg in structure.legs:
        i = np.flatnonzero(chain.symbol == leg.symbol)
        bid = float(chain.bid_pts[i[0]]) if i.size else float("nan")
        if leg.ratio > 0 and not (np.isfinite(bid) and bid > 0):
            left.append(leg)
            continue
        keep.append(OptionLeg(leg.symbol, leg.underlying_symbol, leg.right, leg.strike_pts, leg.expiry,
                              -leg.ratio))
    if not keep:
        raise QuoteError(f"{structure.describe()}: no leg to close")
    kind = structure.kind
    if len(keep) < len(structure.legs):
        rights = {leg.right for leg in keep}
        kind = StructureKind.SINGLE if len(keep) == 1 else (
            StructureKind.VERTICAL if len(rights) == 1 else StructureKind.STRANGLE)
    return Structure(kind, tuple(keep), structure.multiplier_usd_per_pt, structure.underlying_kind), left


# ----- the data-driven entry rules, in order ----------------------------------------------------
@dataclass(frozen=True)
class EntryOutcome:
    """A structure that passed every data rule, its combo limit (LEAN sign) and a summary."""

    structure: Structure
    limit_pts: float
    max_loss_pts: float
    buying_power_pts: float
    summary: str


class EntryEvaluator:
    """Move, ATR, today's chain, strikes and price, checked in that order for one decision.

    Every unmet rule is appended to :attr:`reasons` (code and numbers) and every number
    worth journaling to :attr:`details`; :meth:`evaluate` stops at the first rule whose data
    the next rules need.
    """

    def __init__(self, p: Parameters, ctx: MarketContext, move_start_pts: float | None,
                 prod: OptionProduct | None) -> None:
        self.p, self.ctx, self.start, self.prod = p, ctx, move_start_pts, prod
        self.reasons: list[Reason] = []
        self.details: dict[str, object] = {}

    def evaluate(self) -> EntryOutcome | None:
        shape, atr = self.read_move(), self.read_atr()
        if shape is None or atr is None:
            return None
        found = self.chain_today()
        if found is None:
            return None
        chain, prod = found
        pairs = self.place_strikes(chain, shape, atr)
        if pairs is None:
            return None
        structure = build_structure(chain, self.ctx.today_et, pairs, prod.underlying_kind)
        return self.price(structure, chain, prod, shape)

    def read_move(self) -> Shape | None:
        p, spot, start = self.p, self.ctx.underlying_pts, self.start
        when = f"{p.zdte_move_start_et:%H:%M} ET"
        if start is None:
            text = f"no underlying price recorded at or after {when} today (move_start rule did not run)"
        elif not np.isfinite(start):
            text = f"the move_start reading (first bar after {when}) had no underlying price"
        elif not np.isfinite(move_frac(start, spot)):
            text = f"no move from start {start:g} to now {spot:g} (a price is missing or not positive)"
        else:
            move = move_frac(start, spot)
            shape = choose_shape(move, p.zdte_move_threshold_frac)
            self.details.update(move_start_pts=start, spot_pts=spot, move_frac=round(move, 6),
                                shape=shape.value)
            return shape
        self.reasons.append(Reason("MOVE_UNAVAILABLE", text))
        return None

    def read_atr(self) -> float | None:
        days, today = self.p.zdte_atr_days, self.ctx.today_et
        bars = self.ctx.underlying_daily.before(today) if self.ctx.underlying_daily is not None else None
        if bars is None:
            self.reasons.append(Reason("ATR_UNAVAILABLE", "no daily bars of the underlying"))
            return None
        try:
            atr = wilder_atr_pts(bars, days)
        except AtrError as exc:
            self.reasons.append(Reason("ATR_UNAVAILABLE", f"{exc}: completed bars before "
                                       f"{today.isoformat()}"))
            return None
        self.details.update(atr_pts=round(atr, 4), atr_days=days, atr_last_bar=str(bars.day[-1]))
        return atr

    def chain_today(self) -> tuple[ChainSnapshot, OptionProduct] | None:
        ctx, today = self.ctx, self.ctx.today_et
        if ctx.chain is None or len(ctx.chain) == 0:
            self.reasons.append(Reason("NO_CHAIN", ctx.chain_problem or "no option chain"))
            return None
        root = ctx.chain.root.partition("*")[0]
        if self.prod is not None and root != self.prod.root:
            self.reasons.append(Reason("PRODUCT_MISMATCH", f"this phase trades {self.prod.root} options; the "
                                       f"host's chain is {root}"))
            return None
        prod = self.prod or PRODUCTS.get(root)
        if prod is None:
            self.reasons.append(Reason("UNKNOWN_PRODUCT", f"no product facts for chain root {root}"))
            return None
        mask = ctx.chain.expiry == np.datetime64(today, "D")
        if not mask.any():
            listed = ", ".join(str(e) for e in ctx.chain.expiries()[:5])
            self.reasons.append(Reason("NO_0DTE_EXPIRY", f"no {root} contract expires today "
                                       f"{today.isoformat()}; listed: {listed}"))
            return None
        chain = with_greeks(ctx.chain.select(mask), model=prod.model, rate_frac=ctx.rate_frac, yield_frac=0.0,
                            expiry_time_et=ZDTE_EXPIRY_TIME_ET)
        return chain, prod

    def place_strikes(self, chain: ChainSnapshot, shape: Shape, atr: float
                      ) -> list[tuple[StrikePick, StrikePick]] | None:
        p, spot, today = self.p, self.ctx.underlying_pts, self.ctx.today_et
        mult = p.zdte_condor_atr_mult if shape is Shape.IRON_CONDOR else p.zdte_spread_atr_mult
        wing_pts, lo, hi = p.zdte_wing_pts * p.zdte_wing_scale, p.zdte_short_delta_min, p.zdte_short_delta_max
        pairs, ok = [], True
        for right in shape.rights:
            name, sign = right_name(right), int(right)
            target = spot + sign * mult * atr
            short = nearest_short(chain, today, right, target)
            if short is None:
                self.reasons.append(Reason("NO_SHORT_STRIKE", f"no {name} listed for today"))
                ok = False
                continue
            self.details.update({f"short_{name}_target_pts": round(target, 4), f"short_{name}_strike_pts":
                                 short.strike_pts, f"short_{name}_abs_delta": round(short.abs_delta, 4)})
            where = (f"nearest listed strike to {target:.2f} = spot {spot:.2f} {'+' if sign > 0 else '-'} "
                     f"{mult:g} x ATR {atr:.2f}")
            if not np.isfinite(short.abs_delta):
                self.reasons.append(Reason("SHORT_DELTA_UNAVAILABLE", f"{name} {short.strike_pts:g} has no "
                                           f"delta (no two-sided quote to imply a volatility from); {where}"))
                ok = False
            elif not lo <= short.abs_delta <= hi:
                self.reasons.append(Reason("SHORT_DELTA_OUT_OF_BAND", f"{name} {short.strike_pts:g} at "
                                           f"{short.abs_delta:.2f} delta outside {lo:.2f}-{hi:.2f}; {where}"))
                ok = False
            wing = nearest_wing(chain, today, short, wing_pts)
            if wing is None:
                self.reasons.append(Reason("NO_WING_STRIKE", f"no {name} listed beyond {short.strike_pts:g} "
                                           f"for the {wing_pts:g}-point wing"))
                ok = False
                continue
            self.details.update({f"long_{name}_strike_pts": wing.strike_pts,
                                 f"{name}_wing_width_pts": abs(wing.strike_pts - short.strike_pts)})
            pairs.append((short, wing))
        return pairs if ok else None

    def price(self, structure: Structure, chain: ChainSnapshot, prod: OptionProduct, shape: Shape
              ) -> EntryOutcome | None:
        p, d = self.p, self.details
        try:
            mid, natural, mids = net_prices_pts(structure, chain)
        except QuoteError as exc:
            self.reasons.append(Reason("QUOTE_INVALID", str(exc)))
            return None
        raw = mid + p.order_limit_toward_far_frac * (natural - mid)
        limit = limit_on_tick(raw, natural, prod.combo_tick_pts(mids))
        d.update(net_mid_pts=round(mid, 4), net_natural_pts=round(natural, 4), limit_pts=limit)
        if limit >= 0:
            self.reasons.append(Reason("NO_CREDIT", f"net price {limit:+.2f} pts is not a credit"))
            return None
        max_loss = structure.max_loss_pts(limit)
        assert max_loss is not None  # defined risk: every short has a long beyond it
        bp, method = self._buying_power_pts(structure, chain, limit, max_loss)
        mult = structure.multiplier_usd_per_pt
        d.update(credit_pts=-limit, width_pts=max(_wing_widths(structure)), max_loss_pts=round(max_loss, 4),
                 max_loss_usd_per_unit=round(max_loss * mult, 2),
                 breakevens_pts=[round(b, 4) for b in structure.breakevens_pts(limit)],
                 buying_power_pts=round(bp, 4), buying_power_usd_per_unit=round(bp * mult, 2),
                 buying_power_method=method)
        summary = (f"sell {shape.value} {structure.describe()}: move {d['move_frac']:+.2%}, ATR "
                   f"{d['atr_pts']:.2f}; credit {-limit:.2f} pts, max loss {max_loss:.2f} pts per unit")
        return EntryOutcome(structure, limit, max_loss, bp, summary)

    def _buying_power_pts(self, structure: Structure, chain: ChainSnapshot, limit: float, max_loss: float
                          ) -> tuple[float, str]:
        """Our margin formula; for futures options the scan needs an IV on every leg, and a
        far wing without a bid has none: then the defined-risk maximum loss is used."""
        today = np.datetime64(self.ctx.today_et, "D")
        t_years = float(time_to_expiry_years(today, self.ctx.time_utc, ZDTE_EXPIRY_TIME_ET))
        try:
            scan = self.ctx.futures_scan_range_frac(chain.multiplier_usd_per_pt, self.p.futures_scan_range_frac)
            bp = buying_power_pts(structure, chain, net_price_pts=limit, scan_range_frac=scan, t_years=t_years,
                                  rate_frac=self.ctx.rate_frac, vol_scan_frac=self.p.futures_vol_scan_frac,
                                  short_minimum_frac=self.p.futures_short_option_minimum_frac)
        except ValueError:
            return max_loss, "max loss (scan needs an IV on every leg)"
        return bp, "scan range" if structure.underlying_kind is UnderlyingKind.FUTURE else "width - credit"


def _wing_widths(structure: Structure) -> list[float]:
    return [abs(a.strike_pts - b.strike_pts) for a in structure.legs for b in structure.legs
            if a.right is b.right and a.ratio < 0 < b.ratio]
