"""Limit-price arithmetic for combo orders."""

from __future__ import annotations

import math


def round_to_tick(price_pts: float, tick_pts: float) -> float:
    """``price_pts`` rounded to the nearest multiple of ``tick_pts`` (no rounding for 0).

    Raises:
        ValueError: for a negative tick or a non-finite price.
    """
    if not math.isfinite(price_pts):
        raise ValueError(f"limit price must be finite, got {price_pts}")
    if tick_pts < 0:
        raise ValueError(f"tick must be >= 0, got {tick_pts}")
    if tick_pts == 0:
        return price_pts
    return round(round(price_pts / tick_pts) * tick_pts, 10)
