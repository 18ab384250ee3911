"""Option legs: one contract line of a structure, with a signed ratio."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from thetacore.enums import Right


@dataclass(frozen=True)
class OptionLeg:
    """One option contract in a structure.

    Attributes:
        symbol: host contract identifier (as in :class:`thetacore.chain.ChainSnapshot`).
        underlying_symbol: the future or index the option is written on.
        right: call or put.
        strike_pts: strike in index points.
        expiry: expiry date (exchange calendar date).
        ratio: signed contracts per one unit of the structure (+ long, - short); the
            ratios of a structure have GCD 1 as LEAN's ``Leg.create`` requires.
    """

    symbol: str
    underlying_symbol: str
    right: Right
    strike_pts: float
    expiry: date
    ratio: int

    def __post_init__(self) -> None:
        if self.ratio == 0:
            raise ValueError(f"leg {self.symbol}: ratio must be non-zero")
        if not self.strike_pts > 0:
            raise ValueError(f"leg {self.symbol}: strike must be > 0, got {self.strike_pts}")

    @property
    def is_short(self) -> bool:
        """True for a sold leg."""
        return self.ratio < 0

    def intrinsic_pts(self, underlying_pts: float) -> float:
        """Intrinsic value per contract in points at ``underlying_pts`` (>= 0)."""
        return max(0.0, int(self.right) * (underlying_pts - self.strike_pts))

    def describe(self) -> str:
        """Short text such as ``-1 ES 2020-03-20 3000P``."""
        tag = "C" if self.right is Right.CALL else "P"
        return f"{self.ratio:+d} {self.underlying_symbol} {self.expiry.isoformat()} {self.strike_pts:g}{tag}"
