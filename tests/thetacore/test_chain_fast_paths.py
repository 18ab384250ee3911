"""The decision's shortcuts (issue 10, goal 2) give the numbers of the long way round.

Checked against independent calculations: ``np.unique`` for the expiry list, a direct
:func:`thetacore.pricing.implied_vol` on every row for the per-expiry IVs, a direct
:func:`thetacore.margin.buying_power_pts` for the remembered buying power. The chain is a
MODELLED one (:mod:`replay.model_chain`), with rows unquoted on purpose.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest

from replay.model_chain import model_chain
from thetacore.chain import ChainError, ChainSnapshot
from thetacore.chain_greeks import expiry_greeks, with_greeks
from thetacore.chain_margin import MEMO_KEY, chain_buying_power_pts
from thetacore.decisions import OrderIntent
from thetacore.enums import IntentPurpose, Right
from thetacore.legs import OptionLeg
from thetacore.margin import buying_power_pts, futures_scan_bp_pts
from thetacore.pricing import NEW_YORK, PricingModel, implied_vol, price, time_to_expiry_years
from thetacore.products import product
from thetacore.structures import Structure, StructureKind, UnderlyingKind

DAY = date(2024, 1, 12)
AT_UTC = datetime.combine(DAY, time(10, 30), tzinfo=NEW_YORK).astimezone(UTC)
ES_TIME = time(9, 30)


def _es_chain() -> ChainSnapshot:
    expiries = [DAY + timedelta(days=d) for d in (0, 7, 35, 63, 98)]
    strikes = 4800.0 + 25.0 * np.arange(-12, 12)
    chain = model_chain(product("ES"), AT_UTC, 4800.0, expiries, strikes, multiplier_usd_per_pt=50.0,
                        rate_frac=0.05, underlying_symbol="ES202403")
    bid = chain.bid_pts.copy()
    bid[::7] = np.nan  # one-sided rows: no mid, no IV
    return ChainSnapshot(**{**{f: getattr(chain, f) for f in chain.__dataclass_fields__}, "bid_pts": bid})


def test_when_expiries_listed_then_they_equal_numpy_unique_with_nat_once_and_last() -> None:
    chain = _es_chain()
    assert np.array_equal(chain.expiries(), np.unique(chain.expiry))
    days = np.array(["2024-03-15", "NaT", "2024-01-12", "NaT", "2024-03-15"], dtype="datetime64[D]")
    odd = chain.select(np.arange(5))
    odd = ChainSnapshot(**{**{f: getattr(odd, f) for f in odd.__dataclass_fields__}, "expiry": days})
    got = odd.expiries()
    assert got.astype(str).tolist() == ["2024-01-12", "2024-03-15", "NaT"]
    assert not got.flags.writeable, "the cached list is shared: callers cannot change it"


def test_when_expiries_already_in_order_or_not_then_the_list_equals_numpy_unique() -> None:
    """The no-sort path (an array already in order, no NaT) and the sorting path give
    ``np.unique``'s list for random date arrays: in order, shuffled, with NaT anywhere
    (NaT is the smallest int64: an int-ordered array with a leading NaT must still sort)."""
    from thetacore.chain import _sorted_unique_days

    rng = np.random.default_rng(11)
    paths = {"in order": 0, "sorted": 0}
    for _ in range(2_000):
        days = np.datetime64("2024-01-12", "D") + rng.integers(0, 6, int(rng.integers(0, 12)))
        if rng.random() < 0.5:
            days.sort()
        if days.size and rng.random() < 0.3:
            days[rng.integers(0, days.size, 2)] = np.datetime64("NaT")
        ints = days.view(np.int64)
        fast = days.size > 1 and bool(np.all(ints[1:] >= ints[:-1])) and not np.isnat(days[0])
        paths["in order" if fast else "sorted"] += 1
        got, want = _sorted_unique_days(days), np.unique(days)
        assert got.dtype == want.dtype and got.astype(str).tolist() == want.astype(str).tolist()
        assert not np.shares_memory(got, days), "the cached list never aliases the chain's array"
    assert min(paths.values()) > 300, paths
    nat_first = np.array(["NaT", "2024-01-12", "2024-03-15"], dtype="datetime64[D]")
    assert _sorted_unique_days(nat_first).astype(str).tolist() == ["2024-01-12", "2024-03-15", "NaT"]


def test_when_rows_selected_then_they_are_the_chains_rows_and_construction_still_validates() -> None:
    chain = _es_chain()
    rows = chain.select(chain.right == int(Right.PUT))
    puts = np.flatnonzero(chain.right == int(Right.PUT))
    assert len(rows) == puts.size and (rows.right == -1).all()
    assert rows.symbol.tolist() == chain.symbol[puts].tolist()
    assert rows.derived == {} and rows.root == chain.root and rows.time_utc == chain.time_utc
    with pytest.raises(ChainError):
        ChainSnapshot(**{**{f: getattr(rows, f) for f in rows.__dataclass_fields__}, "right": rows.right * 2})


def test_when_selected_by_a_boolean_mask_then_every_field_is_the_masked_array() -> None:
    """``select`` turns a boolean mask into positions once (issue 10): every array field is
    what indexing it with the mask itself gives (dtype and bytes); a wrong-length mask still
    raises as numpy's boolean indexing does."""
    from thetacore.chain import _ARRAY_FIELDS

    chain = with_greeks(_es_chain(), model=PricingModel.BLACK_76, rate_frac=0.05, yield_frac=0.0,
                        expiry_time_et=ES_TIME)
    mask = (chain.expiry == np.datetime64(date(2024, 3, 15), "D")) & (chain.strike_pts > 4700.0)
    rows = chain.select(mask)
    assert 0 < len(rows) < mask.sum() + 1 and mask.sum() == len(rows)
    for name in _ARRAY_FIELDS:
        want = getattr(chain, name)[mask]
        got = getattr(rows, name)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes(), name
    with pytest.raises(IndexError):
        chain.select(mask[:-1])


