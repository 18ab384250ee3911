"""Marks that cannot lie: a holding's mark for NLV, loss limits and drawdown (issue 8).

A holding is marked at its quote's mid only when that quote passes the SAME validation as an
order's legs (:func:`safety.quote_validation.leg_quote_reason` with the gate's parameters:
both sides finite and > 0, not crossed, spread within ``safety_max_spread_frac_of_mid`` of
the mid or ``safety_spread_floor_ticks`` ticks, stamped at most ``safety_max_quote_age_sec``
before the mark and not ahead of it). Otherwise the holding keeps its LAST GOOD mark, and the
bad quote is kept (:attr:`MarkBook.rejected`) with its source, for the host to log. A holding
that never had a good mark is valued at the host's fallback (its average cost: what was paid
is a real price, a crossed quote is not), or is unknown (NaN) without one; an unknown mark
makes the NLV unknown (a missing quote is not zero), and the gate skips an unknown NLV.

So one crossed, negative or absurdly wide quote at a mark moves the NLV by nothing and trips
nothing; a real move shows at the next good quote.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from safety.quote_validation import LegQuote, leg_quote_reason
from thetacore.decisions import Reason
from thetacore.durable_state import StateError
from thetacore.parameters import Parameters

PRICE_CODES = frozenset({"QUOTE_NONPOSITIVE", "QUOTE_CROSSED", "QUOTE_SPREAD_WIDE"})
"""Rejections of a quote's PRICE (worth a warning); the others (no quote, one side only, old)
are ordinary for an illiquid holding between trades."""


@dataclass(frozen=True)
class RejectedMark:
    """A quote not used as a mark.

    Attributes:
        symbol: the holding's contract.
        time_utc: the mark's time.
        source: where the quote came from (replay: data file and minute; LEAN: symbol and
            time), for the log.
        reason: the validation's reason (code and numbers).
        kept_pts: the mark used instead (the last good one, or the fallback; NaN: none).
    """

    symbol: str
    time_utc: datetime
    source: str
    reason: Reason
    kept_pts: float

    @property
    def is_price_problem(self) -> bool:
        """True for a crossed, non-positive or too wide quote (not merely absent or old)."""
        return self.reason.code in PRICE_CODES

    def __str__(self) -> str:
        kept = f"{self.kept_pts:g}" if math.isfinite(self.kept_pts) else "none"
        return (f"MARK_REJECTED {self.symbol} at {self.time_utc.isoformat()} from {self.source}: "
                f"{self.reason}; mark kept at {kept}")


@dataclass
class MarkBook:
    """Last good mark per holding, and the quotes rejected since the host last took them."""

    params: Parameters
    last_good: dict[str, tuple[float, datetime]] = field(default_factory=dict)
    rejected: deque[RejectedMark] = field(default_factory=lambda: deque(maxlen=1_000))

    def mark(self, quote: LegQuote | None, symbol: str, now_utc: datetime, *, tick_pts: float,
             source: str | Callable[[], str], fallback_pts: float = math.nan) -> float:
        """The mark of ``symbol`` at ``now_utc``, points per contract.

        Args:
            quote: the holding's latest quote (``None``: none).
            tick_pts: the contract's price increment (the spread floor is that many ticks).
            source: the quote's origin, for the rejection's log line (a function: called only
                for a rejected quote).
            fallback_pts: the value of a holding that never had a good mark (its average cost).
        """
        reason = self.check(quote, symbol, now_utc, tick_pts=tick_pts)
        if reason is None:
            assert quote is not None
            mid = (quote.bid_pts + quote.ask_pts) / 2.0
            self.last_good[symbol] = (mid, now_utc)
            return mid
        kept = self.last_good.get(symbol, (fallback_pts, now_utc))[0]
        self.rejected.append(RejectedMark(symbol, now_utc, source if isinstance(source, str) else source(),
                                          reason, kept))
        return kept

    def check(self, quote: LegQuote | None, symbol: str, now_utc: datetime, *, tick_pts: float) -> Reason | None:
        """Why ``quote`` is no mark of ``symbol`` at ``now_utc`` (None: it is one): the
        orders' leg validation with the gate's parameters (module docstring). Changes nothing."""
        p = self.params
        return leg_quote_reason(quote, symbol, now_utc, max_spread_frac=p.safety_max_spread_frac_of_mid,
                                max_age_sec=p.safety_max_quote_age_sec, max_ahead_sec=p.safety_max_quote_ahead_sec,
                                spread_floor_pts=p.safety_spread_floor_ticks * max(0.0, tick_pts))

    def current_mids(self, symbols: Iterable[str], now_utc: datetime,
                     quote_of: Callable[[str], tuple[LegQuote | None, float, str | Callable[[], str]]],
                     ) -> tuple[dict[str, float], list[RejectedMark]]:
        """``({symbol: mid}, rejections)``: the mids that pass this book's validation AT
        ``now_utc``, for the buying-power re-marks (:meth:`risk.gate_session.GateSession.mark_bp`;
        issue 11: BP is never re-marked from a quote the NLV marks reject).

        A holding marked good at this very instant (by :meth:`mark`, the NLV mark just taken)
        gives that mark; any other symbol (an underlying, a holding whose quote the mark
        rejected) is validated by :meth:`check` on ``quote_of(symbol) -> (quote, tick_pts,
        source)``. A symbol that fails is absent from the mids (its position keeps its last
        good buying power) and comes back as a :class:`RejectedMark` (``kept_pts`` NaN). Neither
        the last good marks nor :attr:`rejected` change: the NLV mark logs its own rejections.
        """
        mids: dict[str, float] = {}
        rejected: list[RejectedMark] = []
        for symbol in symbols:
            good = self.last_good.get(symbol)
            if good is not None and good[1] == now_utc:
                mids[symbol] = good[0]
                continue
            quote, tick_pts, source = quote_of(symbol)
            reason = self.check(quote, symbol, now_utc, tick_pts=tick_pts)
            if reason is None and quote is not None:
                mids[symbol] = (quote.bid_pts + quote.ask_pts) / 2.0
            elif reason is not None:
                rejected.append(RejectedMark(symbol, now_utc, source if isinstance(source, str) else source(),
                                             reason, math.nan))
        return mids, rejected

    def state_dict(self) -> dict[str, list[Any]]:
        """The last good marks, JSON-safe: ``{symbol: [mid_pts, time_utc ISO]}`` (durable state:
        a restarted host values a holding whose quote is bad at the same mark as before)."""
        return {sym: [mid, t.isoformat()] for sym, (mid, t) in sorted(self.last_good.items())}

    def restore_state(self, data: object, path: str) -> None:
        """Replace the last good marks with the ones :meth:`state_dict` wrote.

        Raises:
            StateError: naming ``path`` and the symbol whose entry is not ``[number, ISO time with offset]``.
        """
        if not isinstance(data, dict):
            raise StateError(path, f"expected an object of symbol -> [mid_pts, time_utc], got {type(data).__name__}")
        out: dict[str, tuple[float, datetime]] = {}
        for sym, entry in data.items():
            ok = (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], (int, float))
                  and not isinstance(entry[0], bool) and math.isfinite(entry[0]) and isinstance(entry[1], str))
            t = _instant(entry[1]) if ok else None
            if t is None:
                raise StateError(f"{path}.{sym}", f"expected [mid_pts, time_utc ISO with offset], got {entry!r}")
            out[str(sym)] = (float(entry[0]), t)
        self.last_good = out

    def take_rejected(self) -> list[RejectedMark]:
        """The rejections since the last call (the host logs them), oldest first."""
        out = list(self.rejected)
        self.rejected.clear()
        return out

    def forget(self, held: set[str]) -> None:
        """Drop the marks of contracts no longer held (a later position starts afresh)."""
        for symbol in [s for s in self.last_good if s not in held]:
            del self.last_good[symbol]


def _instant(text: str) -> datetime | None:
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    return t if t.tzinfo is not None else None
