"""Limit-price arithmetic for combo orders (LEAN sign: + debit paid, - credit received)."""

from __future__ import annotations

import math


def limit_on_tick(raw_pts: float, natural_pts: float, tick_pts: float) -> float:
    """Put a net limit price on the tick grid.

    A combo fills when the market's net price is at or below the limit (LEAN sign), so
    rounding up makes an order more marketable. The limit is rounded up to the tick unless
    that would go beyond the natural price (crossing every spread), in which case it is
    rounded down instead. ``tick_pts == 0`` means no rounding.

    Raises:
        ValueError: for a negative tick or a non-finite price.
    """
    if not (math.isfinite(raw_pts) and math.isfinite(natural_pts)):
        raise ValueError(f"limit and natural prices must be finite, got {raw_pts}, {natural_pts}")
    if tick_pts < 0:
        raise ValueError(f"tick must be >= 0, got {tick_pts}")
    if tick_pts == 0:
        return raw_pts
    steps = raw_pts / tick_pts
    up = math.ceil(steps - 1e-9) * tick_pts
    if up <= natural_pts + 1e-9:
        return round(up, 10)
    return round(math.floor(steps + 1e-9) * tick_pts, 10)
