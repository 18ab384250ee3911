"""The one owner of every tunable number: names, types, units, defaults and validation.

Each field of :class:`Parameters` is one LEAN project parameter (``config.json``
``parameters``, string values). LEAN reads them with ``get_parameter`` and the replay host
from ``config.json`` plus ``--parameter NAME VALUE`` overrides; both hand the raw strings
to :func:`load_parameters`, so a value means the same thing in both hosts and
``lean optimize`` can sweep any of them. Defaults are the values of
``shared/reference/strategy-rules.md`` (ranges: their middle, range documented in ``doc``).

Units live in names: ``_usd`` dollars, ``_pts`` index points, ``_frac`` fractions
(0.05 = 5%), ``_days`` calendar days, ``_min`` minutes, ``_et`` America/New_York time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, time
from pathlib import Path
from typing import Any

BROKERAGES = ("tastytrade", "interactive_brokers")
STRANGLE_UNDERLYINGS = ("ES", "MES")


class ParameterError(ValueError):
    """A parameter value is malformed or out of range; the message names the parameter."""


def _p(default: Any, doc: str, lo: float | None = None, hi: float | None = None,
       choices: tuple[str, ...] | None = None) -> Any:
    return field(default=default, metadata={"doc": doc, "lo": lo, "hi": hi, "choices": choices})


@dataclass(frozen=True)
class Parameters:
    """Typed, validated, frozen project parameters. See each field's ``doc`` metadata."""

    # ----- account and hosts ---------------------------------------------------------------
    brokerage: str = _p("tastytrade", "brokerage model and fee schedule", choices=BROKERAGES)
    starting_cash_usd: float = _p(100_000.0, "backtest/replay starting cash", lo=1.0)
    backtest_start: date = _p(date(2020, 1, 6), "first backtest/replay day (yyyy-mm-dd)")
    backtest_end: date = _p(date(2020, 1, 6), "last backtest/replay day (yyyy-mm-dd)")

    # ----- futures-option short strangle (strategy-rules.md, "Futures strangle") -------------
    strangle_enabled: bool = _p(True, "run the futures-option strangle")
    strangle_underlying: str = _p("ES", "futures root (MES: micro)", choices=STRANGLE_UNDERLYINGS)
    strangle_entry_weekday: int = _p(1, "entry weekday, 0=Mon..4=Fri; -1 = any day", lo=-1, hi=4)
    strangle_entry_nth_weekday: int = _p(2, "which weekday of the month (2 = second); 0 = any", lo=0, hi=5)
    strangle_entry_time_et: time = _p(time(10, 0), "entry decision time, America/New_York")
    strangle_dte_target: int = _p(90, "target days to expiry", lo=1, hi=400)
    strangle_dte_min: int = _p(75, "shortest accepted DTE (target - 15: a monthly expiry always fits)", lo=1)
    strangle_dte_max: int = _p(105, "longest accepted DTE (target + 15)", lo=1)
    strangle_put_delta_min: float = _p(0.05, "short put |delta| band, low end (rules: 5-7 delta)", lo=0.0, hi=0.5)
    strangle_put_delta_max: float = _p(0.07, "short put |delta| band, high end", lo=0.0, hi=0.5)
    strangle_put_delta_target: float = _p(0.06, "short put target |delta| (middle of the band)", lo=0.0, hi=0.5)
    strangle_call_delta_min: float = _p(0.05, "short call delta band, low end (rules: 5-6 delta)", lo=0.0, hi=0.5)
    strangle_call_delta_max: float = _p(0.06, "short call delta band, high end", lo=0.0, hi=0.5)
    strangle_call_delta_target: float = _p(0.055, "short call target delta (middle of the band)", lo=0.0, hi=0.5)
    strangle_iv_rank_min_frac: float = _p(0.30, "minimum IV rank (0.30 = 30); 0 disables the filter", lo=0.0, hi=1.0)
    strangle_iv_rank_lookback_days: int = _p(252, "IV-rank window in trading days", lo=2)
    strangle_iv_rank_min_history_days: int = _p(20, "fewest daily IV readings for an IV rank", lo=2)
    strangle_consolidation_days: int = _p(20, "consolidation window in trading days; 0 disables", lo=0)
    strangle_consolidation_max_range_frac: float = _p(0.08, "max (high-low)/last close over the window", lo=0.0)
    strangle_take_profit_frac: float = _p(0.50, "close when this fraction of the credit is captured", lo=0.01, hi=1.0)
    strangle_exit_dte: int = _p(21, "close at or below this DTE", lo=0)
    strangle_contracts: int = _p(1, "strangles per entry (sizing by risk rules comes later)", lo=1, hi=50)
    strangle_manage_interval_min: int = _p(30, "minutes between management checks", lo=1, hi=1440)
    strangle_filter_strike_range_frac: float = _p(0.25, "subscribe strikes within this fraction of the future", lo=0.01, hi=1.0)
    strangle_manage_start_et: time = _p(time(9, 30), "first management check of the day, ET")
    strangle_manage_end_et: time = _p(time(16, 0), "last management check of the day, ET")

    # ----- orders and fills ------------------------------------------------------------------
    order_limit_toward_far_frac: float = _p(0.3, "combo limit: mid + frac x (natural - mid)", lo=0.0, hi=1.0)
    order_timeout_min: int = _p(5, "cancel an unfilled combo after this many minutes", lo=1)
    replay_fill_toward_far_frac: float = _p(0.3, "replay fill point per leg: 0 = mid, 1 = far side", lo=0.0, hi=1.0)
    max_quote_age_min: int = _p(15, "a quote older than this many minutes is missing, not stale-used", lo=1)
    futures_scan_range_frac: float = _p(0.07, "SPAN scan-range approximation (+/- of futures price)", lo=0.001, hi=0.5)

    # ----- Tastytrade fee schedule (lean-notes.md "Fees"; check before live use) -------------
    fee_option_open_usd: float = _p(1.00, "equity/index option commission to open, per contract", lo=0.0)
    fee_option_cap_per_leg_usd: float = _p(10.00, "equity option open commission cap per leg", lo=0.0)
    fee_option_clearing_usd: float = _p(0.10, "option clearing fee per contract, open and close", lo=0.0)
    fee_index_option_proprietary_usd: float = _p(0.65, "SPX proprietary index fee per contract", lo=0.0)
    fee_future_option_open_usd: float = _p(2.50, "futures-option commission to open (standard)", lo=0.0)
    fee_micro_future_option_open_usd: float = _p(1.50, "futures-option commission to open (micro)", lo=0.0)
    fee_future_option_clearing_usd: float = _p(0.30, "futures-option clearing per contract", lo=0.0)
    fee_future_option_exchange_usd: float = _p(0.57, "CME exchange + NFA fee per contract (ES ~0.55 + 0.02)", lo=0.0)

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_range(f.name, getattr(self, f.name), f.metadata)
        _check_band(self, "strangle_put_delta")
        _check_band(self, "strangle_call_delta")
        if not self.strangle_dte_min <= self.strangle_dte_target <= self.strangle_dte_max:
            raise ParameterError(
                f"strangle_dte_target={self.strangle_dte_target} must lie in "
                f"[strangle_dte_min={self.strangle_dte_min}, strangle_dte_max={self.strangle_dte_max}]"
            )
        if self.backtest_end < self.backtest_start:
            raise ParameterError(f"backtest_end={self.backtest_end} is before backtest_start={self.backtest_start}")


