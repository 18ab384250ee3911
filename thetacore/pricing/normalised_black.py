"""Implied total volatility of the normalised Black price, vectorised over numpy arrays.

The method follows Peter Jäckel, "Let's Be Rational", Wilmott 2015(75), pp. 40-53 (the
method behind vollib / ``py_lets_be_rational``): reduce every option to an out-of-the-money
call on the *normalised* Black price

    b(x, s) = e^{x/2} N(x/s + s/2) - e^{-x/2} N(x/s - s/2),   x = ln(F/K) <= 0,  s = sigma sqrt(T)

(prices divided by ``sqrt(F K)`` and undiscounted; an OTM put at ``x`` is the call at
``-x``), split the price axis into three regions around the inflection point
``s_c = sqrt(2|x|)`` (Jäckel section 3: ``s_c``, ``s_u = s_c + (b_max - b_c) / b'(s_c)``),
start from a region-wise initial guess and run third-order Householder steps on a
region-wise objective (Jäckel sections 4-5):

* low region ``beta < b(s_c)``: ``f = ln b(s) - ln beta``, with ``ln b`` computed through
  ``ndtr`` (:func:`thetacore.pricing.black_steps.step_low_ndtr`) or, for prices below ``e^-30``, the scaled complementary
  error function ``erfcx`` so that nothing underflows however small the price; guess: a
  few Newton steps, arithmetic only, on ``ln b`` with the Mills ratio of Börjesson and
  Sundberg (1979) in place of ``erfcx`` (:func:`_low_guess`);
* middle region: ``f = b(s) - beta`` (``erf`` form: no cancellation at the money); guess
  from the tangent at ``s_c`` and the trapezoid rule on ``b'`` (:func:`_mid_guess`;
  Jäckel's chord through ``(s_u, b_u)`` is 25 % off at worst and costs two ``erf``);
* high region ``beta > b(s_u)``: ``f = ln(b_max - b(s)) - ln(b_max - beta)``; guess from the
  large-``s`` asymptote ``b_max - b ~ 2 cosh(x/2) N(-s/2)``.

The derivatives of ``b`` in ``s`` are closed-form: ``b' = exp(-(x^2/s^2 + s^2/4)/2) /
sqrt(2 pi)``, ``b''/b' = x^2/s^3 - s/4``, ``b'''/b' = (b''/b')^2 - 3 x^2/s^4 - 1/4``
(Jäckel eq. 4.5-4.7). As with Jäckel's rational-cubic initial guesses, two steps reach
machine precision for nearly every element (99.5 % on the benchmark book; histogram in
:data:`LAST_STEPS`); the steps are :mod:`thetacore.pricing.black_steps`, the step loop
:mod:`thetacore.pricing.householder_loop`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import erf, ndtr, ndtri

from thetacore.pricing.black_steps import (
    INV_SQRT_2PI,
    LN_BETA_NDTR,
    b_erf,
    step_both,
    step_both_fallback,
    step_high,
    step_low,
    step_low_ndtr,
    step_mid,
)
from thetacore.pricing.householder_loop import Counts, add_counts, indices, per_element, solve
from thetacore.pricing.models import FloatArray

_LN_SQRT_2PI = 0.9189385332046728
_SQRT_2PI = 2.5066282746310002
LAST_STEPS: list[int] = []
"""Histogram of the last call: ``LAST_STEPS[k]`` elements took ``k`` Householder steps."""


_BS_A, _BS_B = 0.339, 5.510
"""Börjesson and Sundberg (1979), IEEE Trans. Commun. 27(3): Mills ratio ``N(-z)/n(z) ~
1 / ((1 - a) z + a sqrt(z^2 + b))`` for ``z >= 0``, 0.27 % at worst."""
_GUESS_STEPS = 2
_START_SCALE = 1.5
"""The low guess starts at this multiple of the larger of two lower bounds of ``s`` (see
:func:`_low_guess`); the bounds are 30-70 % low (median 53 % on the benchmark book), so
1.5 x starts within about 50 % either side, where two Newton steps in ``ln s`` bring every
element of the benchmark book and the LT112 ES chains to within about 5 %."""


def _low_guess(x: FloatArray, ln_beta: FloatArray, s_c: FloatArray) -> FloatArray:
    """Initial guess below the inflection point (``0 < beta < b_c``), arithmetic only.

    ``b = e^E (M(z1) - M(z2)) / sqrt(2 pi)`` exactly (``M`` the Mills ratio, ``E`` and ``z1,2``
    as :func:`terms`; ``-2E = z1^2 + |x|``); with Börjesson and Sundberg's ``M`` (``_BS_A``,
    ``_BS_B``; the difference ``D = M(z1) - M(z2)`` taken without cancellation) ``ln b`` is
    within about 1 % of the truth. Start: ``_START_SCALE`` times the larger of two lower
    bounds of the solution, ``|x| / sqrt(-2 ln beta)`` (from ``b <= s b'(s)`` and
    ``s < sqrt(2 pi)``) and ``sqrt(2 pi) beta`` (from ``b' <= 1/sqrt(2 pi)``), capped at
    ``s_c``. Then ``_GUESS_STEPS`` Newton steps in ``y = ln s`` (``d ln b / d ln s = s / D``;
    ``ln b`` is near linear in ``ln s`` at the money and concave below ``s_c``, where Newton
    in ``1/s^2`` overshoots), each capped at ``s_c``: within about 5 % of the solution on the
    benchmark book and the LT112 ES chains (median 0.3 %), so two Householder steps reach
    machine precision for nearly all (``tests/pricing/test_iv_accuracy.py``).
    """
    ax = -x
    ln_s_c = np.log(s_c)
    s = ax / np.sqrt(-2.0 * ln_beta)
    np.maximum(s, _SQRT_2PI * np.exp(ln_beta), out=s)
    s *= _START_SCALE
    np.minimum(s, s_c, out=s)
    y = np.log(s)
    target = ln_beta + _LN_SQRT_2PI  # f = ln D + E - target, E = -(z1^2 + |x|) / 2
    target += 0.5 * ax
    c1 = (1.0 - _BS_A) / _BS_A  # Mills ratio as 1 / (a (r + c1 z))
    for k in range(_GUESS_STEPS):  # in-place arithmetic: fewer temporaries
        if k:
            s = np.exp(y)
        ax_s = ax / s
        z1 = ax_s - 0.5 * s
        z2 = z1 + s
        zz = z1 * z1
        r1 = zz + _BS_B
        np.sqrt(r1, out=r1)
        r2 = z2 * z2
        r2 += _BS_B
        np.sqrt(r2, out=r2)
        ax_s *= 2.0 / _BS_A  # (z1 + z2) / (a (r1 + r2)) + c1 / a
        ax_s /= r1 + r2
        ax_s += c1 / _BS_A
        z1 *= c1
        z1 += r1
        z2 *= c1
        z2 += r2
        z1 *= z2
        ax_s /= z1  # q = D / s, D = M(z1) - M(z2) without cancellation
        f = np.log(ax_s)
        f += y
        zz *= 0.5
        f -= zz
        f -= target
        f *= ax_s
        y -= f  # Newton in ln s: dy = -f / (s / D)
        np.minimum(y, ln_s_c, out=y)
    out: FloatArray = np.exp(y)
    if not out.min(initial=np.inf) > 0:  # NaN from a degenerate element: bisection start
        bad = ~(out > 0)
        out[bad] = 0.5 * s_c[bad]
    return out


def normalised_implied_vol(beta: FloatArray, x: FloatArray, b_max: FloatArray | None = None) -> FloatArray:
    """Total implied volatility ``s = sigma sqrt(T)`` of normalised OTM call prices.

    Regions and initial guesses as Jäckel section 3 (see the module docstring): ``s_c =
    sqrt(2|x|)``, ``b_c = b(s_c)``, ``s_u = s_c + (b_max - b_c)/b'(s_c)``, ``b_u = b(s_u)``.

    Args:
        beta: ``(n,)`` normalised undiscounted OTM price ``P / sqrt(F K)``, strictly inside
            ``(0, e^{x/2})`` (the caller checks the bounds).
        x: ``(n,)`` ``-|ln(F/K)|``.
        b_max: ``(n,)`` ``e^{x/2}`` if the caller has it (else computed here).

    Returns:
        ``(n,)`` float64 ``s``, accurate to about 1e-14 relative where the price pins it.
        :data:`LAST_STEPS` receives the histogram of steps taken.
    """
    with np.errstate(all="ignore"):
        out, counts = solve_normalised(beta, x, np.exp(0.5 * x) if b_max is None else b_max)
    record_steps(counts)
    return out


def record_steps(counts: Counts) -> None:
    """Store a step histogram in :data:`LAST_STEPS` (without trailing zeros)."""
    steps = counts.tolist()
    while steps and steps[-1] == 0:
        steps.pop()
    LAST_STEPS[:] = steps


_ONE_PASS_MAX = 512
"""Up to this many elements a block with low and middle elements takes one pass: both
initial guesses and both steps on every element, picked with ``np.where`` (numpy's fixed
cost per call dominates there); above it each region is gathered and solved apart (the
wasted arithmetic would cost more than the gathers)."""


def solve_normalised(beta: FloatArray, x: FloatArray, b_max: FloatArray) -> tuple[FloatArray, Counts]:
    """:func:`normalised_implied_vol` without its ``np.errstate`` (the caller ignores numpy
    floating-point errors) and without recording: ``(s, counts)``, ``counts[k]`` the number
    of elements that took ``k`` steps.

    Low and middle elements as :func:`_low_and_mid`; elements in the high region, if any,
    apart.
    """
    sinh_half, s_c, b_c, ln_beta = regions(beta, x, b_max)
    below = beta < b_c
    n_low = int(np.count_nonzero(below))
    if n_low == beta.size:  # one region: no gathers
        return solve_low(x, ln_beta, s_c, b_max)
    return _not_low(x, beta, ln_beta, b_max, sinh_half, s_c, b_c, below if n_low else None)


def regions(beta: FloatArray, x: FloatArray, b_max: FloatArray,
            out: tuple[FloatArray, ...] | None = None) -> tuple[FloatArray, ...]:
    """``(sinh(x/2), s_c, b_c, ln beta)`` of each element (Jäckel section 3): the low region
    is ``beta < b_c``. Elementwise, so a caller may compute them on one block and solve the
    elements in other groupings (:func:`solve_low`, :func:`solve_not_low`) with the same
    numbers. ``out``: four arrays to write them into (the same operations)."""
    rows = (None, None, None, None) if out is None else out
    sinh_half = np.subtract(b_max, 1.0 / b_max, out=rows[0])  # in-place below: fewer temporaries
    sinh_half *= 0.5
    s_c = np.multiply(-2.0, x, out=rows[1])
    np.sqrt(s_c, out=s_c)
    b_c = np.negative(x, out=rows[2])
    np.sqrt(b_c, out=b_c)
    erf(b_c, out=b_c)
    b_c *= 0.5
    b_c /= b_max
    b_c += sinh_half  # b(s_c): z1 = 0, z2 = s_c
    # ln beta into a new array, then copied: numpy 1.26 (LEAN's image) takes its scalar
    # loop, not the SIMD one, for a log whose output is another view of the input's buffer
    # (the caller's rows of one (7, n) array), and the two differ in the last bit
    ln_beta = np.log(beta)
    if rows[3] is None:
        return sinh_half, s_c, b_c, ln_beta
    np.copyto(rows[3], ln_beta)
    return sinh_half, s_c, b_c, rows[3]


def solve_low(x: FloatArray, ln_beta: FloatArray, s_c: FloatArray, b_max: FloatArray) -> tuple[FloatArray, Counts]:
    """``(s, counts)`` of elements all in the low region (``beta < b_c``, :func:`regions`)."""
    return _solve_low(x, ln_beta, s_c, b_max, _low_guess(x, ln_beta, s_c))


def solve_not_low(x: FloatArray, beta: FloatArray, ln_beta: FloatArray, b_max: FloatArray, sinh_half: FloatArray,
                  s_c: FloatArray, b_c: FloatArray) -> tuple[FloatArray, Counts]:
    """``(s, counts)`` of elements none of which is in the low region (:func:`regions`):
    middle and high, as :func:`solve_normalised` solves them."""
    return _not_low(x, beta, ln_beta, b_max, sinh_half, s_c, b_c, None)


def _not_low(x: FloatArray, beta: FloatArray, ln_beta: FloatArray, b_max: FloatArray, sinh_half: FloatArray,
             s_c: FloatArray, b_c: FloatArray, below: npt.NDArray[np.bool_] | None) -> tuple[FloatArray, Counts]:
    """:func:`solve_normalised` after :func:`regions` for a block with middle elements
    (``below``: the low ones, None if there are none)."""
    n = beta.size
    n_low = 0 if below is None else int(np.count_nonzero(below))
    s_u = b_max - b_c
    s_u /= INV_SQRT_2PI * b_max  # b'(s_c) = e^{-|x|/2} / sqrt(2 pi)
    s_u += s_c
    above = _high(x, beta, b_max, sinh_half, s_c, b_c, s_u, below)
    if above is None:
        return _low_and_mid(x, beta, ln_beta, b_max, sinh_half, s_c, b_c, s_u, below, n_low)
    rest, high = indices(~above), indices(above)
    out = np.empty(n)
    out[rest], counts = _low_and_mid(x[rest], beta[rest], ln_beta[rest], b_max[rest], sinh_half[rest], s_c[rest],
                                     b_c[rest], s_u[rest], None if below is None else below[rest], n_low)
    xh, cb = x[high], b_max[high] - beta[high]
    s0 = np.maximum(-2.0 * ndtri(0.5 * cb / np.cosh(0.5 * xh)), s_u[high])
    out[high], counts_high = solve(step_high, xh, s0, np.log(cb), b_max[high])
    return out, add_counts(per_element(counts, rest), per_element(counts_high, high))


def _low_and_mid(x: FloatArray, beta: FloatArray, ln_beta: FloatArray, b_max: FloatArray, sinh_half: FloatArray,
                 s_c: FloatArray, b_c: FloatArray, s_u: FloatArray, below: npt.NDArray[np.bool_] | None,
                 n_low: int) -> tuple[FloatArray, Counts]:
    """``(s, counts)`` of low- and middle-region elements (``below``: low; ``n_low`` of them
    in the whole block, 0 meaning none here either), each from its region's guess on its
    region's objective: one pass of :func:`step_both` up to :data:`_ONE_PASS_MAX`
    elements, else each region gathered and solved apart (the same numbers)."""
    n = beta.size
    if n_low == 0 or below is None:
        return solve(step_mid, x, _mid_guess(x, beta, s_c, b_c, b_max, s_u), beta, b_max, sinh_half)
    if n <= _ONE_PASS_MAX:
        s0 = np.where(below, _low_guess(x, ln_beta, s_c), _mid_guess(x, beta, s_c, b_c, b_max, s_u))
        consts = (ln_beta, b_max, beta, sinh_half, below)
        return solve(step_both, x, s0, *consts, fallback=(step_both_fallback, consts),
                     trusted=~below | (ln_beta > LN_BETA_NDTR))
    low, rest = indices(below), indices(~below)
    out = np.empty(n)
    xl, ln_beta_l, s_c_l = x[low], ln_beta[low], s_c[low]
    out[low], counts = _solve_low(xl, ln_beta_l, s_c_l, b_max[low], _low_guess(xl, ln_beta_l, s_c_l))
    xr, beta_r, b_max_r = x[rest], beta[rest], b_max[rest]
    s0 = _mid_guess(xr, beta_r, s_c[rest], b_c[rest], b_max_r, s_u[rest])
    out[rest], counts_mid = solve(step_mid, xr, s0, beta_r, b_max_r, sinh_half[rest])
    return out, add_counts(per_element(counts, low), per_element(counts_mid, rest))


def _high(x: FloatArray, beta: FloatArray, b_max: FloatArray, sinh_half: FloatArray, s_c: FloatArray,
          b_c: FloatArray, s_u: FloatArray, below: npt.NDArray[np.bool_] | None) -> npt.NDArray[np.bool_] | None:
    """The elements not ``below`` in the high region, ``beta > b_u = b(s_u)``, or None if
    there are none.

    ``b_u`` (two ``erf``) is computed only where ``beta`` exceeds its lower bound ``b_c +
    (s_u - s_c) b'(s_u)`` (``b`` is concave above ``s_c``, so its slope on ``[s_c, s_u]`` is
    at least ``b'(s_u)``).
    """
    maybe = beta > b_c + (s_u - s_c) * _b_prime(x, s_u)
    if below is not None:
        maybe &= ~below
    if not maybe.any():
        return None
    idx = np.flatnonzero(maybe)
    xi, s_ui = x[idx], s_u[idx]
    z1 = -xi / s_ui - 0.5 * s_ui
    high = beta[idx] > b_erf(z1, z1 + s_ui, b_max[idx], sinh_half[idx])
    if not high.any():
        return None
    above = np.zeros(beta.size, dtype=bool)
    above[idx[high]] = True
    return above


def _solve_low(x: FloatArray, ln_beta: FloatArray, s_c: FloatArray, b_max: FloatArray,
               s0: FloatArray) -> tuple[FloatArray, Counts]:
    """``(s, counts)`` on ``ln b(s) - ln beta`` from ``s0``: ``ndtr`` steps where ``ln beta``
    is above :data:`LN_BETA_NDTR`, ``erfcx`` for the rest and for any third step."""
    return solve(step_low_ndtr, x, s0, ln_beta, b_max, fallback=(step_low, (ln_beta,)),
                 trusted=ln_beta > LN_BETA_NDTR)


def _b_prime(x: FloatArray, s: FloatArray) -> FloatArray:
    """``b'(s) = exp(-(x^2/s^2 + s^2/4)/2) / sqrt(2 pi)`` (Jäckel eq. 4.5)."""
    e = x / s
    e *= e
    e += 0.25 * s * s
    e *= -0.5
    np.exp(e, out=e)
    e *= INV_SQRT_2PI
    return e


def _mid_guess(x: FloatArray, beta: FloatArray, s_c: FloatArray, b_c: FloatArray, b_max: FloatArray,
               s_u: FloatArray) -> FloatArray:
    """Initial guess at or above the inflection point, exp only: the tangent at ``s_c``
    gives ``s_t = s_c + (beta - b_c) / b'(s_c)`` (below the solution: ``b`` is concave
    there), then the trapezoid rule on ``b'`` over ``[s_c, s_t]``: ``s_c + 2 (beta - b_c) /
    (b'(s_c) + b'(s_t))``. Within about 4 % of the solution on the benchmark book (median
    0.3 %; the chord of Jäckel section 3 through ``(s_u, b(s_u))``: 25 %, median 11 %, and
    two more ``erf``)."""
    bp_c = INV_SQRT_2PI * b_max
    d = beta - b_c
    s_t = d / bp_c
    s_t += s_c
    bp_c += _b_prime(x, s_t)
    d *= 2.0
    d /= bp_c
    d += s_c
    if not (d.min(initial=np.inf) > 0 and d.max(initial=0.0) < np.inf):  # a degenerate element
        bad = ~((d > 0) & (d < np.inf))  # (b' underflows): the old chord's start
        d[bad] = 0.5 * s_u[bad]
    return d


def normalised_call(x: FloatArray, s: FloatArray) -> FloatArray:
    """Normalised Black call ``b(x, s)`` with ``ndtr`` (tests and diagnostics)."""
    out: FloatArray = np.exp(0.5 * x) * ndtr(x / s + 0.5 * s) - np.exp(-0.5 * x) * ndtr(x / s - 0.5 * s)
    return out
