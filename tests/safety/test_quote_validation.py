"""Quote validation on the REAL quotes of the strategy's ES strangle (2020-01-06 10:00 ET,
data/): 3000P 29.00 / 29.25 and 3460C 3.30 / 3.45, both stamped 15:00:00Z. Each rule is
probed at its boundary by editing one number of a real quote."""

from __future__ import annotations

import dataclasses
import math
from datetime import timedelta

import pytest

from safety.quote_validation import LegQuote, leg_quote_reason, net_mid_natural_pts, quote_reasons
from tests.risk.gate_builders import NOW, market

PUT = "ES202003 200320P03000000"


def _put(ctx, strangle) -> LegQuote:
    return market(strangle[0], ctx, strangle[1]).quote_map()[PUT]


def _reason(q, now=NOW):
    return leg_quote_reason(q, PUT, now, max_spread_frac=0.5, max_age_sec=120)


def test_when_the_real_quotes_are_read_then_they_pass_and_price_the_strangle(ctx, strangle):
    intent, bp = strangle
    quotes = market(intent, ctx, bp).quote_map()
    assert quote_reasons(intent.structure, quotes, NOW, max_spread_frac=0.5, max_age_sec=120) == []
    assert net_mid_natural_pts(intent.structure, quotes) == pytest.approx((-32.5, -32.3))


@pytest.mark.parametrize(("bid", "ask", "code"), [
    (math.nan, 29.25, "QUOTE_NAN"), (29.0, math.inf, "QUOTE_NAN"), (0.0, 29.25, "QUOTE_NONPOSITIVE"),
    (-1.0, 29.25, "QUOTE_NONPOSITIVE"), (29.0, -29.25, "QUOTE_NONPOSITIVE"), (29.5, 29.25, "QUOTE_CROSSED"),
    (15.0, 25.0, None), (14.99, 25.0, "QUOTE_SPREAD_WIDE")])
def test_when_a_price_is_bad_then_the_leg_is_refused_with_its_numbers(ctx, strangle, bid, ask, code):
    """Spread cap 0.50 of mid: 15/25 is a 10.00 spread on a 20.00 mid (exactly 0.50: passes)."""
    r = _reason(dataclasses.replace(_put(ctx, strangle), bid_pts=bid, ask_pts=ask))
    assert (r.code if r else None) == code
    if code == "QUOTE_SPREAD_WIDE":
        assert r.text == f"{PUT}: spread 10.0100 = 0.501 of mid 19.9950 > 0.50"


@pytest.mark.parametrize(("age_sec", "code"), [(120, None), (121, "QUOTE_STALE"), (-1, None),
                                               (-2, "QUOTE_TIME_AHEAD")])
def test_when_a_quote_is_old_or_from_the_future_then_refused(ctx, strangle, age_sec, code):
    q = _put(ctx, strangle)
    r = _reason(q, now=q.quote_time_utc + timedelta(seconds=age_sec))
    assert (r.code if r else None) == code
    if code == "QUOTE_STALE":
        assert r.text == f"{PUT}: quote 121 s old > 120 s"


def test_when_a_leg_has_no_quote_or_no_time_then_refused(ctx, strangle):
    assert _reason(None).code == "QUOTE_MISSING"
    assert _reason(dataclasses.replace(_put(ctx, strangle), quote_time_utc=None)).code == "QUOTE_TIME_MISSING"


def test_when_both_legs_are_bad_then_both_are_reported(ctx, strangle):
    intent, bp = strangle
    quotes = {q.symbol: dataclasses.replace(q, bid_pts=0.0) for q in market(intent, ctx, bp).quotes}
    reasons = quote_reasons(intent.structure, quotes, NOW, max_spread_frac=0.5, max_age_sec=120)
    assert [r.code for r in reasons] == ["QUOTE_NONPOSITIVE", "QUOTE_NONPOSITIVE"]
