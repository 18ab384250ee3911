"""Third-order Householder steps on whole arrays, for :mod:`thetacore.pricing.normalised_black`.

:func:`solve` takes two steps on every element without bookkeeping (the initial guesses
are close), a third on the few whose second step was not yet below ``_FINAL_STEP``, and
hands any element still unconverged (or not finite) to :func:`iterate`, where every element
keeps a bracket from the sign of the objective and bisects (geometrically) if a step would
leave it. Step formula: Jäckel, "Let's Be Rational", Wilmott 2015, eq. 5.3.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from thetacore.pricing.models import FloatArray

_MAX_STEPS = 30
_FINAL_STEP = 1e-5
"""A Householder step below this (relative to s) is the last one: the error after it is
of order (1e-8)^3, far under the rounding of s."""

Arrays = tuple[FloatArray, ...]
Counts = npt.NDArray[np.int64]
StepFn = Callable[..., tuple[FloatArray, FloatArray]]


def indices(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.intp]:
    """``np.flatnonzero(mask)``, with a lone index repeated: the subset it gathers then has
    two (equal) elements, and scattering both back writes the same number twice. NumPy's
    in-place ufuncs (``out=`` an input) take about twice as long on one-element arrays as on
    two-element ones (0.8 vs 0.4 us, numpy 2.4 on this machine), and the solver's arithmetic
    is in place."""
    return repeat_lone(np.flatnonzero(mask))


def repeat_lone(idx: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """``idx`` with a lone index repeated (see :func:`indices`)."""
    return idx.repeat(2) if idx.size == 1 else idx


def per_element(counts: Counts, idx: npt.NDArray[np.intp]) -> Counts:
    """Step ``counts`` of a subset gathered with ``idx`` (from :func:`indices` or
    :func:`repeat_lone`), per distinct element: a lone index gathered twice counts once."""
    return counts // 2 if idx.size == 2 and idx[0] == idx[1] else counts


def householder(nu: FloatArray, h2: FloatArray, h3: FloatArray) -> FloatArray:
    """Third-order Householder step from the Newton step ``nu = -f/f'``, ``h2 = f''/f'`` and
    ``h3 = f'''/f'`` (Jäckel eq. 5.3); ``h3`` is overwritten."""
    num = 0.5 * h2
    num *= nu
    num += 1.0
    num *= nu
    h3 *= nu
    h3 *= 1.0 / 6.0
    h3 += h2
    h3 *= nu
    h3 += 1.0
    num /= h3
    return num


def iterate(step: StepFn, x: FloatArray, s: FloatArray, *consts: FloatArray) -> Arrays:
    """Householder steps until each element's step is below ``_FINAL_STEP``; a bracket from
    the sign of ``f`` catches a step that would leave it (then a geometric bisection).

    Returns:
        ``(s, steps)``: the solution and the number of steps each element took.
    """
    n = s.size
    out, steps = np.empty(n), np.zeros(n)
    active = np.arange(n)
    lo, hi = np.zeros(n), np.full(n, np.inf)
    args = (x, *consts)
    for k in range(1, _MAX_STEPS + 1):
        if active.size == 0:
            break
        delta, f = step(args[0], s, *args[1:])
        np.copyto(lo, s, where=f < 0)
        np.copyto(hi, s, where=f > 0)
        new = s + delta
        final = np.abs(delta) <= _FINAL_STEP * s
        # a step this small ends the iteration even when s + step rounds onto a bracket end
        bad = ~(final | ((new > lo) & (new < hi)))  # also NaN steps
        if bad.any():
            lo_b, hi_b, s_b = lo[bad], hi[bad], s[bad]
            new[bad] = np.where(np.isfinite(hi_b),
                                np.where(lo_b > 0, np.sqrt(lo_b * hi_b), 0.5 * hi_b), 2.0 * s_b)
        final |= f == 0
        if final.any():
            new = np.where(f == 0, s, new)
            out[active[final]] = new[final]
            steps[active[final]] = k
            keep = ~final
            active, new, lo, hi = active[keep], new[keep], lo[keep], hi[keep]
            args = tuple(a[keep] for a in args)
        s = new
    out[active] = s
    steps[active] = _MAX_STEPS
    return out, steps


def solve(step: StepFn, x: FloatArray, s0: FloatArray, *consts: FloatArray,
          fallback: tuple[StepFn, Arrays] | None = None,
          trusted: npt.NDArray[np.bool_] | None = None) -> tuple[FloatArray, Counts]:
    """Two Householder steps on the whole array and a third on the elements whose second
    step was not below ``_FINAL_STEP`` (no bracket bookkeeping: the guesses are close), then
    :func:`iterate` from the initial guess for any element still unconverged or not finite
    -- the acceptance rule of :func:`iterate`.

    Args:
        step, consts: the step function and its per-element constants.
        fallback: ``(step, consts)`` for the third step and :func:`iterate` (default: the
            same), for a fast ``step`` that is not valid everywhere.
        trusted: elements where ``step`` is valid (default: all); the others take the two
            steps and then at least one of ``fallback``.

    Returns:
        ``(s, counts)``: the solution and ``counts[k]``, the number of elements that took
        ``k`` steps (at least 3 entries).
    """
    d0, f0 = step(x, s0, *consts)
    s1 = s0 + d0
    d1, _ = step(x, s1, *consts)
    out = s1 + d1
    done = np.abs(d1) <= _FINAL_STEP * s1
    done &= s1 > 0
    done &= out > 0  # also False for NaN
    zero = f0 == 0
    n_zero = int(np.count_nonzero(zero))
    if n_zero:
        out[zero], done[zero] = s0[zero], True
    if trusted is not None:
        done &= trusted
    if done.all():  # the common case: no per-element step counts
        return out, np.array([0, n_zero, s0.size - n_zero], dtype=np.int64)
    steps = np.full(s0.size, 2.0)
    steps[zero] = 1.0
    step, consts = fallback if fallback is not None else (step, consts)
    redo = np.flatnonzero(~done)  # distinct indices: the counts below count elements
    s2 = out[redo]
    d2, _ = step(x[redo], s2, *(c[redo] for c in consts))
    out[redo] = s2 + d2
    steps[redo] = 3.0
    ok = (np.abs(d2) <= _FINAL_STEP * s2) & (s2 > 0) & (out[redo] > 0)
    if not ok.all():
        rest = redo[~ok]
        out[rest], steps[rest] = iterate(step, x[rest], s0[rest], *(c[rest] for c in consts))
    return out, np.bincount(steps.astype(np.int64), minlength=3)


def add_counts(a: Counts, b: Counts) -> Counts:
    """Elementwise sum of two step histograms of any lengths."""
    if a.size < b.size:
        a, b = b, a
    out = a.copy()
    out[:b.size] += b
    return out
