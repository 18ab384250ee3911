"""Householder steps on the normalised Black price ``b(x, s)``, one objective per region,
for :mod:`thetacore.pricing.normalised_black` (definitions, regions and sources there).

Each ``step_*`` takes ``(x, s, *consts)`` and returns ``(step, f)``: the third-order
Householder step in ``s`` (Jäckel, "Let's Be Rational", Wilmott 2015, eq. 5.3, through
:func:`thetacore.pricing.householder_loop.householder`) and the objective ``f``, whose sign
says whether ``s`` is too high (``f > 0``). Derivatives of ``b``: Jäckel eq. 4.5-4.7.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import erf, erfcx, ndtr

from thetacore.pricing.householder_loop import Arrays, householder
from thetacore.pricing.models import FloatArray

INV_SQRT_2PI = 0.3989422804014327
INV_SQRT2 = 0.7071067811865476


def moments(x: FloatArray, s: FloatArray) -> Arrays:
    """``(x/s, s/2, E, q, r3)``: ``E = ln(sqrt(2 pi) b') = -(x^2/s^2 + s^2/4)/2``, ``q =
    b''/b'`` and ``r3 = b'''/b'`` (Jäckel eq. 4.5-4.7). ``x/s <= 0``: ``z1 = -x/s - s/2``,
    ``z2 = -x/s + s/2``, so ``-z1 = s/2 + x/s`` and ``-z2 = x/s - s/2`` need no negation."""
    inv_s = 1.0 / s
    xs = x * inv_s  # in-place below: fewer temporaries
    half_s = 0.5 * s
    ax_s2 = xs * xs
    x2_s3 = ax_s2 * inv_s
    q = x2_s3 - 0.5 * half_s
    x2_s3 *= inv_s
    r3 = q * q
    r3 -= 3.0 * x2_s3
    r3 -= 0.25
    ax_s2 += half_s * half_s
    ax_s2 *= -0.5
    return xs, half_s, ax_s2, q, r3


def terms(x: FloatArray, s: FloatArray) -> Arrays:
    """``(z1, z2, E, q, r3)``: ``z1,2 = |x|/s -/+ s/2``, the rest as :func:`moments`."""
    xs, half_s, log_e, q, r3 = moments(x, s)
    np.negative(xs, out=xs)
    return xs - half_s, xs + half_s, log_e, q, r3


def b_erf(z1: FloatArray, z2: FloatArray, b_max: FloatArray, sinh_half: FloatArray) -> FloatArray:
    """``b = sinh(x/2) + (e^{x/2} erf(-z1/sqrt2) + e^{-x/2} erf(z2/sqrt2)) / 2``: accurate
    near and above the inflection point, also at ``x = 0`` and small ``s``."""
    out: FloatArray = 0.5 * (b_max * erf(-z1 * INV_SQRT2) + erf(z2 * INV_SQRT2) / b_max) + sinh_half
    return out


def ln_b_erfcx(z1: FloatArray, z2: FloatArray, log_e: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(ln b, b'/b)`` from ``b = e^E (erfcx(z1/sqrt2) - erfcx(z2/sqrt2)) / 2``
    (``N(-z) = erfcx(z/sqrt2) e^{-z^2/2} / 2`` and ``x/2 - z1^2/2 = -x/2 - z2^2/2 = E``):
    no underflow however small ``b`` is (low region)."""
    diff = erfcx(z1 * INV_SQRT2) - erfcx(z2 * INV_SQRT2)
    return log_e + np.log(0.5 * diff), 2.0 * INV_SQRT_2PI / diff


def step_low(x: FloatArray, s: FloatArray, ln_beta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(step, f)`` on ``f = ln b(s) - ln beta``; ``f > 0`` means ``s`` is too high."""
    z1, z2, log_e, q, r3 = terms(x, s)
    ln_b, g = ln_b_erfcx(z1, z2, log_e)
    f = ln_b - ln_beta
    return householder(-f / g, q - g, r3 - 3.0 * q * g + 2.0 * g * g), f


LN_BETA_NDTR = -30.0
"""Below this ``ln beta`` the low region uses only :func:`step_low` (``erfcx``). ``ndtr(-z)``
carries a relative error of about ``z^2`` ulps at large ``z`` (the rounding of its
argument), which the cancellation between the two terms of ``b`` at small ``s`` amplifies;
above ``ln beta = -30`` (``z <~ 8``) the solution stays within about 1e-13 relative of the
``erfcx`` route on the benchmark book (-300 would give 5e-13), and nothing underflows."""


def step_low_ndtr(x: FloatArray, s: FloatArray, ln_beta: FloatArray,
                   b_max: FloatArray) -> tuple[FloatArray, FloatArray]:
    """:func:`step_low` with ``b = e^{x/2} N(-z1) - e^{-x/2} N(-z2)`` from ``ndtr`` (half
    the cost of ``erfcx``; the same two terms, so the same cancellation), ``b'/b = e^E /
    (sqrt(2 pi) b)``. Valid while neither term underflows (see :data:`LN_BETA_NDTR`)."""
    return low_ndtr(moments(x, s), ln_beta, b_max)


def low_ndtr(moments: Arrays, ln_beta: FloatArray, b_max: FloatArray) -> tuple[FloatArray, FloatArray]:
    """:func:`step_low_ndtr` from :func:`moments` (``x/s`` and ``r3`` overwritten)."""
    xs, half_s, log_e, q, r3 = moments
    b = half_s + xs  # -z1
    ndtr(b, out=b)
    b *= b_max
    xs -= half_s  # -z2
    ndtr(xs, out=xs)
    xs /= b_max
    b -= xs
    g = np.exp(log_e)
    g *= INV_SQRT_2PI
    g /= b
    f = np.log(b)
    f -= ln_beta
    r3 -= 3.0 * q * g
    r3 += 2.0 * g * g
    return householder(-f / g, q - g, r3), f


def step_mid(x: FloatArray, s: FloatArray, beta: FloatArray, b_max: FloatArray,
              sinh_half: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(step, f)`` on ``f = b(s) - beta``, ``b`` as :func:`b_erf` (no cancellation at
    ``x = 0`` and small ``s``, where the ``ndtr`` form loses digits)."""
    return mid_erf(moments(x, s), beta, b_max, sinh_half)


def _b_erf_minus_beta(f: FloatArray, xs: FloatArray, half_s: FloatArray, b_max: FloatArray,
                      sinh_half: FloatArray, beta: FloatArray, *, work: FloatArray) -> None:
    """``f <- b(s) - beta`` in the ``erf`` form of :func:`b_erf`, in place: ``f`` holds
    ``-z1 / sqrt2`` on entry; ``work`` (may be ``xs``: read before it is written) is
    overwritten. One sequence of operations for :func:`mid_erf` and :func:`step_both`, so
    their middle-region numbers are the same bit for bit."""
    erf(f, out=f)
    f *= b_max
    np.subtract(half_s, xs, out=work)  # z2
    work *= INV_SQRT2
    erf(work, out=work)
    work /= b_max
    f += work
    f *= 0.5
    f += sinh_half
    f -= beta


def mid_erf(moments: Arrays, beta: FloatArray, b_max: FloatArray,
             sinh_half: FloatArray) -> tuple[FloatArray, FloatArray]:
    """:func:`step_mid` from :func:`moments` (``x/s``, ``E`` and ``r3`` overwritten)."""
    xs, half_s, log_e, q, r3 = moments
    f = half_s + xs  # -z1
    f *= INV_SQRT2
    _b_erf_minus_beta(f, xs, half_s, b_max, sinh_half, beta, work=xs)
    np.exp(log_e, out=log_e)
    log_e *= INV_SQRT_2PI
    return householder(-f / log_e, q, r3), f


def step_both(x: FloatArray, s: FloatArray, ln_beta: FloatArray, b_max: FloatArray, beta: FloatArray,
               sinh_half: FloatArray, below: npt.NDArray[np.bool_]) -> tuple[FloatArray, FloatArray]:
    """One step over a small block with low (``below``) and middle elements: each element
    gets its own region's step, number for number (:func:`low_ndtr`, :func:`mid_erf`:
    the same operations in the same order), from one :func:`moments` and one Householder
    step -- cheaper there than gathering each region and stepping it apart. For a middle
    element ``g`` is 0: ``q - 0 = q`` and ``r3 - 3 q 0 + 2 0 0 = r3`` exactly."""
    xs, half_s, log_e, q, r3 = moments(x, s)
    b = half_s + xs  # low: b from ndtr
    f_mid = b * INV_SQRT2  # middle: b from erf
    ndtr(b, out=b)
    b *= b_max
    z = xs - half_s
    ndtr(z, out=z)
    z /= b_max
    b -= z
    _b_erf_minus_beta(f_mid, xs, half_s, b_max, sinh_half, beta, work=z)
    np.exp(log_e, out=log_e)
    log_e *= INV_SQRT_2PI  # b'
    g = log_e / b
    f = np.log(b)
    f -= ln_beta
    np.copyto(f, f_mid, where=~below)
    nu = -f / np.where(below, g, log_e)
    g[~below] = 0.0
    r3 -= 3.0 * q * g
    r3 += 2.0 * g * g
    return householder(nu, q - g, r3), f


def step_both_fallback(x: FloatArray, s: FloatArray, ln_beta: FloatArray, b_max: FloatArray, beta: FloatArray,
                        sinh_half: FloatArray, below: npt.NDArray[np.bool_]) -> tuple[FloatArray, FloatArray]:
    """The fallback of :func:`step_both`: :func:`step_low` (``erfcx``) or :func:`step_mid`."""
    d_low, f_low = step_low(x, s, ln_beta)
    d_mid, f_mid = step_mid(x, s, beta, b_max, sinh_half)
    return np.where(below, d_low, d_mid), np.where(below, f_low, f_mid)


def step_high(x: FloatArray, s: FloatArray, ln_cbeta: FloatArray,
               b_max: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(step, f)`` on ``ln(b_max - b(s)) - ln(b_max - beta)`` with ``b_max - b =
    e^{x/2} N(z1) + e^{-x/2} N(-z2)``; the returned ``f`` has the sign of ``b(s) - beta``."""
    z1, z2, log_e, q, r3 = terms(x, s)
    c = b_max * ndtr(z1) + ndtr(-z2) / b_max
    gc = INV_SQRT_2PI * np.exp(log_e) / c
    f = ln_cbeta - np.log(c)
    return householder(-f / gc, q + gc, r3 + 3.0 * q * gc + 2.0 * gc * gc), f
