"""The durable book (:class:`thetacore.durable_state.BookState`) in LEAN's object store: two
slots written in turn, each with a header that makes a torn or altered value detectable.

What a save in LEAN is (read in Lean, ``Engine/Storage/LocalObjectStore.cs``):

* ``SaveBytes`` (what ``object_store.save(key, text)`` calls through
  ``Common/Storage/ObjectStore.cs`` ``Save``) only replaces the key's entry in the in-memory
  cache ``_storage`` (``InternalSaveBytes``) and marks the store dirty; it returns at once.
* The file is written later by ``Persist`` -> ``PersistData``: on a timer
  ``Controls.PersistenceIntervalSeconds`` after the first unsaved change (5 s by default,
  ``Common/Packets/Controls.cs``; synchronous only when it is <= 0), and by ``GetFilePath``,
  ``Clear`` and ``Dispose`` (the engine's shutdown). Several saves of one key within that
  interval reach the disk as the last one only.
* ``PersistData`` writes each dirty entry IN PLACE with ``FileHandler.WriteAllBytes``
  (``Engine/Storage/FileHandler.cs``: ``File.WriteAllBytes``, which truncates and rewrites;
  no temporary file, no rename, no flush to the device), one key after the other.
* ``ReadBytes`` answers from the cache and reads the file only when the cache has no data
  (the first read after a start).

So a save is neither atomic nor on disk when it returns: a process killed during
``PersistData`` leaves a truncated value (empty, or a prefix of it), and one killed before it
loses the saves of the last few seconds (what reconciliation with the broker then catches).
QuantConnect's cloud runs its own object store (not in LEAN's open source), so nothing here
relies on a save being atomic there either. Hence the format here:

* keys ``<prefix>/book/a.json`` and ``<prefix>/book/b.json`` (:func:`slot_keys`), saved in
  turn: a torn write damages only the slot being written, the other keeps the book before;
* each value is a header line then the payload (``dump_state`` JSON)::

      THETADESK-BOOK 1 seq=<n> bytes=<payload UTF-8 length> sha256=<hex of the payload>

Reading a slot (:func:`read_slot`) gives one :class:`SlotStatus`. ``TORN`` is what an
interrupted ``WriteAllBytes`` leaves (empty; a prefix of the header; a payload shorter than
its ``bytes``, trailing NUL bytes aside); ``CORRUPT`` is anything else that is not a valid book
(a wrong checksum at full length, foreign text, an unknown format, a payload
``load_state`` refuses). Loading (:meth:`BookStore.load`): any ``CORRUPT`` slot, or no valid
slot while one is torn, stops ``initialize`` with :class:`BookStoreError` naming the key and
what is wrong, and nothing is written; otherwise the valid slot with the highest ``seq``
wins, and a torn slot is copied to ``<prefix>/book/torn_<slot>.txt`` and alerted before it is
written again. Key names keep to LEAN's allowed characters (``LocalObjectStore._pathRegex``:
letters, digits, ``/ _ # - $ =`` and space, one dot before an extension).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from thetacore.durable_state import BookState, StateError, dump_state, load_state

from .gate_store import StoreKeys

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm

MAGIC = "THETADESK-BOOK"
FORMAT = 1
SLOTS = ("a", "b")
_HEADER = re.compile(rf"^{MAGIC} (\d+) seq=(\d+) bytes=(\d+) sha256=([0-9a-f]{{64}})$")


class BookStoreError(RuntimeError):
    """The saved book cannot be used: names the object-store key and what is wrong. Raised
    by ``initialize`` (the algorithm does not start; nothing is overwritten)."""


class SlotStatus(Enum):
    """What one slot holds."""

    MISSING = "missing"
    VALID = "valid"
    TORN = "torn"
    CORRUPT = "corrupt"


@dataclass(frozen=True)
class Slot:
    """One slot as read: ``book`` and ``seq`` for a VALID one; ``problem`` otherwise."""

    key: str
    status: SlotStatus
    seq: int = -1
    book: BookState | None = None
    problem: str = ""
    text: str = ""


def slot_keys(keys: StoreKeys) -> tuple[str, str]:
    """The two slot keys of this run's prefix."""
    return f"{keys.prefix}/book/{SLOTS[0]}.json", f"{keys.prefix}/book/{SLOTS[1]}.json"


def envelope(seq: int, payload: str) -> str:
    """Header line + ``payload`` (see the module docstring)."""
    data = payload.encode("utf-8")
    return f"{MAGIC} {FORMAT} seq={seq} bytes={len(data)} sha256={hashlib.sha256(data).hexdigest()}\n{payload}"


def read_slot(key: str, text: str | None) -> Slot:
    """Classify the value ``text`` of slot ``key`` (``None``: the key is absent)."""
    if text is None:
        return Slot(key, SlotStatus.MISSING)
    head, newline, payload = text.partition("\n")
    if not newline:  # the header itself is incomplete: torn only if it is a prefix of one
        stub = text.rstrip("\x00")
        torn = MAGIC.startswith(stub) or stub.startswith(MAGIC)
        return Slot(key, SlotStatus.TORN if torn else SlotStatus.CORRUPT,
                    problem="empty or cut inside its header" if torn else "not a ThetaDesk book (no header line)",
                    text=text)
    match = _HEADER.match(head)
    if match is None:
        return Slot(key, SlotStatus.CORRUPT, problem=f"not a ThetaDesk book header: {head[:60]!r}", text=text)
    fmt, seq, size, digest = int(match[1]), int(match[2]), int(match[3]), match[4]
    if fmt != FORMAT:
        return Slot(key, SlotStatus.CORRUPT, problem=f"unknown book format {fmt} (this code reads {FORMAT})", text=text)
    data = payload.encode("utf-8")
    if len(data.rstrip(b"\x00")) < size:
        return Slot(key, SlotStatus.TORN, seq, problem=f"cut short: {len(data)} of {size} payload bytes", text=text)
    if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
        return Slot(key, SlotStatus.CORRUPT, seq, problem="checksum mismatch: the payload was altered", text=text)
    try:
        book = load_state(payload, key)
    except StateError as exc:
        return Slot(key, SlotStatus.CORRUPT, seq, problem=str(exc), text=text)
    return Slot(key, SlotStatus.VALID, seq, book)


