"""The ATM points of the constant-maturity IV from the bracketing rows only
(thetacore/atm_points.py, issue 10 goal 2) equal the long way's, which greeks every row of
every expiry (:func:`expiry_atm_points_greeked`), bit for bit: the REAL ES chain of
2020-01-06, MODELLED futures and index chains with holes punched in them (one-sided quotes,
strikes with no IV at all, a future without a price), and every reading's basis."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest

from replay.model_chain import model_chain
from tests.conftest import ES_ENTRY_UTC
from thetacore.atm_points import expiry_atm_points, expiry_atm_points_greeked
from thetacore.chain import ChainSnapshot
from thetacore.iv_rank import (
    IvRankUnavailable,
    atm_iv_at_forward,
    constant_maturity_atm_iv,
    interpolate_total_variance,
)
from thetacore.pricing import NEW_YORK
from thetacore.products import product

DAY = date(2024, 1, 12)
AT_UTC = datetime.combine(DAY, time(10, 30), tzinfo=NEW_YORK).astimezone(UTC)
OFFSETS = (0, 1, 7, 14, 35, 63, 91, 98, 126, 182, 273, 364)


def _chain(root: str, spot: float, step: float, seed: int, holes: float) -> ChainSnapshot:
    """A MODELLED chain with a share ``holes`` of one-sided rows and every IV of a few
    strikes removed (both rows of the strike nearest each expiry's money unquoted)."""
    prod = product(root)
    strikes = step * np.round(spot / step) + step * np.arange(-30, 30)
    chain = model_chain(prod, AT_UTC, spot, [DAY + timedelta(days=d) for d in OFFSETS], strikes,
                        multiplier_usd_per_pt=50.0 if root == "ES" else 100.0, rate_frac=0.05,
                        underlying_symbol="ES202403" if root == "ES" else root)
    rng = np.random.default_rng(seed)
    bid = chain.bid_pts.copy()
    bid[rng.random(len(chain)) < holes] = np.nan
    near = np.isin(chain.strike_pts, step * np.round(spot / step) + step * rng.integers(-2, 3, 3))
    bid[near & (rng.random(len(chain)) < 0.5)] = np.nan  # some bracketing strikes lose their IVs
    return ChainSnapshot(**{**{f: getattr(chain, f) for f in chain.__dataclass_fields__}, "bid_pts": bid})


def _args(root: str, now_utc: datetime) -> dict[str, object]:
    prod = product(root)
    return {"model": prod.model, "rate_frac": 0.05, "yield_frac": 0.0, "expiry_time_et": prod.expiry_time_et,
            "now_utc": now_utc}


def _long_reading(chain: ChainSnapshot, days: int, args: dict[str, object]) -> tuple[float, str]:
    pts = sorted(expiry_atm_points_greeked(replace(chain), **args), key=lambda a: a.t_years)  # type: ignore[arg-type]
    iv, i, j = interpolate_total_variance([(a.t_years, a.atm_iv_frac) for a in pts], days / 365.0)
    kind = "interpolated" if i != j else "flat beyond"
    return iv, f"{kind} {pts[i].expiry.isoformat()}" + (f"/{pts[j].expiry.isoformat()}" if i != j else "")


@pytest.mark.parametrize(("root", "spot", "step"), [("ES", 4800.0, 5.0), ("SPY", 475.0, 1.0)])
@pytest.mark.parametrize("seed", range(6))
def test_points_and_readings_equal_the_long_way(root: str, spot: float, step: float, seed: int) -> None:
    chain = _chain(root, spot, step, seed, holes=0.1 * seed)
    args = _args(root, AT_UTC)
    want = expiry_atm_points_greeked(replace(chain), **args)  # type: ignore[arg-type]
    got = expiry_atm_points(replace(chain), **args)  # type: ignore[arg-type]
    assert len(want) >= 5 and got == want  # dataclass equality: every float bit for bit
    for days in (1, 30, 90, 200, 364, 900):  # before, inside and beyond the listed range
        reading = constant_maturity_atm_iv(replace(chain), days, **args)  # type: ignore[arg-type]
        assert (reading.iv_frac, reading.basis) == _long_reading(chain, days, args)


def test_real_es_chain_points_equal_the_long_way(es_market) -> None:
    ctx = es_market.context(ES_ENTRY_UTC)
    args = _args("ES", ctx.time_utc)
    want = expiry_atm_points_greeked(replace(ctx.chain), **args)
    assert [p.expiry for p in want] == [date(2020, 3, 20), date(2020, 6, 19)]
    assert expiry_atm_points(replace(ctx.chain), **args) == want
    for days in (10, 90, 400):
        reading = constant_maturity_atm_iv(replace(ctx.chain), days, **args)  # type: ignore[arg-type]
        assert (reading.iv_frac, reading.basis) == _long_reading(ctx.chain, days, args)


def test_when_a_bracketing_strike_has_no_iv_the_next_listed_strike_is_used_as_the_long_way() -> None:
    chain = _chain("ES", 4800.0, 5.0, 0, holes=0.0)
    march = np.datetime64(date(2024, 3, 15), "D")
    rows = chain.expiry == march
    fwd = float(chain.underlying_pts[rows][0])
    at = float(chain.strike_pts[rows][chain.strike_pts[rows] <= fwd].max())
    bid = chain.bid_pts.copy()
    bid[rows & (chain.strike_pts == at)] = np.nan  # the strike at or just below the forward: no mid, no IV
    holed = ChainSnapshot(**{**{f: getattr(chain, f) for f in chain.__dataclass_fields__}, "bid_pts": bid})
    args = _args("ES", AT_UTC)
    [got] = [p for p in expiry_atm_points(replace(holed), **args) if p.expiry == date(2024, 3, 15)]  # type: ignore[arg-type]
    [want] = [p for p in expiry_atm_points_greeked(replace(holed), **args) if p.expiry == date(2024, 3, 15)]  # type: ignore[arg-type]
    assert got == want
    # and that point is not the one the intact chain gives (the hole moved the bracket)
    [intact] = [p for p in expiry_atm_points(replace(chain), **args) if p.expiry == date(2024, 3, 15)]  # type: ignore[arg-type]
    assert intact.atm_iv_frac != got.atm_iv_frac


def test_when_only_the_bracketing_rows_are_solved_then_far_fewer_ivs_are_computed(monkeypatch) -> None:
    import thetacore.atm_points as ap

    solved: list[int] = []
    real = ap.implied_vol

    def counting(*a: object, **k: object) -> np.ndarray:
        solved.append(np.size(a[1]))
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(ap, "implied_vol", counting)
    chain = _chain("ES", 4800.0, 5.0, 1, holes=0.0)
    constant_maturity_atm_iv(chain, 90, **_args("ES", AT_UTC))  # type: ignore[arg-type]
    assert len(solved) == 1 and solved[0] <= 8  # two strikes x put and call, of two expiries


def test_no_expiry_with_a_point_is_refused_as_before() -> None:
    chain = _chain("ES", 4800.0, 5.0, 0, holes=0.0)
    no_future = ChainSnapshot(**{**{f: getattr(chain, f) for f in chain.__dataclass_fields__},
                                 "underlying_pts": np.full(len(chain), np.nan)})
    assert expiry_atm_points(no_future, **_args("ES", AT_UTC)) == []  # type: ignore[arg-type]
    with pytest.raises(IvRankUnavailable):
        constant_maturity_atm_iv(no_future, 90, **_args("ES", AT_UTC))  # type: ignore[arg-type]
    assert np.isnan(atm_iv_at_forward(chain, float("nan")))


def _shuffled(chain: ChainSnapshot, seed: int) -> ChainSnapshot:
    """The same contracts in a random row order (expiries no longer grouped)."""
    return chain.select(np.random.default_rng(seed).permutation(len(chain)))


@pytest.mark.parametrize("seed", range(3))
def test_when_rows_are_not_listed_expiry_by_expiry_the_points_still_equal_the_long_way(seed: int) -> None:
    """:class:`_Groups` takes an expiry's rows by position when the chain lists expiries in
    order, else by a mask: both give the long way's points (ties of one strike in row order)."""
    for root, spot, step in (("ES", 4800.0, 5.0), ("SPY", 475.0, 1.0)):
        chain = _shuffled(_chain(root, spot, step, seed, holes=0.2), seed)
        ints = chain.expiry.view(np.int64)
        assert not (ints[1:] >= ints[:-1]).all(), "the shuffle must break the order"
        args = _args(root, AT_UTC)
        want = expiry_atm_points_greeked(replace(chain), **args)  # type: ignore[arg-type]
        assert len(want) >= 5 and expiry_atm_points(replace(chain), **args) == want  # type: ignore[arg-type]
        for days in (1, 30, 200, 900):
            reading = constant_maturity_atm_iv(replace(chain), days, **args)  # type: ignore[arg-type]
            assert (reading.iv_frac, reading.basis) == _long_reading(chain, days, args)


@pytest.mark.parametrize("shuffle", [False, True])
def test_when_an_expiry_is_greeked_with_the_reading_then_one_solve_gives_both_unchanged(
        monkeypatch, shuffle: bool) -> None:
    """``greek_expiry`` (the strangle's entry expiry) is solved in the reading's own solver
    call: the reading is the plain one, the cached expiry snapshot equals a separate
    :func:`expiry_greeks` array for array and bit for bit, and only one solver call runs."""
    import thetacore.atm_points as ap
    import thetacore.chain_greeks as cg
    from thetacore.chain import _ARRAY_FIELDS
    from thetacore.chain_greeks import expiry_greeks

    chain = _chain("ES", 4800.0, 5.0, 2, holes=0.2)
    chain = _shuffled(chain, 5) if shuffle else chain
    args = _args("ES", AT_UTC)
    greek_args = {k: v for k, v in args.items() if k != "now_utc"}
    expiry = date(2024, 4, 12)  # 91 DTE: not one of the 45-day reading's brackets
    calls: list[int] = []
    for mod in (ap, cg):
        real = mod.implied_vol
        monkeypatch.setattr(mod, "implied_vol",
                            lambda *a, _real=real, **k: calls.append(np.size(a[1])) or _real(*a, **k))
    plain = constant_maturity_atm_iv(replace(chain), 45, **args)  # type: ignore[arg-type]
    want = expiry_greeks(replace(chain), expiry, **greek_args)  # type: ignore[arg-type]
    separate, calls[:] = list(calls), []
    fresh = replace(chain)
    got = constant_maturity_atm_iv(fresh, 45, greek_expiry=expiry, **args)  # type: ignore[arg-type]
    assert got == plain
    greeked = expiry_greeks(fresh, expiry, **greek_args)  # type: ignore[arg-type]
    # the first call solves the bracket rows and the expiry's together; nothing else changes
    assert calls == [separate[0] + separate[-1], *separate[1:-1]], (separate, calls)
    assert len(greeked) == len(want) > 40 and np.isfinite(want.delta).sum() > 30
    for name in _ARRAY_FIELDS:
        a, b = getattr(greeked, name), getattr(want, name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
    n = len(calls)
    assert constant_maturity_atm_iv(fresh, 45, **args) is got and len(calls) == n  # remembered
