"""Marks that cannot lie (:mod:`risk.marks`): a quote that fails the orders' validation never
moves a holding's mark. Quotes are hand-set numbers around the REAL ES 3000 put of 2020-01-06
(29.00 / 29.25 at 10:00 ET, data/); the limits are the default parameters (spread <= 50% of
mid or 4 ticks, quote <= 120 s old, <= 1 s ahead)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from risk.gate import Gate
from risk.marks import MarkBook
from safety.quote_validation import LegQuote
from thetacore.parameters import load_parameters

P = load_parameters({})
T = datetime(2020, 1, 6, 15, 0, tzinfo=UTC)
PUT = "ES202003 200320P03000000"


def _mark(book: MarkBook, bid: object, ask: object, when: object = T, fallback: float = math.nan) -> float:
    return book.mark(LegQuote(PUT, bid, ask, when), PUT, T, tick_pts=0.05, source="test", fallback_pts=fallback)


def test_a_good_quote_is_marked_at_its_mid_and_a_bad_one_keeps_it():
    book = MarkBook(P)
    assert _mark(book, 29.00, 29.25) == 29.125
    assert _mark(book, 900.0, 29.25) == 29.125  # crossed
    [r] = book.take_rejected()
    assert (r.reason.code, r.kept_pts, r.source, r.is_price_problem) == ("QUOTE_CROSSED", 29.125, "test", True)
    assert str(r).startswith(f"MARK_REJECTED {PUT} at 2020-01-06T15:00:00+00:00 from test: QUOTE_CROSSED")
    assert _mark(book, 29.50, 29.75) == 29.625  # the next good quote moves it


def test_before_any_good_quote_the_fallback_is_the_mark_and_without_one_it_is_unknown():
    assert _mark(MarkBook(P), -1.0, 29.25, fallback=29.10) == 29.10  # the fill price
    assert math.isnan(_mark(MarkBook(P), -1.0, 29.25))
    stale = _mark(MarkBook(P), 29.0, 29.25, when=T - timedelta(seconds=121), fallback=29.10)
    assert stale == 29.10


BAD_SIDE = st.one_of(st.sampled_from([math.nan, math.inf, -math.inf, None, "29.1", True, 0.0]),
                     st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False))


@st.composite
def bad_quote(draw):
    """(bid, ask, time) that fails validation in one way."""
    bid, ask, when = 29.00, 29.25, T
    kind = draw(st.sampled_from(["side", "crossed", "wide", "old", "ahead", "no_time"]))
    if kind == "side":
        if draw(st.booleans()):
            bid = draw(BAD_SIDE)
        else:
            ask = draw(BAD_SIDE)
    elif kind == "crossed":
        bid = ask + draw(st.floats(0.01, 1e6))
    elif kind == "wide":  # wider than 50% of mid and than 4 ticks of 0.05
        bid = ask * draw(st.floats(1e-6, 0.59))
    elif kind == "old":
        when = T - timedelta(seconds=draw(st.floats(120.5, 1e7)))
    elif kind == "ahead":
        when = T + timedelta(seconds=draw(st.floats(1.5, 1e7)))
    else:
        when = draw(st.sampled_from([None, "2020-01-06T15:00:00Z", T.replace(tzinfo=None)]))
    return bid, ask, when


@settings(max_examples=300, deadline=None, database=None)
@given(quotes=st.lists(bad_quote(), min_size=1, max_size=5))
def test_no_sequence_of_bad_quotes_moves_a_mark(quotes):
    book = MarkBook(P)
    assert _mark(book, 29.00, 29.25) == 29.125
    for bid, ask, when in quotes:
        assert _mark(book, bid, ask, when) == 29.125
    assert len(book.take_rejected()) == len(quotes)


def test_a_boolean_nlv_is_no_mark():
    """``True`` is an ``int`` to Python: before issue 8 it was marked as an NLV of 1 USD."""
    gate = Gate(P)
    gate.on_nlv(100_000.0, T)
    notice = gate.on_nlv(True, T)
    assert gate.state.last_nlv_usd == 100_000.0 and gate.state.tripped == {}
    assert notice.alerts == (f"NLV_INVALID: NLV mark True at {T.isoformat()} ignored",)
