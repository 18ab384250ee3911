"""``python -m modelled [--data DATA]``: print the model's facts (the numbers of
``docs/modelled-chains.md``): data ranges, calibration errors per real chain, the ATM level
against the real ES chain, MODELLED VIX on crisis days, and the cost of one day's chains.

Everything printed is MODELLED except the data ranges and the real chains' IVs.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import numpy as np

from modelled.calibration import CHAIN_FILES, atm_level, calibrate, fit_horizon_scale, market_points
from modelled.chains import ModelledMarket
from modelled.paths import TICKERS, RateCurve, read_path
from modelled.surface import CALIBRATED
from modelled.vol import build_vol_path
from replay.lean_data.market_hours import MarketHours

CRISIS_DAYS = ("2000-04-14", "2001-09-17", "2002-07-23", "2008-10-10", "2008-11-20", "2011-08-08",
               "2015-08-24", "2018-02-05", "2020-01-06", "2020-03-16", "2020-12-31")


def main(argv: list[str] | None = None) -> int:
    """Print the report; returns the exit status (0)."""
    ap = argparse.ArgumentParser(prog="python -m modelled", description=__doc__)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / "data")
    ap.add_argument("--sample-every", type=int, default=20, help="trading days between timed days")
    args = ap.parse_args(argv)
    data: Path = args.data
    rates = RateCurve.from_data_root(data)
    print("MODELLED chains: model facts (python -m modelled)")
    for t in TICKERS:
        p = read_path(data, t)
        gaps = [str(p.day[i]) for i in np.flatnonzero(np.diff(p.day).astype(np.int64) > 10)]
        print(f"  {t:5s} {p.day[0]}..{p.day[-1]} {len(p)} days; gaps after {gaps or 'none'}; "
              f"dividends {int((p.dividend_pts > 0).sum())}, splits {int((p.split_ratio != 1).sum())}")
    print(f"  rates {rates.series.dates[0]}..{rates.series.dates[-1]} ({len(rates.series.dates)} changes)")
    points = [market_points(name, data, rates) for name in CHAIN_FILES]
    res = calibrate(points)
    print(f"calibration: a={res.shape.a} b={res.shape.b} (stored {CALIBRATED.a}, {CALIBRATED.b})")
    for name, (n, rms, worst) in res.errors.items():
        print(f"  {name:28s} {n:4d} points  RMS {rms:.2f}  max {worst:.2f} vol points")
    t0 = time.perf_counter()
    spy = read_path(data, "SPY")
    vol = build_vol_path(spy)
    build_s = time.perf_counter() - t0
    es = points[0]
    i = vol.index_of(np.datetime64("2020-01-06"))
    t = np.array([es.t_years[es.group == g][0] for g in (0, 1)])
    real = [100 * atm_level(es, g, CALIBRATED) for g in (0, 1)]
    model = 100 * vol.atm_iv_frac(i, t)
    print(f"ATM level ES 2020-01-06 (Mar, Jun): real {real[0]:.2f}, {real[1]:.2f}; MODELLED {model[0]:.2f}, "
          f"{model[1]:.2f}; horizon_scale refit {fit_horizon_scale(es, vol, CALIBRATED):.4f} "
          f"(in use {vol.horizon_scale})")
    print("MODELLED VIX: " + ", ".join(f"{d} {vol.vix(vol.index_of(np.datetime64(d))):.1f}" for d in CRISIS_DAYS))
    holidays = MarketHours.from_data_root(data).entry("equity", "usa", "SPY").holidays
    market = ModelledMarket(spy, vol, rates, holidays)
    _time_chains(market, args.sample_every, build_s)
    return 0


def _time_chains(market: ModelledMarket, every: int, build_s: float) -> None:
    days = [d.astype(date) for d in market.path.day if d >= np.datetime64("2005-01-10")][::every]
    rows = {"SPY": 0, "ES": 0}
    spent = {"SPY": 0.0, "ES": 0.0}
    for d in days:
        for fam, build in (("SPY", market.equity_chain), ("ES", market.es_chain)):
            t0 = time.perf_counter()
            rows[fam] += len(build(d).snapshot)
            spent[fam] += time.perf_counter() - t0
    print(f"cost: vol model over {len(market.path)} days {build_s:.1f} s; per day, over {len(days)} days:")
    for fam in rows:
        print(f"  {fam:4s} {spent[fam] / len(days) * 1000:.1f} ms/day, {rows[fam] / len(days):.0f} contracts/day")


if __name__ == "__main__":
    raise SystemExit(main())
