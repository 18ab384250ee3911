"""The slot format of the saved book (leanhost/book_store.py): what an interrupted
``File.WriteAllBytes`` can leave (LEAN ``LocalObjectStore.PersistData`` writes in place: empty,
a prefix, NUL padding) is TORN; anything else that is not a valid book is CORRUPT. Expected
headers are computed here with hashlib, independently of the module."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType

import pytest

from thetacore.durable_state import BookState, dump_state

KEY = "thetadesk/book/a.json"
PAYLOAD = dump_state(BookState(datetime(2026, 11, 29, 16, 0, tzinfo=UTC), None, {}, {}, [], {}))


def _whole(payload: str = PAYLOAD, seq: int = 3) -> str:
    data = payload.encode()
    return f"THETADESK-BOOK 1 seq={seq} bytes={len(data)} sha256={hashlib.sha256(data).hexdigest()}\n{payload}"


def test_when_a_slot_is_whole_then_it_is_valid_with_its_sequence(host: Callable[[str], ModuleType]) -> None:
    store = host("book_store")
    assert store.envelope(3, PAYLOAD) == _whole()
    slot = store.read_slot(KEY, _whole())
    assert (slot.status, slot.seq, slot.book.saved_utc) == (store.SlotStatus.VALID, 3,
                                                             datetime(2026, 11, 29, 16, 0, tzinfo=UTC))


@pytest.mark.parametrize("cut", [0, 5, 40, len(_whole()) - 1])
def test_when_a_write_was_cut_anywhere_then_the_slot_is_torn(host: Callable[[str], ModuleType], cut: int) -> None:
    """0: truncated before any byte; 5: inside the magic; 40: inside the header; -1: the last
    payload byte missing."""
    store = host("book_store")
    assert store.read_slot(KEY, _whole()[:cut]).status is store.SlotStatus.TORN


def test_when_a_cut_write_was_padded_with_nul_bytes_then_the_slot_is_torn(host: Callable[[str], ModuleType]) -> None:
    store = host("book_store")
    whole = _whole()
    padded = whole[:-10] + "\x00" * 10  # the file's length kept, its last blocks never written
    assert store.read_slot(KEY, padded).status is store.SlotStatus.TORN


@pytest.mark.parametrize(("text", "problem"), [
    (_whole().replace('"version": 1', '"version": 2'), "checksum mismatch"),
    (_whole() + " ", "checksum mismatch"),
    ("THETADESK-BOOK 2 seq=1 bytes=2 sha256=" + "0" * 64 + "\n{}", "unknown book format 2"),
    ('{"schema": "thetadesk.state"}', "no header line"),
    (_whole('{"schema": "other"}'), "not a ThetaDesk state file"),
    (_whole("[]"), "expected a state object"),
])
def test_when_a_slot_is_altered_or_foreign_then_it_is_corrupt(host: Callable[[str], ModuleType], text: str,
                                                               problem: str) -> None:
    store = host("book_store")
    slot = store.read_slot(KEY, text)
    assert slot.status is store.SlotStatus.CORRUPT and problem in slot.problem