def test_when_one_expiry_greeked_then_ivs_equal_a_direct_solve_of_every_row() -> None:
    chain = _es_chain()
    march = date(2024, 3, 15)
    out = expiry_greeks(chain, march, model=PricingModel.BLACK_76, rate_frac=0.05, yield_frac=0.0,
                        expiry_time_et=ES_TIME)
    rows = chain.expiry == np.datetime64(march, "D")
    mid = np.where(chain.bid_pts > 0, (chain.bid_pts + chain.ask_pts) / 2, np.nan)[rows]
    t = time_to_expiry_years(chain.expiry[rows], AT_UTC, ES_TIME)
    direct = implied_vol(PricingModel.BLACK_76, mid, chain.underlying_pts[rows], chain.strike_pts[rows], t, 0.05,
                         0.0, chain.right[rows].astype(float))
    assert np.isnan(mid).any() and np.isfinite(direct).sum() > 10
    np.testing.assert_array_equal(out.iv_frac, direct)  # bit for bit, NaN where no mid
    whole = with_greeks(chain, model=PricingModel.BLACK_76, rate_frac=0.05, yield_frac=0.0, expiry_time_et=ES_TIME)
    np.testing.assert_array_equal(out.delta, whole.delta[rows])


def _strangle(chain: ChainSnapshot, expiry: date) -> Structure:
    day = np.datetime64(expiry, "D")
    quoted = (chain.expiry == day) & np.isfinite(chain.bid_pts)
    put = int(np.flatnonzero(quoted & (chain.strike_pts <= 4600.0) & (chain.right == -1))[-1])
    call = int(np.flatnonzero(quoted & (chain.strike_pts >= 5000.0) & (chain.right == 1))[0])
    legs = tuple(OptionLeg(str(chain.symbol[i]), "ES202403", Right(int(chain.right[i])), float(chain.strike_pts[i]),
                           expiry, -1) for i in (put, call))
    return Structure(StructureKind.STRANGLE, legs, 50.0, UnderlyingKind.FUTURE)


