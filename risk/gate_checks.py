"""The gate's data validation (entries and exits) and its sizing step.

Kept apart from :mod:`risk.gate` so that the gate module reads as its list of checks. Codes:

* ``LIMIT_INVALID``: the intent's limit price is not a finite number;
* ``QUANTITY_INVALID``: the intent's quantity is not a whole number of units >= 1 (an
  ``int``: never a ``bool``, a float such as 1.5 or 2.0, NaN, ``None`` or a string);
* ``DATA_MISSING``: a number the entry needs is NaN/None/infinite/not a number (NLV, VIX,
  ...), named with its value; ``DATA_INVALID``: present but impossible (negative BP);
* quote codes of :mod:`safety.quote_validation`; ``LIMIT_OUTSIDE_BAND`` for exits too: an
  exit's limit must lie within ``safety_limit_band_frac`` of the legs' natural-mid spread
  around [mid, natural] (the same band as entries, :func:`safety.fat_finger.limit_band_reason`;
  flatten and close-losers orders pass it too, issue 8);
* exits only: ``CLOSE_UNKNOWN_POSITION`` (the snapshot holds no open position of that id),
  ``CLOSE_MORE_THAN_HELD`` (more units than the position holds, when the snapshot knows its
  size) and ``CLOSE_TOO_LARGE`` (more contracts than one order may carry).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from risk.gate_inputs import AccountSnapshot, GateMarket
from risk.sizing import kelly_units
from risk.trade_risk import hard_cap_reason, risk_cap_reason, risk_per_unit_usd, risk_target_units
from safety.fat_finger import contracts_per_unit, limit_band_reason
from safety.quote_validation import net_mid_natural_pts, quote_reasons
from thetacore.decisions import OrderIntent, Reason
from thetacore.parameters import Parameters


@dataclass(frozen=True)
class Step:
    """Outcome of one entry check: refusals, a quantity cap (None: no cap), notes that
    explain a cap below the asked quantity, and information that changes nothing (listed
    with an approval or a resize only)."""

    refusals: list[Reason]
    cap: int | None = None
    notes: list[Reason] = field(default_factory=list)
    info: list[Reason] = field(default_factory=list)

    @classmethod
    def refusal(cls, reasons: list[Reason]) -> Step:
        """A check that can only refuse."""
        return cls(list(reasons))

    @property
    def refuse(self) -> bool:
        """True when the check refused the order."""
        return bool(self.refusals)

    @property
    def reasons(self) -> list[Reason]:
        """Refusals then notes."""
        return self.refusals + self.notes


def _finite(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _number_reason(name: str, value: object, *, positive: bool) -> Reason | None:
    if not _finite(value):
        return Reason("DATA_MISSING", f"{name}={value!r}: unknown; an entry needs it (never a default)")
    assert isinstance(value, int | float)
    if value < 0 or (positive and value == 0):
        return Reason("DATA_INVALID", f"{name}={value:g}: must be {'> 0' if positive else '>= 0'}")
    return None


def tick_of(market: GateMarket) -> float:
    """The combo tick as a number for the checks' slack (0 when it is not a real number >= 0:
    :func:`tick_reason` refuses it)."""
    return float(market.tick_pts) if _finite(market.tick_pts) and market.tick_pts >= 0 else 0.0


def tick_reason(tick_pts: object) -> Reason | None:
    """``DATA_MISSING`` / ``DATA_INVALID`` for a combo tick that is not a real number >= 0."""
    return _number_reason("tick_pts", tick_pts, positive=False)


def quantity_reason(quantity: object) -> Reason | None:
    """``QUANTITY_INVALID`` unless ``quantity`` is an ``int`` (not a ``bool``) >= 1."""
    if isinstance(quantity, int) and not isinstance(quantity, bool) and quantity >= 1:
        return None
    return Reason("QUANTITY_INVALID", f"quantity {quantity!r} is not a whole number of units >= 1")


def data_reasons(intent: OrderIntent, account: AccountSnapshot, market: GateMarket, now_utc: datetime,
                 p: Parameters) -> list[Reason]:
    """Step 1 for an entry: every data problem (empty: the data is usable)."""
    out = []
    if not _finite(intent.limit_pts):
        out.append(Reason("LIMIT_INVALID", f"limit {intent.limit_pts!r} is not a finite price"))
    bad_qty = quantity_reason(intent.quantity)
    out += [bad_qty] if bad_qty else []
    out += quote_reasons(intent.structure, market.quote_map(), now_utc,
                         max_spread_frac=p.safety_max_spread_frac_of_mid, max_age_sec=p.safety_max_quote_age_sec,
                         max_ahead_sec=p.safety_max_quote_ahead_sec,
                         spread_floor_pts=p.safety_spread_floor_ticks * tick_of(market))
    bad_tick = tick_reason(market.tick_pts)
    out += [bad_tick] if bad_tick else []
    numbers = (("nlv_usd", account.nlv_usd, True), ("buying_power_in_use_usd", account.buying_power_in_use_usd, False),
               ("vix_level", market.vix_level, True), ("vix_prev_close", market.vix_prev_close, True),
               ("underlying_pts", market.underlying_pts, True),
               ("underlying_prev_close", market.underlying_prev_close, True),
               ("bp_usd_per_unit", market.bp_usd_per_unit, False))
    out += [r for name, v, pos in numbers if (r := _number_reason(name, v, positive=pos))]
    if market.max_loss_usd_per_unit is not None:
        r = _number_reason("max_loss_usd_per_unit", market.max_loss_usd_per_unit, positive=False)
        out += [r] if r else []
    if not market.root:
        out.append(Reason("DATA_MISSING", "root is empty: the product cannot be classified"))
    return out


def exit_reasons(intent: OrderIntent, account: AccountSnapshot, market: GateMarket, now_utc: datetime,
                 p: Parameters) -> tuple[list[Reason], bool]:
    """``(reasons, retry)`` for an exit: data problems (retry with fresh quotes) then the
    structural problems (no retry)."""
    data = []
    if not _finite(intent.limit_pts):
        data.append(Reason("LIMIT_INVALID", f"limit {intent.limit_pts!r} is not a finite price"))
    quotes = market.quote_map()
    data += quote_reasons(intent.structure, quotes, now_utc, max_spread_frac=p.safety_max_spread_frac_of_mid,
                          max_age_sec=p.safety_max_quote_age_sec, max_ahead_sec=p.safety_max_quote_ahead_sec,
                          spread_floor_pts=p.safety_spread_floor_ticks * tick_of(market))
    bad_tick = tick_reason(market.tick_pts)
    data += [bad_tick] if bad_tick else []
    if not data:
        mid, natural = net_mid_natural_pts(intent.structure, quotes)
        band = limit_band_reason(intent.limit_pts, mid, natural, p.safety_limit_band_frac, tick_of(market))
        data += [band] if band else []
    structural = _exit_structure_reasons(intent, account, p)
    return data + structural, bool(data) and not structural


def _exit_structure_reasons(intent: OrderIntent, account: AccountSnapshot, p: Parameters) -> list[Reason]:
    """The exit's quantity and position problems (a retry with fresh quotes cannot cure them)."""
    bad_qty = quantity_reason(intent.quantity)
    out = [bad_qty] if bad_qty else []
    held = next((pos for pos in account.positions if pos.position_id == intent.position_id), None)
    if held is None:
        out.append(Reason("CLOSE_UNKNOWN_POSITION", f"{intent.position_id} is not an open position "
                          f"in the account snapshot ({len(account.positions)} open)"))
    if bad_qty:
        return out
    if held is not None and held.units is not None:
        out += _more_than_held(intent, held.units, dict(held.leg_ratios))
    total = contracts_per_unit(intent.structure) * intent.quantity
    if total > p.safety_max_contracts_per_order:
        out.append(Reason("CLOSE_TOO_LARGE", f"{intent.quantity} units = {total} contracts > "
                          f"{p.safety_max_contracts_per_order} per order"))
    return out


