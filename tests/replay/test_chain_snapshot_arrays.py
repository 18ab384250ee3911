"""The replay's array-built chain snapshot equals, row for row, the chain built by asking
every contract's quote series in turn (the code before issue 10), on the REAL ES day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from replay.schedule import NEW_YORK


def _loop_chain(market, t_utc: datetime) -> list[tuple]:
    """Reference: per contract, its latest quote as of ``t_utc`` if fresh and unexpired."""
    t = np.datetime64(t_utc.astimezone(UTC).replace(tzinfo=None), "ms")
    today = t_utc.astimezone(NEW_YORK).date()
    unders = market.underlying_mids(t_utc)
    rows = []
    for c in market.options:
        if c.expiry < today:
            continue
        bid, ask, when = c.quotes.at(t, market.max_age)
        if np.isnat(when):
            continue
        rows.append((c.symbol, c.underlying, unders.get(c.underlying, np.nan), c.strike,
                     np.datetime64(c.expiry, "D"), c.right, bid, ask, when))
    return rows


@pytest.mark.parametrize("hhmm", ["00:00", "09:31", "10:00", "12:07", "15:59", "17:30", "23:59"])
def test_when_a_snapshot_is_built_from_arrays_then_it_equals_the_per_contract_loop(es_market, hhmm):
    h, m = map(int, hhmm.split(":"))
    t = datetime(2020, 1, 6, h, m, tzinfo=NEW_YORK).astimezone(UTC)
    expected = _loop_chain(es_market, t)
    chain, _ = es_market.chain_at(t)
    if not expected:
        assert chain is None
        return
    assert chain is not None and len(chain) == len(expected) > 100
    got = list(zip(chain.symbol, chain.underlying_symbol, chain.underlying_pts, chain.strike_pts, chain.expiry,
                   chain.right, chain.bid_pts, chain.ask_pts, chain.quote_time_utc, strict=True))
    for g, e in zip(got, expected, strict=True):
        assert g[:2] == e[:2] and g[3:6] == e[3:6] and g[8] == e[8]
        for a, b in (g[2], e[2]), (g[6], e[6]), (g[7], e[7]):
            assert (np.isnan(a) and np.isnan(b)) or a == b


def test_when_the_time_is_before_or_long_after_the_data_then_no_chain(es_market):
    early = datetime(2020, 1, 1, tzinfo=UTC)
    late = datetime(2020, 1, 6, 12, tzinfo=UTC) + timedelta(days=30)
    assert es_market.chain_at(early)[0] is None and es_market.chain_at(late)[0] is None