def test_when_gate_reads_the_legs_rows_then_it_gets_the_strategys_buying_power_unchanged() -> None:
    from risk.gate_session import legs_chain

    chain = _es_chain()
    march = date(2024, 3, 15)
    sub = expiry_greeks(chain, march, model=PricingModel.BLACK_76, rate_frac=0.05, yield_frac=0.0,
                        expiry_time_et=ES_TIME)
    structure = _strangle(sub, march)
    t = float(time_to_expiry_years(np.datetime64(march, "D"), AT_UTC, ES_TIME))
    args = {"net_price_pts": -40.0, "scan_range_frac": 0.15, "t_years": t, "rate_frac": 0.05}
    direct = buying_power_pts(structure, sub, **args)
    assert direct > 100.0
    assert chain_buying_power_pts(structure, sub, **args) == direct
    intent = OrderIntent("futures_strangle", IntentPurpose.OPEN, structure, 1, -40.0, "p1")
    rows = legs_chain(intent, chain)
    assert len(rows) == 2 and rows.derived[MEMO_KEY] is sub.derived[MEMO_KEY]
    assert chain_buying_power_pts(structure, rows, **args) == buying_power_pts(structure, rows, **args) == direct
    # other inputs are other keys, not the remembered number
    wider = chain_buying_power_pts(structure, rows, **{**args, "scan_range_frac": 0.30})
    assert wider == buying_power_pts(structure, rows, **{**args, "scan_range_frac": 0.30}) and wider > direct


def test_when_buying_power_cannot_be_computed_then_it_raises_every_time() -> None:
    chain = _es_chain()
    march = date(2024, 3, 15)
    structure = _strangle(chain, march)  # the un-greeked chain: no IV for the scan
    assert np.isnan(chain.iv_frac).all()
    for _ in range(2):
        with pytest.raises(ValueError, match="IV"):
            chain_buying_power_pts(structure, chain, net_price_pts=-40.0, scan_range_frac=0.15, t_years=0.2,
                                   rate_frac=0.05)
    assert chain.derived[MEMO_KEY] == {}


@pytest.mark.parametrize("clock_et", [time(9, 30), time(16, 0), time(13, 0)])
def test_when_one_expiry_timed_then_years_equal_the_array_function_bit_for_bit(clock_et: time) -> None:
    from thetacore.chain_greeks import expiry_years

    # across both 2024 DST changes (Mar 10, Nov 3), before and after the expiry instant
    nows = [datetime(2024, 3, 8, 15, 0, tzinfo=UTC), datetime(2024, 11, 1, 20, 59, 59, 123456, tzinfo=UTC),
            datetime(2024, 6, 14, 13, 30, tzinfo=UTC).astimezone(NEW_YORK)]
    days = [date(2024, 3, 8), date(2024, 3, 11), date(2024, 6, 14), date(2024, 11, 4), date(2026, 12, 18)]
    for now in nows:
        for day in days:
            want = float(time_to_expiry_years(np.datetime64(day, "D"), now, clock_et))
            assert expiry_years(day, now, clock_et) == want
    with pytest.raises(ValueError):
        expiry_years(days[0], datetime(2024, 3, 8, 15, 0), clock_et)


def _same(a: object, b: object) -> bool:
    """Equal values, NaN equal to NaN for float arrays (numpy 1.26, in LEAN's image, refuses
    ``equal_nan`` on string and datetime arrays)."""
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        return bool(a == b)
    if a.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def test_when_computed_arrays_replaced_then_the_copy_equals_dataclasses_replace_with_a_fresh_cache() -> None:
    chain = _es_chain()
    chain.symbol_index()
    n = len(chain)
    iv, delta = np.linspace(0.1, 0.3, n), np.linspace(-1.0, 1.0, n)
    fast, slow = chain.with_computed(iv_frac=iv, delta=delta), replace(chain, iv_frac=iv, delta=delta)
    for name in chain.__dataclass_fields__:
        a, b = getattr(fast, name), getattr(slow, name)
        assert _same(a, b), name
    assert fast.derived == {} and "symbol_index" in chain.derived, "the copy's cache starts empty"
    with pytest.raises(ChainError, match="not a computed array"):
        chain.with_computed(bid_pts=iv)
    with pytest.raises(ChainError, match=r"\(192,\) float64"):
        chain.with_computed(gamma=iv[:-1])


