"""Multi-leg option structures: vertical, strangle, iron condor, ratio spread.

A :class:`Structure` is legs plus the contract facts needed to value it. Prices are per
structure unit in index points, LEAN's combo sign convention: a positive net price is a
debit paid, a negative one a credit received. Dollar figures multiply by
``multiplier_usd_per_pt`` (ES options 50, SPX 100).

Expiry payoffs (maximum loss, breakevens) are exact for single-expiry structures: the
payoff is piecewise linear in the underlying with kinks only at the strikes, so it is
evaluated at 0, at every strike and by its slope beyond the highest strike.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import lru_cache
from typing import Any

import numpy as np

from thetacore.chain import ChainSnapshot
from thetacore.durable_state import Fields, StateError
from thetacore.enums import Right
from thetacore.legs import OptionLeg


class StructureKind(Enum):
    """Shape of a structure; decides which buying-power formula applies."""

    VERTICAL = "vertical"
    STRANGLE = "strangle"
    IRON_CONDOR = "iron_condor"
    RATIO_SPREAD = "ratio_spread"
    SINGLE = "single"


class UnderlyingKind(Enum):
    """What the options are written on; decides the margin regime."""

    INDEX = "index"
    EQUITY = "equity"
    FUTURE = "future"


class QuoteError(ValueError):
    """A leg has no usable two-sided quote in the snapshot (missing, zero bid, crossed)."""


@dataclass(frozen=True)
class Structure:
    """Legs traded together as one combo.

    Attributes:
        kind: the structure's shape.
        legs: legs with signed ratios (GCD of ratios is 1).
        multiplier_usd_per_pt: dollars per point per contract.
        underlying_kind: index, equity or future (margin regime).

    Raises:
        ValueError: on construction for an empty structure or ratios whose GCD is not 1.
    """

    kind: StructureKind
    legs: tuple[OptionLeg, ...]
    multiplier_usd_per_pt: float
    underlying_kind: UnderlyingKind

    def __post_init__(self) -> None:
        if not self.legs:
            raise ValueError("a structure needs at least one leg")
        if int(np.gcd.reduce([abs(leg.ratio) for leg in self.legs])) != 1:
            raise ValueError(f"leg ratios must have GCD 1: {[leg.ratio for leg in self.legs]}")

    # ----- durable state ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (:mod:`thetacore.durable_state`): ``kind`` and ``underlying_kind`` by
        value, ``legs`` as :meth:`OptionLeg.to_dict`, ``multiplier_usd_per_pt`` USD per point."""
        return {"kind": self.kind.value, "legs": [leg.to_dict() for leg in self.legs],
                "multiplier_usd_per_pt": self.multiplier_usd_per_pt, "underlying_kind": self.underlying_kind.value}

    @classmethod
    def from_dict(cls, data: Any, path: str = "structure") -> Structure:
        """The structure :meth:`to_dict` wrote.

        Raises:
            StateError: naming the key path of a missing or mistyped field, a non-positive
                multiplier, no legs or leg ratios whose GCD is not 1.
        """
        f = Fields(data, path)
        legs = tuple(OptionLeg.from_dict(leg.data, leg.path) for leg in f.objects("legs"))
        mult = f.number("multiplier_usd_per_pt")
        if mult <= 0:
            raise f.error("multiplier_usd_per_pt", f"must be > 0, got {mult}")
        try:
            return cls(f.enum("kind", StructureKind), legs, mult, f.enum("underlying_kind", UnderlyingKind))
        except ValueError as exc:
            if isinstance(exc, StateError):
                raise
            raise StateError(path, str(exc)) from None

    # ----- quotes -----------------------------------------------------------------------
    def leg_quotes(self, chain: ChainSnapshot) -> tuple[np.ndarray, np.ndarray]:
        """``(bid_pts, ask_pts)`` arrays, one entry per leg, from ``chain``.

        Raises:
            QuoteError: when a leg is missing, has a non-positive bid, a NaN side or a
                crossed quote. A missing quote is never read as zero.
        """
        bids, asks = [], []
        for leg in self.legs:
            try:
                i = chain.index_of(leg.symbol)
            except KeyError as exc:
                raise QuoteError(f"{leg.describe()}: not in chain") from exc
            bid, ask = float(chain.bid_pts[i]), float(chain.ask_pts[i])
            if not (np.isfinite(bid) and np.isfinite(ask)):
                raise QuoteError(f"{leg.describe()}: one-sided quote bid={bid} ask={ask}")
            if bid <= 0:
                raise QuoteError(f"{leg.describe()}: bid {bid:g} <= 0")
            if ask < bid:
                raise QuoteError(f"{leg.describe()}: crossed quote bid {bid:g} > ask {ask:g}")
            bids.append(bid)
            asks.append(ask)
        return np.array(bids), np.array(asks)

    def side_aware_quotes(self, chain: ChainSnapshot) -> tuple[np.ndarray, np.ndarray]:
        """``(bid_pts, ask_pts)`` per leg where a bought leg needs only an offer (a missing
        or zero bid counts as 0: far wings are often offered at one tick with no bid) and a
        sold leg needs a positive bid. :meth:`leg_quotes` is the strict two-sided version.

        Raises:
            QuoteError: a leg not in the chain, a bought leg without a positive ask, a sold leg
                without a positive bid, or a crossed quote. A missing quote is never a price.
        """
        bids, asks = [], []
        for leg in self.legs:
            try:
                i = chain.index_of(leg.symbol)
            except KeyError as exc:
                raise QuoteError(f"{leg.describe()}: not in chain") from exc
            bid, ask = float(chain.bid_pts[i]), float(chain.ask_pts[i])
            if not (np.isfinite(ask) and ask > 0):
                raise QuoteError(f"{leg.describe()}: no ask (bid={bid:g}, ask={ask:g})")
            if leg.ratio < 0 and not (np.isfinite(bid) and bid > 0):
                raise QuoteError(f"{leg.describe()}: no bid to sell into (bid={bid:g}, ask={ask:g})")
            bid = bid if np.isfinite(bid) and bid > 0 else 0.0
            if ask < bid:
                raise QuoteError(f"{leg.describe()}: crossed quote bid {bid:g} > ask {ask:g}")
            bids.append(bid)
            asks.append(ask)
        return np.array(bids), np.array(asks)

    def ratios(self) -> np.ndarray:
        """``(n_legs,)`` int signed ratios."""
        return np.array([leg.ratio for leg in self.legs], dtype=np.int64)

    def net_mid_pts(self, chain: ChainSnapshot) -> float:
        """Net mid price per unit (points; + debit, - credit)."""
        return self.net_mid_natural_pts(*self.leg_quotes(chain))[0]

    def net_mid_natural_pts(self, bid: np.ndarray, ask: np.ndarray) -> tuple[float, float]:
        """``(net mid, net natural)`` per unit from the legs' quotes (:meth:`leg_quotes`), points:
        what :meth:`net_mid_pts` and :meth:`net_natural_pts` give, for a caller that holds the
        quotes already (one chain read instead of three)."""
        r = self.ratios()
        return float(np.dot(r, (bid + ask) / 2.0)), float(np.dot(r, np.where(r > 0, ask, bid)))

    def quoted_mid_pts(self, quote: Callable[[str], tuple[float, float]]) -> float:
        """Net mid price per unit (points; + debit, - credit) from ``quote(symbol) -> (bid,
        ask)`` in points, for a host that reads quotes one contract at a time; NaN when a leg
        has no two-sided, uncrossed quote (a missing quote is not zero)."""
        net = 0.0
        for leg in self.legs:
            bid, ask = quote(leg.symbol)
            if not (math.isfinite(bid) and math.isfinite(ask) and 0 <= bid <= ask):
                return math.nan
            net += leg.ratio * (bid + ask) / 2.0
        return net

    def net_natural_pts(self, chain: ChainSnapshot) -> float:
        """Net price per unit crossing every spread: buy at the ask, sell at the bid."""
        return self.net_mid_natural_pts(*self.leg_quotes(chain))[1]

    def net_at_fraction_pts(self, chain: ChainSnapshot, toward_far_frac: float) -> float:
        """Net price with each leg at ``mid + frac * (far side - mid)``; 0 = mid, 1 = natural."""
        mid = self.net_mid_pts(chain)
        return mid + toward_far_frac * (self.net_natural_pts(chain) - mid)

    # ----- expiry payoff ------------------------------------------------------------------
    def _single_expiry(self) -> date:
        expiries = {leg.expiry for leg in self.legs}
        if len(expiries) != 1:
            raise ValueError(f"expiry payoff needs one expiry, structure has {sorted(expiries)}")
        return expiries.pop()

    def payoff_at_expiry_pts(self, underlying_pts: np.ndarray, net_price_pts: float) -> np.ndarray:
        """Profit per unit in points at expiry for each underlying price, after paying
        ``net_price_pts`` (LEAN sign: + debit, - credit)."""
        s = np.asarray(underlying_pts, dtype=float)[..., None]
        k = np.array([leg.strike_pts for leg in self.legs])
        sign = np.array([int(leg.right) for leg in self.legs])
        intrinsic = np.maximum(0.0, sign * (s - k))
        return (intrinsic * self.ratios()).sum(axis=-1) - net_price_pts

    def _upside_slope(self) -> int:
        return int(sum(leg.ratio for leg in self.legs if leg.right is Right.CALL))

    def max_loss_pts(self, net_price_pts: float) -> float | None:
        """Largest loss per unit at expiry in points (>= 0), or ``None`` when the loss is
        unbounded (net short calls above the top strike). Remembered per structure and
        price (the strategy and the gate both ask for it in one decision).

        Raises:
            ValueError: when the legs have more than one expiry.
        """
        return _max_loss_pts(self, net_price_pts)

    def breakevens_pts(self, net_price_pts: float) -> list[float]:
        """Underlying prices (points) where the expiry payoff crosses zero, ascending."""
        self._single_expiry()
        strikes = sorted({leg.strike_pts for leg in self.legs})
        top = strikes[-1] * 4.0 + abs(net_price_pts) * 4.0
        grid = np.array([0.0] + strikes + [top])
        pay = self.payoff_at_expiry_pts(grid, net_price_pts)
        out: list[float] = []
        for x0, x1, y0, y1 in zip(grid[:-1], grid[1:], pay[:-1], pay[1:], strict=True):
            if y0 == 0.0:
                out.append(float(x0))
            elif y0 * y1 < 0:
                out.append(float(x0 + (x1 - x0) * (-y0) / (y1 - y0)))
        return out

    def describe(self) -> str:
        """One-line text of the legs."""
        return f"{self.kind.value}[" + ", ".join(leg.describe() for leg in self.legs) + "]"


@lru_cache(maxsize=256)
def _max_loss_pts(structure: Structure, net_price_pts: float) -> float | None:
    """:meth:`Structure.max_loss_pts`, computed (a structure is frozen: same legs, same
    payoff); a structure that raises is not remembered and raises again."""
    structure._single_expiry()
    if structure._upside_slope() < 0:
        return None
    grid = np.array([0.0] + sorted({leg.strike_pts for leg in structure.legs}))
    return float(max(0.0, -structure.payoff_at_expiry_pts(grid, net_price_pts).min()))