def _check_band(p: Parameters, prefix: str) -> None:
    lo, target, hi = (getattr(p, f"{prefix}_{s}") for s in ("min", "target", "max"))
    if not lo <= target <= hi:
        raise ParameterError(f"{prefix}_target={target} must lie in [{prefix}_min={lo}, {prefix}_max={hi}]")


def _check_range(name: str, value: Any, meta: Mapping[str, Any]) -> None:
    if meta.get("choices") and value not in meta["choices"]:
        raise ParameterError(f"parameter {name}={value!r}: must be one of {', '.join(meta['choices'])}")
    if meta.get("lo") is not None and value < meta["lo"]:
        raise ParameterError(f"parameter {name}={value!r}: must be >= {meta['lo']}")
    if meta.get("hi") is not None and value > meta["hi"]:
        raise ParameterError(f"parameter {name}={value!r}: must be <= {meta['hi']}")


_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _parse(name: str, raw: str, kind: type) -> Any:
    text = str(raw).strip()
    try:
        if kind is bool:
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no"):
                return False
            raise ValueError("expected true or false")
        if kind is int:
            return int(text)
        if kind is float:
            value = float(text)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError("not a finite number")
            return value
        if kind is time:
            m = _TIME_RE.match(text)
            if not m:
                raise ValueError("expected HH:MM")
            return time(int(m.group(1)), int(m.group(2)))
        if kind is date:
            return date.fromisoformat(text)
        return text
    except ValueError as exc:
        raise ParameterError(f"parameter {name}={raw!r}: {exc}") from exc


_KINDS = {"bool": bool, "int": int, "float": float, "time": time, "date": date, "str": str}


def parameter_names() -> tuple[str, ...]:
    """Every parameter name, in declaration order."""
    return tuple(f.name for f in fields(Parameters))


def load_parameters(raw: Mapping[str, str | None]) -> Parameters:
    """Typed parameters from raw strings; names absent (or ``None``) take their defaults.

    Raises:
        ParameterError: naming the parameter, for an unknown name, a malformed value, a value
            out of range or an inconsistent band.
    """
    known = {f.name: f for f in fields(Parameters)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ParameterError(f"unknown parameter(s): {', '.join(unknown)}")
    values = {}
    for name, value in raw.items():
        if value is None:
            continue
        kind = _KINDS[str(known[name].type)]
        values[name] = _parse(name, value, kind)
    return Parameters(**values)


def default_strings() -> dict[str, str]:
    """The defaults formatted as LEAN ``config.json`` parameter strings."""
    out = {}
    for f in fields(Parameters):
        assert f.default is not MISSING
        out[f.name] = format_value(f.default)
    return out


def format_value(value: Any) -> str:
    """A parameter value as its config string (``true``, ``10:00``, ``2020-01-06``, ``0.05``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def read_config_parameters(config_path: Path) -> dict[str, str]:
    """The ``parameters`` object of a LEAN project ``config.json``.

    Raises:
        ParameterError: when the file is missing, not JSON, or a value is not a string.
    """
    try:
        config = json.loads(Path(config_path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ParameterError(f"cannot read {config_path}: {exc}") from exc
    params = config.get("parameters", {})
    bad = [k for k, v in params.items() if not isinstance(v, str)]
    if bad:
        raise ParameterError(f"{config_path}: parameter values must be strings: {', '.join(bad)}")
    return dict(params)


def sync_config(config_path: Path) -> None:
    """Rewrite the ``parameters`` of ``config_path`` to the defaults, keeping other keys
    (``python -m thetacore.parameters config.json``)."""
    config = json.loads(Path(config_path).read_text())
    config["parameters"] = default_strings()
    Path(config_path).write_text(json.dumps(config, indent=4) + "\n")


if __name__ == "__main__":
    import sys

    sync_config(Path(sys.argv[1] if len(sys.argv) > 1 else "config.json"))