def test_when_futures_scan_runs_on_one_grid_then_it_equals_a_scenario_by_scenario_revaluation() -> None:
    chain = with_greeks(_es_chain(), model=PricingModel.BLACK_76, rate_frac=0.05, yield_frac=0.0,
                        expiry_time_et=ES_TIME)
    expiry = DAY + timedelta(days=98)
    legs = tuple(OptionLeg(f"ES202403 {expiry:%y%m%d}P{round(k * 1000):08d}", "ES202403", Right.PUT, k, expiry, r)
                 for k, r in ((4725.0, 1), (4700.0, -1), (4550.0, -2)))
    rows = [chain.index_of(leg.symbol) for leg in legs]
    ratio = Structure(StructureKind.RATIO_SPREAD, legs, 50.0, UnderlyingKind.FUTURE)
    t_years = float(time_to_expiry_years(np.array([np.datetime64(expiry, "D")]), AT_UTC, ES_TIME)[0])
    fwd, iv = chain.underlying_pts[rows], chain.iv_frac[rows]
    k, w = np.array([leg.strike_pts for leg in legs]), np.array([-1.0, -1.0, -1.0])
    today = price(PricingModel.BLACK_76, fwd, k, t_years, 0.05, 0.0, iv, w)
    worst = 0.0
    # one revaluation per SPAN scenario, as the rule reads: 7 price steps x vol up/down, then
    # the two extreme moves (2 scans, vol unchanged) at 35%
    scenarios = [(m * 0.1, dv, 1.0) for m in (0, 1 / 3, -1 / 3, 2 / 3, -2 / 3, 1, -1) for dv in (0.04, -0.04)]
    for move, dv, weight in [*scenarios, (0.2, 0.0, 0.35), (-0.2, 0.0, 0.35)]:
        later = price(PricingModel.BLACK_76, fwd * (1 + move), k, t_years, 0.05, 0.0, np.maximum(iv + dv, 0.01), w)
        worst = max(worst, -float(((later - today) * np.array([1, -1, -2])).sum()) * weight)
    got = futures_scan_bp_pts(ratio, chain, scan_range_frac=0.1, t_years=t_years, rate_frac=0.05,
                              vol_scan_frac=0.04, short_minimum_frac=0.0)
    assert worst > 0 and got == worst


def test_when_only_picked_rows_are_greeked_then_they_equal_the_whole_expirys_rows_and_the_gate_reads_them() -> None:
    """:func:`expiry_rows_greeks` (LT112: the picked puts only) gives each row the whole
    expiry's numbers, every array bit for bit; the gate's :func:`legs_chain` takes the legs
    from it, marked greeked with the same inputs, and the buying power is the one the whole
    expiry gives."""
    from risk.gate_session import legs_chain
    from thetacore.chain import _ARRAY_FIELDS
    from thetacore.chain_greeks import expiry_rows, expiry_rows_greeks

    march = date(2024, 3, 15)
    greek_args = {"model": PricingModel.BLACK_76, "rate_frac": 0.05, "yield_frac": 0.0, "expiry_time_et": ES_TIME}
    whole = expiry_greeks(_es_chain(), march, **greek_args)  # type: ignore[arg-type]
    chain = _es_chain()
    rows = expiry_rows(chain, march)
    assert rows.symbol.tolist() == whole.symbol.tolist() and np.isnan(rows.iv_frac).all()
    picked = (20, 3, 11, 40)  # any order: the rows come in that order
    got = expiry_rows_greeks(chain, march, picked, **greek_args)  # type: ignore[arg-type]
    assert np.isfinite(got.iv_frac).sum() >= 3
    for name in _ARRAY_FIELDS:
        want, have = getattr(whole, name)[list(picked)], getattr(got, name)
        same = have.tolist() == want.tolist() if want.dtype == object else have.tobytes() == want.tobytes()
        assert have.dtype == want.dtype and same, name
    assert expiry_rows_greeks(chain, march, picked, **greek_args) is got  # type: ignore[arg-type]
    legs = tuple(OptionLeg(str(got.symbol[i]), "ES202403", Right(int(got.right[i])), float(got.strike_pts[i]), march,
                           r) for i, r in ((0, -1), (2, -1)))
    structure = Structure(StructureKind.STRANGLE, legs, 50.0, UnderlyingKind.FUTURE)
    intent = OrderIntent("futures_strangle", IntentPurpose.OPEN, structure, 1, -40.0, "p1")
    gate_rows = legs_chain(intent, chain)
    assert gate_rows.symbol.tolist() == [leg.symbol for leg in legs]
    assert ("with_greeks", PricingModel.BLACK_76, 0.05, 0.0, ES_TIME) in gate_rows.derived
    t = float(time_to_expiry_years(np.datetime64(march, "D"), AT_UTC, ES_TIME))
    args = {"net_price_pts": -40.0, "scan_range_frac": 0.15, "t_years": t, "rate_frac": 0.05}
    assert buying_power_pts(structure, gate_rows, **args) == buying_power_pts(structure, whole, **args) > 100.0


