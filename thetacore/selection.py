"""Named strike and expiry selection: by target delta within a band, by DTE window.

Strikes are never picked by list position: every choice records the criterion that made
it (style.md, point 11).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from thetacore.chain import ChainSnapshot
from thetacore.enums import Right


@dataclass(frozen=True)
class ExpiryChoice:
    """The expiry chosen for a DTE target, or the nearest one when none is in the window.

    ``in_window`` is False when ``expiry`` is only the nearest candidate for diagnostics.
    """

    expiry: date
    dte_days: int
    in_window: bool


def choose_expiry(chain: ChainSnapshot, today: date, target: int, lo: int, hi: int) -> ExpiryChoice | None:
    """Expiry nearest ``target`` DTE among those within ``[lo, hi]`` DTE; when none is in
    the window, the expiry nearest the target overall with ``in_window=False``; ``None``
    for an empty chain. Ties go to the earlier expiry."""
    expiries = chain.expiries()
    if expiries.size == 0:
        return None
    # a few dozen dates: Python numbers (NaT gives the smallest int64: never inside, never >= 0)
    dte: list[int] = (expiries - np.datetime64(today, "D")).astype(np.int64).tolist()
    inside = [lo <= d <= hi for d in dte]
    pool = [i for i, ok in enumerate(inside) if ok] or [i for i, d in enumerate(dte) if d >= 0]
    if not pool:
        return None
    best = min(pool, key=lambda i: abs(dte[i] - target))  # the first of equals: the earlier expiry
    return ExpiryChoice(expiries[best].astype(object), dte[best], inside[best])


@dataclass(frozen=True)
class StrikeChoice:
    """One contract chosen by target |delta|.

    Attributes:
        index: position in the chain passed to :func:`choose_by_delta`.
        symbol, strike_pts, abs_delta: the contract, its strike and its |delta|.
        in_band: False when no strike fell in the band and this is only the nearest.
    """

    index: int
    symbol: str
    strike_pts: float
    abs_delta: float
    in_band: bool


def choose_by_delta(
    chain: ChainSnapshot, expiry: date, right: Right, target: float, lo: float, hi: float
) -> StrikeChoice | None:
    """The strike of ``right`` at ``expiry`` whose |delta| is nearest ``target`` among
    those with ``lo <= |delta| <= hi``. When none is in the band, the contract nearest the
    band (by |delta| distance to the band) is returned with ``in_band=False``; ``None``
    when no contract of that right and expiry has a delta.
    """
    mask = (chain.expiry == np.datetime64(expiry, "D")) & (chain.right == int(right))
    mask &= np.isfinite(chain.delta)
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return None
    ad = np.abs(chain.delta[idx])
    inside = (ad >= lo) & (ad <= hi)
    if inside.any():
        cand = idx[inside]
        best = int(cand[np.argmin(np.abs(np.abs(chain.delta[cand]) - target))])
    else:
        gap = np.where(ad < lo, lo - ad, ad - hi)
        best = int(idx[np.argmin(gap)])
    return StrikeChoice(
        best, str(chain.symbol[best]), float(chain.strike_pts[best]), float(abs(chain.delta[best])),
        bool(inside.any()),
    )
