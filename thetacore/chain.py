"""Option chain snapshot held as parallel numpy arrays.

One snapshot is what a strategy sees at one decision: every contract of one underlying
root (for futures options: across several futures months) with its quote and, once
:func:`thetacore.chain_greeks.with_greeks` has run, the IV and greeks the project computed
itself from the quotes. Both hosts build snapshots; the core never asks either host for
more data while deciding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np

from thetacore.enums import ExerciseStyle, Right, Settlement

_ARRAY_FIELDS = (
    "symbol",
    "underlying_symbol",
    "underlying_pts",
    "strike_pts",
    "expiry",
    "right",
    "bid_pts",
    "ask_pts",
    "quote_time_utc",
    "iv_frac",
    "delta",
    "gamma",
    "theta_pts_per_day",
    "vega_pts_per_vol_pt",
)

_COMPUTED_FIELDS = frozenset(("iv_frac", "delta", "gamma", "theta_pts_per_day", "vega_pts_per_vol_pt"))


class ChainError(ValueError):
    """A snapshot was built from arrays that do not line up or have the wrong types."""


@dataclass(frozen=True)
class ChainSnapshot:
    """All contracts of one option root at one moment, as arrays of equal length ``n``.

    Attributes:
        root: option root / underlying family, e.g. ``"ES"``, ``"SPXW"``, ``"SPY"``.
        time_utc: moment of the snapshot, timezone-aware UTC.
        multiplier_usd_per_pt: dollars per index point per contract (ES options 50,
            SPX 100), from LEAN's symbol-properties database.
        style: exercise style of every contract in the snapshot.
        settlement: settlement of every contract in the snapshot.
        symbol: ``(n,)`` object array of contract identifiers (host-specific strings).
        underlying_symbol: ``(n,)`` object array: the future (``"ES20H20"``) or index each
            contract is written on.
        underlying_pts: ``(n,)`` float64, the underlying's mid price in points at
            ``time_utc``; NaN when the underlying has no quote.
        strike_pts: ``(n,)`` float64 strike in points.
        expiry: ``(n,)`` ``datetime64[D]`` expiry date (exchange calendar date).
        right: ``(n,)`` int8 of :class:`Right` values (+1 call, -1 put).
        bid_pts, ask_pts: ``(n,)`` float64 best bid/ask in points; NaN means no quote on
            that side (a missing quote is never 0).
        quote_time_utc: ``(n,)`` ``datetime64[ms]`` time of the last quote; NaT if none.
        iv_frac, delta, gamma, theta_pts_per_day, vega_pts_per_vol_pt: ``(n,)`` float64,
            NaN until computed (see :mod:`thetacore.chain_greeks`). Delta is signed (puts
            negative); theta is per calendar day; vega per 1 vol point (0.01 of IV).
        min_tick_pts: smallest price increment of the options in points (limit prices are
            rounded to it); 0 means no rounding.

    Raises:
        ChainError: on construction when arrays differ in length or dtype.
    """

    root: str
    time_utc: datetime
    multiplier_usd_per_pt: float
    style: ExerciseStyle
    settlement: Settlement
    symbol: np.ndarray
    underlying_symbol: np.ndarray
    underlying_pts: np.ndarray
    strike_pts: np.ndarray
    expiry: np.ndarray
    right: np.ndarray
    bid_pts: np.ndarray
    ask_pts: np.ndarray
    quote_time_utc: np.ndarray
    iv_frac: np.ndarray = field(default_factory=lambda: np.empty(0))
    delta: np.ndarray = field(default_factory=lambda: np.empty(0))
    gamma: np.ndarray = field(default_factory=lambda: np.empty(0))
    theta_pts_per_day: np.ndarray = field(default_factory=lambda: np.empty(0))
    vega_pts_per_vol_pt: np.ndarray = field(default_factory=lambda: np.empty(0))
    min_tick_pts: float = 0.0

    def __post_init__(self) -> None:
        if self.time_utc.tzinfo is None or self.time_utc.utcoffset() != UTC.utcoffset(None):
            raise ChainError(f"time_utc must be timezone-aware UTC, got {self.time_utc!r}")
        n = len(self.strike_pts)
        for name in ("iv_frac", "delta", "gamma", "theta_pts_per_day", "vega_pts_per_vol_pt"):
            if len(getattr(self, name)) == 0 and n:
                object.__setattr__(self, name, np.full(n, np.nan))
        for name in _ARRAY_FIELDS:
            arr = getattr(self, name)
            if not isinstance(arr, np.ndarray) or arr.shape != (n,):
                raise ChainError(f"chain {self.root}: field {name} must be a ({n},) array")
        if self.expiry.dtype != np.dtype("datetime64[D]"):
            raise ChainError(f"chain {self.root}: expiry must be datetime64[D], got {self.expiry.dtype}")
        if self.quote_time_utc.dtype != np.dtype("datetime64[ms]"):
            raise ChainError(f"chain {self.root}: quote_time_utc must be datetime64[ms]")
        if n and not ((self.right == Right.CALL) | (self.right == Right.PUT)).all():
            raise ChainError(f"chain {self.root}: right must hold only +1 (call) / -1 (put)")
        if not self.multiplier_usd_per_pt > 0:
            raise ChainError(f"chain {self.root}: multiplier must be > 0")
        # derived data computed at most once per snapshot (the arrays never change): the
        # symbol index and the greeked copies (thetacore.chain_greeks); not a field
        object.__setattr__(self, "_derived", {})

    @property
    def derived(self) -> dict[object, object]:
        """Per-snapshot cache of data computed from the arrays (symbol index, greeks)."""
        out: dict[object, object] = self.__dict__["_derived"]
        return out

    def __len__(self) -> int:
        return len(self.strike_pts)

    @property
    def mid_pts(self) -> np.ndarray:
        """``(n,)`` mid price in points; NaN unless both sides are quoted, > 0 and not crossed."""
        ok = (self.bid_pts > 0) & (self.ask_pts >= self.bid_pts)
        return np.where(ok, (self.bid_pts + self.ask_pts) / 2.0, np.nan)

    def mid_at(self, rows: np.ndarray) -> np.ndarray:
        """:attr:`mid_pts` of the contracts at positions ``rows`` only (the same operations on
        those rows' quotes: the same numbers, without the whole chain's arrays)."""
        bid, ask = self.bid_pts[rows], self.ask_pts[rows]
        ok = (bid > 0) & (ask >= bid)
        return np.where(ok, (bid + ask) / 2.0, np.nan)

    def dte_days(self, today: date) -> np.ndarray:
        """``(n,)`` int calendar days from ``today`` (exchange date) to each expiry."""
        return (self.expiry - np.datetime64(today, "D")).astype(np.int64)

    def expiries(self) -> np.ndarray:
        """Sorted unique expiry dates (``datetime64[D]``), computed once per snapshot (a
        read-only array: the cache is shared by every caller)."""
        out = self.derived.get("expiries")
        if out is None:
            out = _sorted_unique_days(self.expiry, self.expiry_in_order())
            out.flags.writeable = False
            self.derived["expiries"] = out
        assert isinstance(out, np.ndarray)
        return out

    def expiry_in_order(self) -> bool:
        """True when the expiry column never decreases (as int64: a NaT anywhere but first
        breaks it), as hosts list a chain expiry by expiry; computed once per snapshot."""
        out = self.derived.get("expiry_in_order")
        if out is None:
            ints = self.expiry.view(np.int64)
            out = self.derived["expiry_in_order"] = bool(ints.size < 2 or (ints[1:] >= ints[:-1]).all())
        assert isinstance(out, bool)
        return out

    def select(self, mask: np.ndarray) -> ChainSnapshot:
        """A new snapshot holding only the contracts where ``mask`` is true (or, for an
        integer array, the contracts at those positions, in that order).

        The rows of a valid snapshot are valid, so the copy skips ``__post_init__``'s
        checks (every array is indexed by the same mask: lengths and dtypes still agree).
        A boolean mask of the chain's length becomes its positions once (``np.flatnonzero``:
        the same rows in the same order; each field's gather then skips counting the mask
        again); any other mask indexes as given (a wrong-length one raises ``IndexError``).
        """
        if isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.shape == (len(self),):
            mask = np.flatnonzero(mask)
        out = object.__new__(ChainSnapshot)
        state = dict(self.__dict__)
        state.update({name: state[name][mask] for name in _ARRAY_FIELDS})
        state["_derived"] = {}
        object.__setattr__(out, "__dict__", state)
        return out

    def with_computed(self, **arrays: np.ndarray) -> ChainSnapshot:
        """A copy with some of the computed arrays (``iv_frac``, ``delta``, ``gamma``,
        ``theta_pts_per_day``, ``vega_pts_per_vol_pt``) replaced and an empty
        :attr:`derived` cache: ``dataclasses.replace`` without re-checking the quote
        arrays, which are the same (valid) objects.

        Raises:
            ChainError: for another field's name, or an array that is not ``(n,)`` float64.
        """
        n = len(self)
        for name, arr in arrays.items():
            if name not in _COMPUTED_FIELDS:
                raise ChainError(f"chain {self.root}: {name} is not a computed array")
            if not isinstance(arr, np.ndarray) or arr.shape != (n,) or arr.dtype != np.float64:
                raise ChainError(f"chain {self.root}: field {name} must be a ({n},) float64 array")
        out = object.__new__(ChainSnapshot)
        state = dict(self.__dict__)
        state.update(arrays)
        state["_derived"] = {}
        object.__setattr__(out, "__dict__", state)
        return out

    def symbol_index(self) -> dict[str, int]:
        """``symbol -> position``, built once per snapshot (first occurrence wins)."""
        index = self.derived.get("symbol_index")
        if index is None:
            symbols = self.symbol.tolist()
            index = dict(zip(reversed(symbols), range(len(symbols) - 1, -1, -1), strict=True))
            self.derived["symbol_index"] = index
        assert isinstance(index, dict)
        return index

    def share_index_with(self, other: ChainSnapshot) -> None:
        """Reuse ``other``'s symbol index: for a copy with the same contracts in the same
        order (e.g. the greeked copy from :func:`thetacore.chain_greeks.with_greeks`)."""
        if "symbol_index" in other.derived and len(other) == len(self):
            self.derived["symbol_index"] = other.derived["symbol_index"]

    def index_of(self, symbol: str) -> int:
        """Position of ``symbol`` in the arrays: one dict lookup (O(1)).

        Raises:
            KeyError: if the contract is not in the snapshot.
        """
        i = self.symbol_index().get(symbol)
        if i is None:
            raise KeyError(f"{symbol} not in {self.root} chain at {self.time_utc:%Y-%m-%d %H:%M}Z")
        return i


def _sorted_unique_days(days: np.ndarray, in_order: bool | None = None) -> np.ndarray:
    """``np.unique(days)`` for a ``datetime64[D]`` array (sorted, NaT last and once), by a
    neighbour comparison of the int64 values after one sort -- or none: hosts list a chain
    expiry by expiry, and an array already in order (as int64, with no NaT, which is the
    smallest int64 and would lead) is the order ``np.sort`` gives; checking that is one pass,
    and sorting ``datetime64`` costs a few times an ``int64`` sort (167 us against 13 us
    for the check at 20,000 rows). ``in_order``: that check's result when known
    (:meth:`ChainSnapshot.expiry_in_order`)."""
    ints = days.view(np.int64)
    if ints.size < 2:
        return days.copy()
    if in_order is None:
        in_order = bool((ints[1:] >= ints[:-1]).all())
    if not (in_order and ints[0] != _NAT_INT):
        days = np.sort(days)  # NaT last, as np.unique puts it
        ints = days.view(np.int64)
    keep = np.empty(ints.size, dtype=bool)
    keep[0] = True
    np.not_equal(ints[1:], ints[:-1], out=keep[1:])
    return days[keep]


_NAT_INT = np.datetime64("NaT", "D").view(np.int64)
"""NaT's int64 value (the smallest int64)."""