def test_when_the_gate_reads_the_previous_close_then_it_is_the_last_close_of_the_bars_before_today() -> None:
    """``DailyBars.last_close_before`` (the gate's previous close, issue 10) is the last close
    of ``before(today)``: bars out of order, today's own bar excluded, NaN with none before."""
    from thetacore.market_stats import DailyBars

    days = np.array(["2024-01-10", "2024-01-08", "2024-01-12", "2024-01-09", "2024-01-11"], dtype="datetime64[D]")
    close = np.array([101.0, 99.0, 105.0, 100.0, 103.5])
    bars = DailyBars(days, close + 1.0, close - 1.0, close)
    for today, want in ((date(2024, 1, 12), 103.5), (date(2024, 1, 11), 100.0), (date(2024, 1, 13), 103.5),
                        (date(2024, 1, 9), 99.0)):
        assert bars.last_close_before(today) == float(bars.before(today).close_pts[-1]) == want
    assert np.isnan(bars.last_close_before(date(2024, 1, 8))) and len(bars.before(date(2024, 1, 8)).day) == 0


def _choose_expiry_numpy(expiries: np.ndarray, today: date, target: int, lo: int, hi: int) -> tuple | None:
    """The array form :func:`thetacore.selection.choose_expiry` had before issue 10's
    Python-number form (the long way for the test below)."""
    if expiries.size == 0:
        return None
    dte = (expiries - np.datetime64(today, "D")).astype(np.int64)
    inside = (dte >= lo) & (dte <= hi)
    pool = np.flatnonzero(inside) if inside.any() else np.flatnonzero(dte >= 0)
    if pool.size == 0:
        return None
    best = pool[np.argmin(np.abs(dte[pool] - target))]
    return expiries[best].astype(object), int(dte[best]), bool(inside[best])


def test_when_an_expiry_is_chosen_then_it_is_the_array_forms_choice() -> None:
    """Random listed dates (NaT among them, ties around the target, windows with none inside,
    every date expired): the same expiry, DTE and in-window flag as the array form."""
    from thetacore.selection import choose_expiry

    rng = np.random.default_rng(3)
    base = _es_chain()
    kinds = {"inside": 0, "nearest": 0, "none": 0}
    for _ in range(1_500):
        n = int(rng.integers(1, 9))
        days = np.datetime64(DAY, "D") + rng.integers(-30, 200, n)
        if rng.random() < 0.2:
            days[rng.integers(0, n)] = np.datetime64("NaT")
        rows = base.select(np.arange(n))
        chain = ChainSnapshot(**{**{f: getattr(rows, f) for f in rows.__dataclass_fields__}, "expiry": days})
        target = int(rng.integers(-10, 150))
        lo = target - int(rng.integers(0, 30))
        hi = target + int(rng.integers(0, 30))
        want = _choose_expiry_numpy(chain.expiries(), DAY, target, lo, hi)
        got = choose_expiry(chain, DAY, target, lo, hi)
        assert (None if got is None else (got.expiry, got.dte_days, got.in_window)) == want
        assert got is None or (type(got.dte_days) is int and type(got.in_window) is bool)
        kinds["none" if got is None else "inside" if got.in_window else "nearest"] += 1
    assert min(kinds.values()) > 50, kinds


def test_when_the_mid_of_some_rows_is_read_then_it_is_the_whole_chains_mid_there() -> None:
    """``ChainSnapshot.mid_at`` gives :attr:`mid_pts` at the rows, bit for bit: one-sided,
    crossed and zero-bid rows are NaN alike; any order, repeats allowed."""
    chain = _es_chain()
    bid, ask = chain.bid_pts.copy(), chain.ask_pts.copy()
    bid[3], ask[5], bid[9] = 0.0, bid[5] - 0.25, np.nan  # zero bid, crossed, one-sided
    odd = ChainSnapshot(**{**{f: getattr(chain, f) for f in chain.__dataclass_fields__}, "bid_pts": bid, "ask_pts": ask})
    rows = np.array([9, 5, 3, 1, 2, 7, 7, len(odd) - 1])  # row 7: no bid in _es_chain
    got, want = odd.mid_at(rows), odd.mid_pts[rows]
    assert got.tobytes() == want.tobytes() and np.isnan(got[:3]).all() and np.isfinite(got[3:5]).all()
