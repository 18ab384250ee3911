"""Throughput of the vectorised implied volatility against the scalar reference, same run.

Run from the project root::

    python -m benchmarks.bench_implied_vol            # 20,000 options
    python -m benchmarks.bench_implied_vol --n 100000 --seed 3

Builds a random book of European options (strikes 50-150 % of spot, 1 hour to 3 years,
vols 5-150 %, calls and puts, Black-Scholes and Black-76), prices it, then times
:func:`thetacore.pricing.implied_vol` on the whole array and
:func:`thetacore.pricing.reference.implied_vol_scalar` option by option, checks that both
agree where the price pins the IV, and prints options per second and the speed ratio.
Not a unit test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from thetacore.pricing import PricingModel, greeks, implied_vol, price
from thetacore.pricing.reference import implied_vol_scalar


def _book(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "model_is_b76": rng.random(n) < 0.5,
        "s": np.full(n, 100.0),
        "k": rng.uniform(50.0, 150.0, n),
        "t": rng.uniform(1 / (365 * 24), 3.0, n),
        "r": rng.uniform(0.0, 0.06, n),
        "q": rng.uniform(0.0, 0.03, n),
        "v": rng.uniform(0.05, 1.5, n),
        "w": rng.choice(np.array([1.0, -1.0]), n),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="options in the book")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5, help="best-of for the vectorised run")
    args = parser.parse_args()

    b = _book(args.n, args.seed)
    models = {PricingModel.BLACK_76: b["model_is_b76"], PricingModel.BLACK_SCHOLES:
              ~b["model_is_b76"]}
    p = np.empty(args.n)
    for model, m in models.items():
        p[m] = price(model, b["s"][m], b["k"][m], b["t"][m], b["r"][m], b["q"][m], b["v"][m],
                     b["w"][m])

    best = math.inf
    vec = np.empty(args.n)
    for _ in range(args.repeats):
        start = time.perf_counter()
        for model, m in models.items():
            vec[m] = implied_vol(model, p[m], b["s"][m], b["k"][m], b["t"][m], b["r"][m],
                                 b["q"][m], b["w"][m])
        best = min(best, time.perf_counter() - start)

    ref = np.empty(args.n)
    start = time.perf_counter()
    for i in range(args.n):
        model = PricingModel.BLACK_76 if b["model_is_b76"][i] else PricingModel.BLACK_SCHOLES
        ref[i] = implied_vol_scalar(model, p[i], b["s"][i], b["k"][i], b["t"][i], b["r"][i],
                                    b["q"][i], int(b["w"][i]))
    scalar = time.perf_counter() - start

    vega = np.empty(args.n)
    for model, m in models.items():
        vega[m] = greeks(model, b["s"][m], b["k"][m], b["t"][m], b["r"][m], b["q"][m],
                         b["v"][m], b["w"][m]).vega_pts_per_vol_pt
    pinned = (vega > 1e-4) & np.isfinite(ref)
    worst = float(np.max(np.abs(vec[pinned] - ref[pinned])))
    print(f"options: {args.n:,}  solved: vectorised {np.isfinite(vec).mean():.2%}, "
          f"reference {np.isfinite(ref).mean():.2%}; max |IV diff| where pinned {worst:.2e}")
    print(f"vectorised implied_vol : {best * 1e3:9.1f} ms  {args.n / best:12,.0f} options/s")
    print(f"scalar reference       : {scalar * 1e3:9.1f} ms  {args.n / scalar:12,.0f} options/s")
    print(f"speed ratio (vectorised / reference): {scalar / best:,.0f}x")


if __name__ == "__main__":
    main()
