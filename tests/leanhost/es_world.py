"""Builders of the leanhost tests: the real ES futures-option chain of the bundled data
(``data/futureoption/cme/minute/es/2020{03,06}/20200106_quote_american.zip`` and the futures
quotes ``data/future/cme/minute/es/20200106_quote.zip``), put into the fake LEAN world the way
LEAN would present it to a scheduled event at ``at_utc``.

Each contract's quote is the close of its last minute bar that ENDED by ``at_utc`` (LEAN
minute bars are stamped with their start and emitted at their end; no look-ahead), and the
contract's ``time`` is that bar's end in the exchange time zone (ES: America/New_York).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from gate_world import daily_frame, give_vix

from replay.lean_data import read_future_minute, read_option_minute
from replay.lean_data.daily import read_future_daily
from replay.lean_data.symbol_properties import SymbolProperties
from strategies.futures_strangle import FuturesStrangle
from thetacore.enums import Right

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
DAY = date(2020, 1, 6)
ENTRY_UTC = datetime(2020, 1, 6, 15, 0)  # 10:00 New York
EXCHANGE_TZ = ZoneInfo("America/New_York")
FUTURE_EXPIRY = {"202003": datetime(2020, 3, 20), "202006": datetime(2020, 6, 19)}
MONTH_CODES = {3: "H", 6: "M", 9: "U", 12: "Z"}

RELAXED = {
    "strangle_entry_weekday": "-1",
    "strangle_entry_nth_weekday": "0",
    "strangle_iv_rank_min_frac": "0",
    "strangle_consolidation_days": "0",
    "strangle_dte_min": "60",
    "strangle_dte_max": "120",
    "strangle_put_delta_min": "0.05",
    "strangle_put_delta_max": "0.20",
    "strangle_put_delta_target": "0.06",
    "strangle_call_delta_min": "0.03",
    "strangle_call_delta_max": "0.10",
}
"""Parameters under which 2020-01-06 10:00 ET is an entry (the replay's relaxed run)."""


PREV_SESSION = date(2020, 1, 3)


def es_daily_frame(before: date = DAY, month: str = "202003") -> pd.DataFrame:
    """REAL daily bars of the ES ``month`` contract before ``before``
    (``data/future/cme/daily/es_trade.zip``: 2020-01-02 and -03 before the entry day; the
    03 close 3235.50 is the previous close the gate compares the future with)."""
    bars = read_future_daily(DATA, "cme", "es", "trade")[month]
    keep = np.flatnonzero(bars.day < np.datetime64(before, "D"))
    return daily_frame("/ES", {bars.day[i].astype(object): (float(bars.high[i]), float(bars.low[i]),
                                                            float(bars.close[i])) for i in keep})


def calm_es_market(algorithm: Any) -> None:
    """What the gate needs for an ES entry on 2020-01-06: the REAL ES daily bars and GIVEN VIX
    13.85 with a previous close of 14.02 on 2020-01-03."""
    algorithm.history_frames["/ES"] = es_daily_frame()
    give_vix(algorithm, PREV_SESSION)


def _last_closed(times_utc: np.ndarray, at_utc: datetime) -> int | None:
    """Index of the last bar that ended by ``at_utc`` (start <= at - 1 min)."""
    ok = np.flatnonzero(times_utc <= np.datetime64(at_utc - timedelta(minutes=1), "ms"))
    return int(ok[-1]) if ok.size else None


def _local_end(bar_start_utc: np.datetime64) -> datetime:
    start = bar_start_utc.astype("datetime64[ms]").astype(datetime).replace(tzinfo=UTC)
    return (start + timedelta(minutes=1)).astimezone(EXCHANGE_TZ).replace(tzinfo=None)


def _side(value: float) -> float:
    """LEAN reports a missing quote side as 0."""
    return float(value) if np.isfinite(value) else 0.0


def install_es_chain(lean: ModuleType, algorithm: Any, at_utc: datetime = ENTRY_UTC, *, mes: bool = False) -> Any:
    """Add the ES futures and options of the bundled day as securities of ``algorithm``
    (running its security initializers) and set ``current_slice`` to their chains at
    ``at_utc``. Returns the slice.

    ``mes``: also an MES chain CONSTRUCTED from the same REAL quotes (the bundled data have
    no MES options): the same futures and option quotes in points under MES symbols
    (``MESH20``...), 5 USD per point (CME: MES options 5 USD/pt, a tenth of ES's 50), as
    tests/risk/test_micro_move.py."""
    props = SymbolProperties.from_data_root(DATA).get("cme", "ES", "futureoption")
    futures = read_future_minute(DATA, "cme", "es", DAY, "quote")
    options = read_option_minute(DATA, "futureoption", "cme", "es", DAY, "quote")
    chains = lean.OptionChains()
    for root, multiplier in (("ES", props.multiplier), ("MES", props.multiplier / 10))[: 2 if mes else 1]:
        fop_props = lean.SymbolProperties(multiplier, props.minimum_price_variation)
        for month, expiry in FUTURE_EXPIRY.items():
            _install_month(lean, algorithm, chains, root, fop_props, futures[month], options, month, expiry, at_utc)
    algorithm.utc_time = at_utc
    algorithm.current_slice = lean.Slice(at_utc, chains)
    return algorithm.current_slice


def _install_month(lean: ModuleType, algorithm: Any, chains: Any, root: str, fop_props: Any, bars: Any,
                   options: Any, month: str, expiry: datetime, at_utc: datetime) -> None:
    """One future of ``root`` and its options' chain (the bundled ES quotes of ``month``)."""
    i = _last_closed(bars.time_utc, at_utc)
    assert i is not None, f"no ES {month} quote before {at_utc}"
    bid, ask = float(bars.bid_close[i]), float(bars.ask_close[i])
    value = f"{root}{MONTH_CODES[expiry.month]}{expiry:%y}"
    future = lean.Symbol.future(root, value, expiry)
    algorithm.add_security(
        lean.Security(future, lean.SecurityType.FUTURE, lean.SymbolProperties(fop_props.contract_multiplier, 0.25),
                      bid, ask, (bid + ask) / 2)
    )
    contracts = []
    for key, quotes in sorted(options.items()):
        if key.future_month != month:
            continue
        j = _last_closed(quotes.time_utc, at_utc)
        if j is None:
            continue
        right = lean.OptionRight.CALL if key.right is Right.CALL else lean.OptionRight.PUT
        expiry_dt = datetime.combine(key.expiry, datetime.min.time())
        symbol = lean.Symbol.future_option(future, right, key.strike_pts, expiry_dt)
        obid, oask = _side(quotes.bid_close[j]), _side(quotes.ask_close[j])
        algorithm.add_security(
            lean.Security(symbol, lean.SecurityType.FUTURE_OPTION, fop_props, obid, oask, (obid + oask) / 2)
        )
        contracts.append(
            lean.OptionContract(symbol, key.strike_pts, expiry_dt, right, obid, oask, _local_end(quotes.time_utc[j]))
        )
    canonical = lean.Symbol.canonical_option(future)
    chains[canonical] = lean.OptionChain(canonical, lean.BaseData(future, (bid + ask) / 2), contracts)


def fire(algorithm: Any, name: str) -> None:
    """Run the scheduled event called ``name`` now."""
    events = [e for e in algorithm.schedule.events if e.name == name]
    assert len(events) == 1, (
        f"expected one event {name!r}, have {[e.name for e in algorithm.schedule.events]}"
    )
    events[0].callback()


def fill_close(algorithm: Any, close: Any, put_pts: float, call_pts: float) -> tuple[str, Any]:
    """Fill a strangle close's two tickets (put leg, then call leg) at the given prices in
    points; ``(the REALIZED journal text, the strategy's gate stats)`` -- the two records a
    closed position leaves. Asserts nothing itself."""
    put, call = close.tickets
    algorithm.fill(put, put_pts)
    algorithm.fill(call, call_pts)
    realized = next(e for e in algorithm.journal.entries if e.action == "REALIZED")
    return realized.text, algorithm.risk.session.stats[FuturesStrangle.name]


def relaxed_es_algorithm(lean: ModuleType, make_algorithm: Any, setup: Any = None, **params: str) -> Any:
    """main.py with the relaxed strangle parameters (:data:`RELAXED`, ``params`` on top) over
    the real ES chain of :data:`DAY` in a calm market; ``setup(algorithm)`` runs before
    ``initialize`` (live mode, object store, brokerage model)."""
    algorithm = make_algorithm(setup=setup, **RELAXED, **params)
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    return algorithm


def entry_verdict(algorithm: Any) -> Any:
    """Fire the strangle's entry rule; the risk gate's verdict on it (the last journaled)."""
    fire(algorithm, "futures_strangle:entry")
    return algorithm.journal.verdicts()[-1]


def live_setup(store: Any = None) -> Callable[[Any], None]:
    """``setup`` of a live run (local LEAN), sharing ``store`` when given (a restart)."""

    def setup(algorithm: Any) -> None:
        algorithm.live_mode = True
        if store is not None:
            algorithm.object_store = store

    return setup
