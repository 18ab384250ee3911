"""Every option contract's quote series of a replay market in one set of arrays, so that a
whole-chain snapshot is array operations (issue 10) instead of one lookup per contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from replay.market import _Contract as Contract


@dataclass
class FlatQuotes:
    """Every contract's quote series in one array, for whole-chain snapshots by array
    operations: contract ``c``'s bars sit at ``start[c]:start[c+1]``, sorted by time, and
    ``key = c * span + (end_ms - base)`` is sorted, so one ``searchsorted`` finds the latest
    bar of every contract at once."""

    symbol: np.ndarray
    underlying: np.ndarray
    underlying_code: np.ndarray
    underlying_names: list[str]
    strike: np.ndarray
    expiry: np.ndarray
    right: np.ndarray
    start: np.ndarray
    key: np.ndarray
    end_ms: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    base: np.int64
    span: np.int64

    @classmethod
    def build(cls, options: list[Contract]) -> FlatQuotes:
        n = len(options)
        lens = np.array([len(c.quotes.end_ms) for c in options], dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        parts = [c.quotes for c in options]
        end_ms = np.concatenate([q.end_ms for q in parts]) if n else np.array([], "datetime64[ms]")
        raw = end_ms.astype(np.int64)
        base = np.int64(raw.min() - 1) if raw.size else np.int64(0)
        span = np.int64((raw.max() - base if raw.size else 0) + 2)
        names = sorted({c.underlying for c in options})
        code = {u: k for k, u in enumerate(names)}
        return cls(
            np.array([c.symbol for c in options], dtype=object), np.array([c.underlying for c in options], dtype=object),
            np.array([code[c.underlying] for c in options], dtype=np.int64), names,
            np.array([c.strike for c in options], dtype=float),
            np.array([np.datetime64(c.expiry, "D") for c in options], dtype="datetime64[D]"),
            np.array([c.right for c in options], dtype=np.int8), start,
            np.repeat(np.arange(n, dtype=np.int64) * span, lens) + (raw - base), end_ms,
            np.concatenate([q.bid for q in parts]) if n else np.array([]),
            np.concatenate([q.ask for q in parts]) if n else np.array([]), base, span,
        )

    def latest(self, t: np.datetime64, max_age: np.timedelta64) -> tuple[np.ndarray, np.ndarray]:
        """``(i, ok)``: per contract, the index of its latest bar ending at or before ``t`` and
        whether there is one no older than ``max_age`` (:meth:`_Series.at` for all at once)."""
        n = len(self.symbol)
        offset = min(max(int(t.astype(np.int64)) - int(self.base), 0), int(self.span) - 1)
        i = np.searchsorted(self.key, np.arange(n, dtype=np.int64) * self.span + offset, side="right") - 1
        ok = i >= self.start[:-1]
        safe = np.where(ok, i, 0)
        if self.end_ms.size:
            ok &= (t - self.end_ms[safe]) <= max_age
        return safe, ok
