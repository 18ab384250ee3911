"""What the strategies hold against what the account holds: settle, adopt or alert.

Why: a broker that sends no option exercise/assignment notifications (LEAN's Tastytrade
plugin never raises ``OptionNotification``: Lean.Brokerages.Tastytrade,
``TastytradeBrokerage.WebSocket.cs`` ignores ``CurrentPosition`` account events) leaves LEAN
without exercise order events in live trading (``BrokerageTransactionHandler.
HandleOptionNotification`` is the only live path that creates them), so an expired contract
stays in LEAN's portfolio until the next restart loads the broker's holdings
(``BrokerageSetupHandler``). After a restart the strategies hold what the host's saved book
restored, which may differ from what the account holds (changes while the host was down).

This module is plain data: the host lists every leg the strategies expect to hold
(:class:`ExpectedLeg`), every non-zero holding of the account (:class:`Holding`) and the
contracts with working orders; :func:`reconcile` returns one :class:`Finding` per difference
(and per position confirmed), never acting itself. Rules, per position of a strategy:

* every leg's contract has expired and its settlement time has passed: ``SETTLE`` (the host
  values it at intrinsic from the underlying's price); an expired contract the account still
  lists is ``STALE_EXPIRED`` (LEAN's book, not a risk: no block);
* some legs expired, others not: ``PARTIAL_EXPIRY`` (alert; the rest is compared as below);
* a contract with a working order, or of a position still opening: not judged (in flight);
* per contract, the account's quantity against the sum the positions expect (signed
  contracts, ``ratio x quantity``): equal for every leg of a position -> ``ADOPT`` (the
  account holds exactly what the position expects); different -> ``MISMATCH``;
* a holding no position expects: ``UNKNOWN_HOLDING`` (an option) or ``DELIVERED_UNDERLYING``
  (a future or stock, e.g. from an unreported assignment).

``MISMATCH``, ``UNKNOWN_HOLDING`` and ``DELIVERED_UNDERLYING`` (and the host's
``UNKNOWN_ORDER`` and ``ORDERS_INCOMPLETE``, which :func:`reconcile` never returns) block new entries
(:data:`BLOCKING`) until a later reconciliation finds none, or an operator clears the block.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

QTY_TOLERANCE = 1e-9


class FindingKind(Enum):
    """What one difference (or confirmation) is."""

    SETTLE = "settle"
    ADOPT = "adopt"
    PARTIAL_EXPIRY = "partial_expiry"
    STALE_EXPIRED = "stale_expired"
    MISMATCH = "mismatch"
    UNKNOWN_HOLDING = "unknown_holding"
    DELIVERED_UNDERLYING = "delivered_underlying"
    UNKNOWN_ORDER = "unknown_order"  # a working order no order group claims (the host finds it)
    ORDERS_INCOMPLETE = "orders_incomplete"  # a restored group found in part at the broker (the host)


BLOCKING = frozenset({FindingKind.MISMATCH, FindingKind.UNKNOWN_HOLDING, FindingKind.DELIVERED_UNDERLYING,
                      FindingKind.UNKNOWN_ORDER, FindingKind.ORDERS_INCOMPLETE})
"""Findings that block new entries (the account holds what no strategy manages)."""


@dataclass(frozen=True)
class ExpectedLeg:
    """One leg a strategy position holds.

    Attributes:
        strategy: the strategy's name.
        position_id: the position.
        key: the contract (host identifier, as the strategy's leg symbol).
        quantity: signed contracts held: ``ratio x position quantity``.
        settled_after_utc: when the contract's expiry has settled (timezone-aware UTC).
    """

    strategy: str
    position_id: str
    key: str
    quantity: int
    settled_after_utc: datetime


@dataclass(frozen=True)
class Holding:
    """One non-zero holding of the account: signed ``quantity``; ``is_option`` False for a
    future or stock; ``expired`` True for an option past its settlement time."""

    key: str
    quantity: float
    is_option: bool = True
    expired: bool = False


@dataclass(frozen=True)
class Finding:
    """One result of :func:`reconcile`.

    Attributes:
        kind: see :class:`FindingKind`.
        key: the contract ("" for a whole-position finding).
        expected: signed contracts the positions expect (0 when none).
        held: signed contracts the account holds (0 when none).
        positions: ``(strategy, position_id)`` concerned, in input order.
        text: a human sentence with the numbers.
    """

    kind: FindingKind
    key: str
    expected: float
    held: float
    positions: tuple[tuple[str, str], ...]
    text: str

    @property
    def blocks_entries(self) -> bool:
        return self.kind in BLOCKING


def reconcile(expected: Iterable[ExpectedLeg], holdings: Iterable[Holding], in_flight: Iterable[str],
              now_utc: datetime) -> list[Finding]:
    """Compare the strategies' legs with the account's holdings at ``now_utc`` (see the module
    docstring). ``in_flight``: contract keys with working orders or of positions still opening.

    Raises:
        ValueError: for a naive ``now_utc`` or ``settled_after_utc``.
    """
    if now_utc.tzinfo is None:
        raise ValueError(f"reconcile needs a timezone-aware time, got {now_utc!r}")
    held = {h.key: h for h in holdings if abs(h.quantity) > QTY_TOLERANCE}
    flying = frozenset(in_flight)
    by_position: dict[tuple[str, str], list[ExpectedLeg]] = defaultdict(list)
    for leg in expected:
        by_position[(leg.strategy, leg.position_id)].append(leg)
    findings: list[Finding] = []
    live_legs: list[ExpectedLeg] = []
    expired_keys: set[str] = set()
    for pos, legs in by_position.items():
        gone = [leg for leg in legs if _expired(leg, now_utc)]
        expired_keys.update(leg.key for leg in gone)
        if gone and len(gone) == len(legs):
            findings.append(_settle(pos, legs))
            continue
        if gone:
            findings.append(_partial(pos, gone, legs))
        live_legs += [leg for leg in legs if leg not in gone]
    findings += _compare(live_legs, held, flying)
    findings += _unexpected(held, {leg.key for leg in live_legs} | expired_keys | flying, expired_keys)
    return findings


def _expired(leg: ExpectedLeg, now_utc: datetime) -> bool:
    if leg.settled_after_utc.tzinfo is None:
        raise ValueError(f"settled_after_utc of {leg.key} must be timezone-aware")
    return now_utc >= leg.settled_after_utc


def _settle(pos: tuple[str, str], legs: list[ExpectedLeg]) -> Finding:
    keys = ", ".join(f"{leg.quantity:+d} {leg.key}" for leg in legs)
    return Finding(FindingKind.SETTLE, "", 0, 0, (pos,),
                   f"{pos[1]}: every leg expired and settled ({keys}) and no exercise event came: "
                   "settle it at intrinsic value")


def _partial(pos: tuple[str, str], gone: list[ExpectedLeg], legs: list[ExpectedLeg]) -> Finding:
    left = ", ".join(f"{leg.quantity:+d} {leg.key}" for leg in legs if leg not in gone)
    done = ", ".join(f"{leg.quantity:+d} {leg.key}" for leg in gone)
    return Finding(FindingKind.PARTIAL_EXPIRY, "", 0, 0, (pos,),
                   f"{pos[1]}: {done} expired without an exercise event while {left} is still held; "
                   "the position no longer matches its structure")


def _compare(legs: list[ExpectedLeg], held: Mapping[str, Holding], flying: frozenset[str]) -> list[Finding]:
    want: dict[str, int] = defaultdict(int)
    owners: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for leg in legs:
        want[leg.key] += leg.quantity
        owners[leg.key].append((leg.strategy, leg.position_id))
    findings, bad_positions = [], set()
    for key, qty in want.items():
        have = held[key].quantity if key in held else 0.0
        if key in flying or abs(have - qty) <= QTY_TOLERANCE:
            continue
        bad_positions.update(owners[key])
        findings.append(Finding(FindingKind.MISMATCH, key, qty, have, tuple(owners[key]),
                                f"{key}: the account holds {have:+g}, positions "
                                f"{', '.join(p for _, p in owners[key])} expect {qty:+d}"))
    confirmed: dict[tuple[str, str], list[str]] = defaultdict(list)
    for leg in legs:
        confirmed[(leg.strategy, leg.position_id)].append(leg.key)
    for pos, keys in confirmed.items():
        if pos in bad_positions or any(k in flying for k in keys):
            continue
        findings.append(Finding(FindingKind.ADOPT, "", 0, 0, (pos,),
                                f"{pos[1]}: the account holds exactly its legs ({', '.join(keys)})"))
    return findings


def _unexpected(held: Mapping[str, Holding], known: set[str] | frozenset[str], expired_keys: set[str]) -> list[Finding]:
    findings = []
    for key, h in held.items():
        if key in known and key not in expired_keys:
            continue
        if h.expired or key in expired_keys:
            findings.append(Finding(FindingKind.STALE_EXPIRED, key, 0, h.quantity, (),
                                    f"{key}: expired, still listed at {h.quantity:+g} in LEAN's portfolio "
                                    "(no exercise event; the broker's holdings replace it at the next restart)"))
        elif not h.is_option:
            findings.append(Finding(FindingKind.DELIVERED_UNDERLYING, key, 0, h.quantity, (),
                                    f"{key}: the account holds {h.quantity:+g} of an underlying no strategy "
                                    "manages (an assignment or exercise nobody reported?)"))
        else:
            findings.append(Finding(FindingKind.UNKNOWN_HOLDING, key, 0, h.quantity, (),
                                    f"{key}: the account holds {h.quantity:+g} that no strategy position "
                                    "expects"))
    return findings