@dataclass
class BookStore:
    """Reads and writes the book of one run (``keys``: live restores, backtests never do).

    Attributes:
        seq: sequence number of the last book read or written (-1: none).
        next_slot: index in :data:`SLOTS` of the slot the next save writes.
        warnings: what loading found and survived (a torn slot), for the start-up alerts.
        loaded_key: the slot the book was read from ("" before a load).
    """

    algorithm: QCAlgorithm
    keys: StoreKeys
    seq: int = -1
    next_slot: int = 0
    warnings: list[str] = field(default_factory=list)
    loaded_key: str = ""  # the slot the book was read from

    def _read(self, key: str) -> str | None:
        store = self.algorithm.object_store
        if not store.contains_key(key):
            return None
        text: str | None = store.read(key)  # None: a key LEAN only registered (no data): absent
        return text

    def load(self) -> BookState | None:
        """The saved book (live runs), ``None`` when no slot exists or in a backtest.

        Raises:
            BookStoreError: a corrupt slot, or no valid slot while one is torn (logged with
                ``algorithm.error`` first).
        """
        if not self.keys.restore:
            return None
        slots = [read_slot(key, self._read(key)) for key in slot_keys(self.keys)]
        bad = [s for s in slots if s.status is SlotStatus.CORRUPT]
        valid = sorted((s for s in slots if s.status is SlotStatus.VALID), key=lambda s: s.seq)
        torn = [s for s in slots if s.status is SlotStatus.TORN]
        if bad or (torn and not valid):
            self._fail(bad[0] if bad else torn[0], corrupt=bool(bad))
        if not valid:
            return None
        best = valid[-1]
        self.seq, self.loaded_key = best.seq, best.key
        self.next_slot = 1 - slot_keys(self.keys).index(best.key)
        for slot in torn:
            self._quarantine(slot, best)
        return best.book

    def _fail(self, slot: Slot, corrupt: bool) -> None:
        what = "is not a valid saved book" if corrupt else "was torn by an interrupted write and no other slot is valid"
        message = (f"ThetaDesk cannot start: the object-store key {slot.key} {what} ({slot.problem}). Positions, "
                   "working orders and trips must survive a restart, so nothing starts from a clean book silently "
                   "and nothing is overwritten: repair or restore the value, or delete the book's keys "
                   f"({', '.join(slot_keys(self.keys))}) and start with fresh_start=true on purpose.")
        self.algorithm.error(message)
        raise BookStoreError(message)

    def _quarantine(self, slot: Slot, used: Slot) -> None:
        name = SLOTS[slot_keys(self.keys).index(slot.key)]
        copy = f"{self.keys.prefix}/book/torn_{name}.txt"
        kept = self.algorithm.object_store.save(copy, slot.text)
        self.warnings.append(f"BOOK slot {slot.key} was torn by an interrupted write ({slot.problem}); restored "
                             f"from {used.key} (seq {used.seq}): what changed after it is re-checked against the "
                             f"broker; the torn value is {'kept at ' + copy if kept else 'NOT kept (save refused)'}")

    def save(self, book: BookState) -> bool:
        """Write ``book`` into the next slot with the next ``seq``; False (logged with
        ``algorithm.error``) when LEAN refuses the save (storage limits) or the book cannot be
        written as JSON."""
        try:
            payload = dump_state(book)
        except StateError as exc:
            self.algorithm.error(f"ALERT book NOT saved: {exc}")
            return False
        key = slot_keys(self.keys)[self.next_slot]
        if not self.algorithm.object_store.save(key, envelope(self.seq + 1, payload)):
            self.algorithm.error(f"ALERT book NOT saved to object-store key {key}: a restart would lose what "
                                 "changed since the last save")
            return False
        self.seq += 1
        self.next_slot = 1 - self.next_slot
        return True


def check_fresh_start(algorithm: QCAlgorithm, keys: StoreKeys, fresh_start: bool) -> None:
    """No saved book: a backtest starts fresh; a live run only with ``fresh_start=true``.

    Raises:
        BookStoreError: a live run without a saved book and without ``fresh_start``.
    """
    a, b = slot_keys(keys)
    if not keys.restore:
        algorithm.log(f"book: backtest starts fresh (final book saved to {a})")
        return
    if fresh_start:
        algorithm.log(f"book: FRESH START on operator request (fresh_start=true): no saved book at {a} / {b}")
        return
    message = (f"ThetaDesk cannot start: no saved book at object-store keys {a} / {b}. A live run starts only "
               "from its saved book, so that no position or working order is forgotten: for a first deployment "
               "(or after deleting the book on purpose) set the parameter fresh_start=true, then set it back "
               "to false.")
    algorithm.error(message)
    raise BookStoreError(message)
