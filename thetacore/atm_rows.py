"""Which rows of a chain the ATM points read (:mod:`thetacore.atm_points`), found lazily.

* :class:`ExpiryTimes`: :func:`thetacore.chain_greeks.expiry_years` of the listed expiries,
  each computed when first read: the times grow with the date, so the first unexpired
  expiry and the place of the target maturity are found by bisection over a few of them.
* :class:`ExpiryGroups`: one expiry's rows sorted by strike, stably (rows of one strike keep
  the chain's order: what a stable sort of the whole chain by (expiry, strike) gives that
  expiry), and the rows of the two listed strikes around a forward (:meth:`bracket`).
  Found per expiry when asked (a reading looks at two or three of them): by position when
  the chain lists its expiries in order (:meth:`thetacore.chain.ChainSnapshot.expiry_in_order`),
  else by a mask.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time

import numpy as np

from thetacore.chain import ChainSnapshot
from thetacore.chain_greeks import expiry_years

__all__ = ["LONG_WAY", "Bracket", "ExpiryGroups", "ExpiryTimes"]


class ExpiryTimes:
    """:func:`thetacore.chain_greeks.expiry_years` of listed expiries, as a sequence for
    :mod:`bisect`, each computed on first reading. Item ``i`` is the time of
    ``listed[offset + i]`` (``offset`` and the length ``size`` narrow it to a slice of the
    list: the caller sets them); times increase with the date (two dates are a day apart, a
    clock change one hour), so the sequence is sorted."""

    def __init__(self, listed: np.ndarray, now_utc: datetime, expiry_time_et: time) -> None:
        self.listed, self.now_utc, self.expiry_time_et = listed, now_utc, expiry_time_et
        self.offset, self.size = 0, len(listed)
        self.memo: dict[int, float] = {}

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> float:
        j = self.offset + i
        t = self.memo.get(j)
        if t is None:
            t = self.memo[j] = expiry_years(self.listed[j].astype(date), self.now_utc, self.expiry_time_et)
        return t


Bracket = tuple[int, int, int]  # in a group's strike order: (first row of the low strike, of the high one, end)
LONG_WAY = (-1, -1, -1)


class ExpiryGroups:
    """Each kept expiry's rows sorted by strike, stably (rows of one strike keep the chain's
    order: what a stable sort by (expiry, strike) of the whole chain gives each expiry),
    found when first asked for: a decision reads two or three of the expiries."""

    def __init__(self, chain: ChainSnapshot, days: list[np.datetime64]) -> None:
        self.chain, self.days = chain, days
        self.ints = chain.expiry.view(np.int64)
        self.in_order = chain.expiry_in_order()  # as a host lists them
        self.memo: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def group(self, g: int) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, strikes)`` of group ``g``: chain row numbers sorted by strike, and their strikes."""
        hit = self.memo.get(g)
        if hit is not None:
            return hit
        day = self.days[g].view(np.int64)
        if self.in_order:
            a, b = int(np.searchsorted(self.ints, day, "left")), int(np.searchsorted(self.ints, day, "right"))
            strikes = self.chain.strike_pts[a:b]
            order = np.argsort(strikes, kind="stable")
            rows = order + a
        else:
            at = np.flatnonzero(self.ints == day)
            order = np.argsort(self.chain.strike_pts[at], kind="stable")
            rows = at[order]
        out = self.memo[g] = (rows, self.chain.strike_pts[rows])
        return out

    def rows(self, g: int) -> np.ndarray:
        """Chain row numbers of group ``g``, sorted by strike."""
        return self.group(g)[0]

    def bracket(self, g: int, fwd: float) -> Bracket | None:
        """The rows of the two listed strikes around ``fwd`` in group ``g`` (positions in its
        strike order): ``None`` when ``fwd`` is unknown or outside the listed strikes (the
        long way gives NaN), ``LONG_WAY`` when only the long way can tell."""
        if not math.isfinite(fwd):
            return None
        k = self.group(g)[1]
        j = int(np.searchsorted(k, fwd, "right"))  # strikes <= fwd (a NaN strike sorts last)
        if j == 0:
            return None
        if j == k.size:
            return None if fwd > k[-1] else LONG_WAY
        if not math.isfinite(k[j]):
            return LONG_WAY
        lo = int(np.searchsorted(k, k[j - 1], "left"))
        hi = int(np.searchsorted(k, k[j], "right"))
        return lo, j, hi
