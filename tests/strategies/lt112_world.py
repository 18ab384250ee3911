"""One LT112 on the REAL ES chain of 2020-01-06 10:00 ET, shared by the LT112 management tests
(take-profit boundary, held-contract reads, the MES move).

With :data:`PARAMS` (any day, 60-200 DTE: June 2020-06-19 at 165 DTE is nearest 120; naked 10%
below) the entry is 1 x 3000P / -1 x 2950P / -2 x 2900P of 2020-06-19, the naked 2900P quoted
48.75 / 49.25 (credit 49.00 pts at the mid).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from strategies.base import ChainLoad, HeldLoad, LazyChainContext, MarketContext
from thetacore.chain import ChainSnapshot

PARAMS = {"lt112_entry_weekday": "-1", "lt112_entry_nth_weekday": "0", "lt112_dte_min": "60",
          "lt112_dte_max": "200", "lt112_naked_put_otm_frac": "0.10"}
NAKED = "ES202006 200619P02900000"
"""The naked 2900P of the entry (ES 2020-06-19)."""


def requoted(chain: ChainSnapshot, symbol: str, bid: float, ask: float) -> ChainSnapshot:
    """``chain`` with ``symbol`` re-quoted ``bid`` / ``ask`` (points; CONSTRUCTED), other rows as they are."""
    b, a = chain.bid_pts.copy(), chain.ask_pts.copy()
    i = chain.index_of(symbol)
    b[i], a[i] = bid, ask
    return dataclasses.replace(chain, bid_pts=b, ask_pts=a)


def lazy_context(ctx: MarketContext, load: ChainLoad, *, held_load: HeldLoad | None = None,
                 micro_load: Callable[[], ChainSnapshot | None] | None = None) -> LazyChainContext:
    """A host-like :class:`LazyChainContext` at ``ctx``'s minute whose chain comes from ``load``
    (the host's ``held_load`` / ``micro_load`` as given), every other field from ``ctx``."""
    return LazyChainContext.deferred(ctx.time_utc, ctx.today_et, load, ctx.rate_frac,
                                     underlying_daily=ctx.underlying_daily, underlying_pts=None,
                                     vix_level=ctx.vix_level, nlv_usd=ctx.nlv_usd, event_dates=ctx.event_dates,
                                     held_load=held_load, micro_load=micro_load)