def sizing_step(intent: OrderIntent, account: AccountSnapshot, market: GateMarket, p: Parameters) -> Step:
    """Steps 13-14: per-trade risk (hard cap refuses, 2% target caps), then Kelly sizing;
    at least 1 unit when 1 unit passes the hard cap. Before ``kelly_min_trades`` closed trades
    Kelly allows ``market.unit_scale`` units (one unit of the product the strategy sized)."""
    asked, nlv = intent.quantity, account.nlv_usd
    risk, basis = risk_per_unit_usd(market.max_loss_usd_per_unit, market.bp_usd_per_unit)
    hard = hard_cap_reason(risk, basis, nlv, p)
    if hard:
        return Step.refusal([hard])
    kelly, why = kelly_units(account.stats_for(intent.strategy), risk, nlv, p, min_units=market.unit_scale)
    if kelly == 0 and why is not None and why.code in ("KELLY_NO_EDGE", "KELLY_STATS_INVALID"):
        return Step.refusal([why])
    target = risk_target_units(risk, nlv, p)
    notes, info = [], []
    if target is not None and max(1, target) < asked:
        notes.append(risk_cap_reason(asked, target, risk, basis, nlv, p))
    elif target == 0:
        info.append(risk_cap_reason(asked, target, risk, basis, nlv, p))
    sizes = [x for x in (kelly, target) if x is not None]
    size = max(1, min(sizes)) if sizes else asked
    if kelly is not None and why is not None and max(1, kelly) < asked and (target is None or kelly < target):
        notes.append(why)
    return Step([], size, notes, info)


def _more_than_held(intent: OrderIntent, units: int, per_unit: dict[str, int]) -> list[Reason]:
    """``CLOSE_MORE_THAN_HELD`` when the exit trades more of a contract than the position
    holds (``|ratio| x units``), contract by contract when the entry's legs are known (an exit
    may have another shape than the entry: LT112 buys back its 2 naked puts per unit alone);
    else by units."""
    if not per_unit:
        if intent.quantity > units:
            return [Reason("CLOSE_MORE_THAN_HELD", f"closing {intent.quantity} units of {intent.position_id}, "
                           f"which holds {units}")]
        return []
    for leg in intent.structure.legs:
        have, want = abs(per_unit.get(leg.symbol, 0)) * units, abs(leg.ratio) * intent.quantity
        if want > have:
            return [Reason("CLOSE_MORE_THAN_HELD", f"closing {want} contract(s) of {leg.symbol} in "
                           f"{intent.position_id}, which holds {have} ({units} unit(s))")]
    return []
