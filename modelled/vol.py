"""The MODELLED at-the-money volatility level: GARCH(1,1) on returns up to each day, plus a
variance premium. No value on day ``t`` depends on a return after ``t``.

Model (Bollerslev 1986, "Generalized autoregressive conditional heteroskedasticity", J.
Econometrics 31; fitted by the ``arch`` package, ``arch_model(..., vol="GARCH", p=1, q=1)``,
Gaussian quasi-likelihood, constant mean), daily returns ``r`` in percent:

    r_t = mu + e_t,   s2_{t+1} = omega + alpha e_t^2 + beta s2_t

* **Fit schedule.** The first fit is on day ``min_obs`` (the first ``min_obs`` returns); then
  every ``refit_every_days`` (default 63, a quarter; 21 gives VIX values within 0.6 points on
  the crisis days of ``docs/modelled-chains.md`` at 2.5 x the cost) trading days on the returns up to that day (expanding window, or
  the last ``window_days`` when given). Between refits the parameters stay fixed and the
  variance is filtered forward with each new return, so the 23-year run needs ~90 fits, not
  ~5,800. Refit days count from the start of the path, so cutting the path later never moves
  them (:mod:`tests.modelled.test_no_look_ahead`). A fit that does not converge keeps the
  previous parameters.
* **Filter.** Started at the mean squared residual of the first ``min_obs`` returns (always
  before every refit day); a missing return (a data gap longer than ``max_gap_days``) carries
  the variance forward by its expectation ``omega + (alpha + beta) s2``.
* **Term structure.** The mean of the forecast daily variances over the ``h = k 252 T``
  trading days to an expiry ``T`` years away,
  ``V_L + (s2_{t+1} - V_L)(1 - phi^h) / (h (1 - phi))`` with ``phi = alpha + beta`` and
  ``V_L = omega / (1 - phi)`` (the GARCH forecast; flat when ``phi >= 1``), annualised by
  252. ``k`` (``horizon_scale``) slows the mean reversion; it is calibrated on the one real
  chain with months-apart expiries inside the path's dates (ES 2020-01-06, an upward-sloping
  curve) and applies only while the curve slopes up (``s2_{t+1} < V_L``). When it slopes down
  (after a shock) the GARCH forecast is used as estimated (``k = 1``): no real chain in
  ``data/`` shows a downward-sloping curve to calibrate on, and the calm-day value would keep
  a crisis level for years (with ``k = 0.23`` on 2020-03-16 the 1-year level would be ~100 %).
* **Variance premium.** Implied volatility exceeds the volatility that follows: Carr and Wu
  (2009, "Variance risk premiums", Rev. Financial Studies 22) measure S&P 500 implied variance
  above realised variance on average; Bollerslev, Tauchen and Zhou (2009, RFS 22) likewise.
  The model multiplies the GARCH volatility by ``premium_vol_mult`` (default 1.2, a ratio of
  implied to realised volatility of the order of the average VIX, ~19.5, to the S&P 500's
  realised volatility, ~16, over 1990-2020). A documented constant, not fitted.
* **VIX** (:meth:`VolPath.vix`): 100 x the model's 30-calendar-day ATM level, labelled
  MODELLED (the real VIX is a variance-swap rate that also carries the skew; this is not it).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from arch import arch_model
from arch.utility.exceptions import StartingValueWarning
from scipy.signal import lfilter

from modelled import LABEL
from modelled.paths import UnderlyingPath

TRADING_DAYS_PER_YEAR = 252.0
VIX_HORIZON_YEARS = 30.0 / 365.0


@dataclass(frozen=True)
class GarchSettings:
    """Fit schedule and premium (module doc).

    Attributes:
        min_obs: returns before the first fit (first modelled day = path day ``min_obs``).
        refit_every_days: trading days between refits.
        window_days: rolling fit window in trading days; ``None`` = expanding.
        premium_vol_mult: implied / GARCH volatility ratio (variance premium).
        max_gap_days: calendar days between bars beyond which the return is treated as missing.
        horizon_scale: term-structure parameter: the GARCH forecast is averaged over
            ``horizon_scale x 252 T`` days instead of ``252 T`` while the curve slopes up
            (< 1 flattens it); 0.231 calibrated on the ES 2020-01-06 expiries
            (:func:`modelled.calibration.fit_horizon_scale`, with refits every 63 days and with
            every 21).
    """

    min_obs: int = 252
    refit_every_days: int = 63
    window_days: int | None = None
    premium_vol_mult: float = 1.2
    max_gap_days: int = 10
    horizon_scale: float = 0.231

    def __post_init__(self) -> None:
        if min(self.min_obs - 100, self.refit_every_days - 1) < 0 or min(self.horizon_scale, self.premium_vol_mult) <= 0:
            raise ValueError(f"bad GARCH settings {self}")
        if self.window_days is not None and self.window_days < self.min_obs:
            raise ValueError("window_days must be >= min_obs")


@dataclass(frozen=True, eq=False)
class VolPath:
    """Per-day model state, arrays ``(n,)`` aligned with the path's days (NaN before the first fit).

    Attributes:
        day: ``datetime64[D]``.
        var_next_pct2: forecast variance of the next day's return, percent^2 (``s2_{t+1}``).
        omega, alpha, beta: parameters in force on each day (fitted on or before it).
        fit_day: ``datetime64[D]`` of the fit whose parameters are in force.
        premium_vol_mult: the variance premium used.
        horizon_scale: the term-structure parameter used (:class:`GarchSettings`).
        label: ``"MODELLED"``.
    """

    day: np.ndarray
    var_next_pct2: np.ndarray
    omega: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    fit_day: np.ndarray
    premium_vol_mult: float
    horizon_scale: float = 1.0
    label: str = LABEL

    def index_of(self, day: np.datetime64) -> int:
        """Position of ``day``; KeyError when absent or before the first fit."""
        i = int(np.searchsorted(self.day, day))
        if i >= len(self.day) or self.day[i] != day or not np.isfinite(self.var_next_pct2[i]):
            raise KeyError(f"no modelled volatility on {day} (not a path day, or before the first fit)")
        return i

    def atm_iv_frac(self, i: int, t_years: np.ndarray) -> np.ndarray:
        """``(m,)`` MODELLED ATM implied volatility (fraction) on day ``i`` for expiries
        ``t_years`` away (module doc: GARCH term mean x premium); ``t_years <= 0`` gives NaN."""
        t = np.asarray(t_years, dtype=np.float64)
        phi = self.alpha[i] + self.beta[i]
        s2 = self.var_next_pct2[i]
        if phi < 0.9999:
            v_l = self.omega[i] / (1.0 - phi)
            scale = self.horizon_scale if s2 < v_l else 1.0  # upward curve only (module doc)
            h = np.maximum(scale * t * TRADING_DAYS_PER_YEAR, 1e-9)
            mean = v_l + (s2 - v_l) * (1.0 - phi ** h) / (h * (1.0 - phi))
        else:
            mean = np.full_like(t, s2)
        out: np.ndarray = np.where(t > 0, self.premium_vol_mult * np.sqrt(mean * TRADING_DAYS_PER_YEAR) / 100.0,
                                   np.nan)
        return out

    def vix(self, i: int) -> float:
        """MODELLED VIX on day ``i``: 100 x the 30-calendar-day ATM level (module doc)."""
        return float(100.0 * self.atm_iv_frac(i, np.array([VIX_HORIZON_YEARS]))[0])

    def vix_series(self) -> np.ndarray:
        """``(n,)`` MODELLED VIX of every day (NaN before the first fit), computed once."""
        cached = self.__dict__.get("_vix_series")
        if cached is None:
            horizon = np.array([VIX_HORIZON_YEARS])
            cached = np.array([100.0 * self.atm_iv_frac(i, horizon)[0] if np.isfinite(v) else np.nan
                               for i, v in enumerate(self.var_next_pct2.tolist())])
            cached.flags.writeable = False
            object.__setattr__(self, "_vix_series", cached)
        out: np.ndarray = cached
        return out


def _fit(returns_pct: np.ndarray, start: np.ndarray | None) -> np.ndarray | None:
    """``[mu, omega, alpha, beta]`` of a GARCH(1,1) fit, or None when it does not converge."""
    r = returns_pct[np.isfinite(returns_pct)]
    with warnings.catch_warnings():  # a warm start outside the constraints is dropped by arch: fine
        warnings.simplefilter("ignore", StartingValueWarning)
        res = arch_model(r, mean="Constant", vol="GARCH", p=1, q=1, dist="normal", rescale=False).fit(
            disp="off", show_warning=False, starting_values=start)
    if res.convergence_flag != 0:
        return None
    return np.asarray(res.params.to_numpy(), dtype=np.float64)


def _filter(resid: np.ndarray, omega: float, alpha: float, beta: float, s2_first: float) -> np.ndarray:
    """``(n,)`` ``s2_{t+1}`` for every day ``t`` (resid NaN = missing return, module doc)."""
    n = len(resid)
    out = np.empty(n)
    s2 = s2_first  # variance of the return on day 0's successor
    bounds = np.concatenate(([0], np.flatnonzero(~np.isfinite(resid)), [n]))
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        if lo < hi and not np.isfinite(resid[lo]):  # a missing return: expectation
            s2 = omega + (alpha + beta) * s2
            out[lo] = s2
            lo += 1
        if lo >= hi:
            continue
        x = omega + alpha * resid[lo:hi] ** 2
        seg, _ = lfilter([1.0], [1.0, -beta], x, zi=[beta * s2])
        out[lo:hi] = seg
        s2 = float(seg[-1])
    return out


def build_vol_path(path: UnderlyingPath, settings: GarchSettings | None = None) -> VolPath:
    """Fit and filter the model over ``path`` (module doc). Cost: one ``arch`` fit per refit day.

    Raises:
        ValueError: when the path has fewer than ``min_obs + 1`` days.
    """
    st = settings or GarchSettings()
    n = len(path)
    if n <= st.min_obs:
        raise ValueError(f"{path.ticker}: {n} days, the model needs more than {st.min_obs}")
    gap = np.zeros(n, dtype=bool)
    gap[1:] = np.diff(path.day).astype(np.int64) > st.max_gap_days
    ret = np.where(gap, np.nan, 100.0 * path.log_return)
    ret[0] = np.nan
    out = {k: np.full(n, np.nan) for k in ("var", "omega", "alpha", "beta")}
    fit_day = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    params: np.ndarray | None = None
    for start in range(st.min_obs, n, st.refit_every_days):
        lo = 1 if st.window_days is None else max(1, start + 1 - st.window_days)
        fitted = _fit(ret[lo:start + 1], params)
        params = fitted if fitted is not None else params
        if params is None:
            continue
        mu, omega, alpha, beta = (float(x) for x in params)
        stop = min(n, start + st.refit_every_days)
        resid = ret[:stop] - mu
        first = resid[1:st.min_obs + 1]
        s2 = _filter(resid[1:], omega, alpha, beta, float(np.nanmean(first ** 2)))
        out["var"][start:stop] = s2[start - 1:stop - 1]
        out["omega"][start:stop], out["alpha"][start:stop], out["beta"][start:stop] = omega, alpha, beta
        fit_day[start:stop] = path.day[start]
    return VolPath(path.day.copy(), out["var"], out["omega"], out["alpha"], out["beta"], fit_day,
                   st.premium_vol_mult, st.horizon_scale)
