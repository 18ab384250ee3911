"""The day's exchange margin of the outright future, as LEAN knows it (issue 11).

The SPAN-like futures-option margin (:mod:`thetacore.span_margin`) scans the future over the
day's price scan range, ``initial margin / (multiplier x futures price)``
(:func:`thetacore.futures_margins.scan_range_frac`, the replay's rule: 6,930 USD on 2020-01-06
for ES). The LEAN host reads that margin from LEAN itself:

* every future contract's ``buying_power_model`` is a ``FutureMarginModel``
  (``Common/Securities/Future/Future.cs`` constructor: ``BuyingPowerModel = new
  FutureMarginModel(0, this)``), and LEAN's own Python example reads it as
  ``securities[contract].buying_power_model.initial_overnight_margin_requirement``
  (``Algorithm.Python/BasicTemplateFuturesAlgorithm.py``, ``on_end_of_algorithm``);
* ``FutureMarginModel.InitialOvernightMarginRequirement``
  (``Common/Securities/Future/FutureMarginModel.cs``) is the ``InitialOvernight`` of
  ``GetCurrentMarginRequirements``: the row of ``<data folder>/future/<market>/margins/<ROOT>.csv``
  (``FromCsvFile``, lines by ``MarginRequirementsEntry.Create``; cached per ``symbol.ID.Symbol``,
  the root) in force on the date of the security's last data (``GetLastData().Time.Date``),
  and 0 while the security has no data or LEAN has no file (it logs an error and uses zeros).

So the margin is the same for every contract of a root on a day; the host takes the future of
the root with the most recent data. No future with data, a model without the property (a
custom buying power model), or 0: no margin (NaN) with the reason, and the scan range comes
from the ``futures_scan_range_frac`` parameter (the caller logs it once a day).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import TYPE_CHECKING

from AlgorithmImports import SecurityType

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm, Security


def initial_margin_usd(algorithm: QCAlgorithm, root: str) -> tuple[float, str]:
    """``(margin, note)``: LEAN's initial overnight margin of one ``root`` future contract
    today (USD per contract) and where it came from; ``(NaN, reason)`` when LEAN has none
    (module docstring)."""
    latest: tuple[datetime, Security] | None = None
    for security in list(algorithm.securities.values()):
        symbol = security.symbol
        if symbol.security_type != SecurityType.FUTURE or str(symbol.id.symbol) != root:
            continue
        last = security.get_last_data()
        end = getattr(last, "end_time", None) if last is not None else None
        if isinstance(end, datetime) and (latest is None or end > latest[0]):
            latest = (end, security)
    if latest is None:
        return math.nan, f"no {root} future has data yet"
    end, security = latest
    model = security.buying_power_model
    value = getattr(model, "initial_overnight_margin_requirement", None)
    name = type(model).__name__
    if value is None:
        return math.nan, f"{security.symbol} buying power model {name} has no initial overnight margin"
    margin = float(value)
    if not (math.isfinite(margin) and margin > 0):
        return math.nan, f"LEAN's {name} gives {security.symbol} an initial margin of {margin:g} (no margin file row?)"
    return margin, f"{security.symbol} {name}.initial_overnight_margin_requirement, data of {end:%Y-%m-%d}"


def margin_line(root: str, day: date, margin_usd: float, note: str) -> str:
    """The once-a-day log line of the margin in use (or of the fallback to the parameter)."""
    if math.isfinite(margin_usd):
        return f"{root} futures scan on {day}: exchange initial margin {margin_usd:,.0f} USD per contract ({note})"
    return f"{root} futures scan on {day}: {note}; scan range from the futures_scan_range_frac parameter"
