"""Option legs: one contract line of a structure, with a signed ratio."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from thetacore.durable_state import Fields, StateError
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (:mod:`thetacore.durable_state`): ``symbol`` is the host's contract
        identifier verbatim (in LEAN the ``SecurityIdentifier`` string the chain reader keys
        contracts by), ``right`` ``"call"``/``"put"``, ``strike_pts`` points, ``expiry``
        ``yyyy-mm-dd``, ``ratio`` signed."""
        return {"symbol": self.symbol, "underlying_symbol": self.underlying_symbol,
                "right": self.right.name.lower(), "strike_pts": self.strike_pts,
                "expiry": self.expiry.isoformat(), "ratio": self.ratio}

    @classmethod
    def from_dict(cls, data: Any, path: str = "leg") -> OptionLeg:
        """The leg :meth:`to_dict` wrote.

        Raises:
            StateError: naming ``path`` and the key when a field is missing, of the wrong
                type, or breaks the leg's own checks (zero ratio, strike <= 0).
        """
        f = Fields(data, path)
        right = f.string("right")
        if right not in ("call", "put"):
            raise f.error("right", f"expected 'call' or 'put', got {right!r}")
        try:
            return cls(f.string("symbol"), f.string("underlying_symbol"), Right[right.upper()],
                       f.number("strike_pts"), f.day("expiry"), f.integer("ratio"))
        except ValueError as exc:
            if isinstance(exc, StateError):
                raise
            raise StateError(path, str(exc)) from None

    def describe(self) -> str:
        """Short text such as ``-1 ES 2020-03-20 3000P``."""
        tag = "C" if self.right is Right.CALL else "P"
        return f"{self.ratio:+d} {self.underlying_symbol} {self.expiry.isoformat()} {self.strike_pts:g}{tag}"
