"""Brokerage events for the operator: messages, disconnects, the live brokerage, margin.

LEAN sources (QuantConnect/Lean):

* ``Engine/Engine.cs`` (the brokerage's ``Message`` handler): every brokerage message goes
  first to ``DefaultBrokerageMessageHandler.HandleMessage`` (``Common/Brokerages/``: an
  ``Error`` message stops the algorithm; a ``Disconnect`` stops it if still disconnected
  15 minutes into open market hours), then to ``on_brokerage_message``, and for a
  ``Disconnect`` / ``Reconnect`` to ``on_brokerage_disconnect`` / ``on_brokerage_reconnect``;
  on the brokerage's thread (hence the entry lock in main.py).
* ``Engine/Setup/BrokerageSetupHandler.cs`` ``Setup``: before ``initialize`` LEAN sets the
  brokerage model of the LIVE brokerage (``factory.GetBrokerageModel``: Tastytrade ->
  ``TastytradeBrokerageModel``, Interactive Brokers -> ``InteractiveBrokersBrokerageModel``,
  paper trading -> ``DefaultBrokerageModel``), connects (setup fails if it cannot), and sets
  ``Portfolio.MarginCallModel = MarginCallModel.Null`` ("margin calls are disabled by default
  in live mode").
* ``Common/Securities/DefaultMarginCallModel.cs`` ``GetMarginCallOrders``: a warning when the
  margin remaining is at most 5% of the portfolio value, a margin call when it is <= 0 and
  the margin used exceeds the portfolio value by more than the 10% buffer; its orders are
  MARKET orders per position group, executed one group after another
  (``ExecuteMarginCall``). ``AlgorithmFactory/Python/Wrappers/AlgorithmPythonWrapper.cs``
  ``OnMarginCall``: a Python ``on_margin_call`` that returns an EMPTY list raises ("must
  return a non-empty list of SubmitOrderRequest") and the algorithm stops.

What ThetaDesk does:

* every brokerage message but (dis)connects is logged; warnings, errors and "action
  required" are alerted (each distinct text once per run);
* disconnected: alert, entries blocked through the gate (:class:`HostBlock.DISCONNECTED`);
  reconnected: alert, released. A start is connected (LEAN's setup), so a block saved by a
  previous run is released at start;
* the live brokerage is compared with the ``brokerage`` parameter at start: a mismatch in a
  live run blocks entries (:class:`HostBlock.BROKERAGE_MISMATCH`) with a critical alert; it
  never raises. LEAN's paper brokerage is not a mismatch (logged);
* margin: LEAN's margin-call model is the null model in every mode (as LEAN's live default),
  so LEAN never liquidates single legs with market orders; :meth:`BrokerageEvents.check_margin`
  (scheduled every minute) applies the thresholds of ``DefaultMarginCallModel`` itself: at
  the warning level an alert; at a margin call an alert, entries blocked
  (:class:`HostBlock.MARGIN_CALL`) and whole structures closed through the risk desk's close
  path (limit at the natural price), the largest buying power first (the gate's own figure
  per position), until the deficit ``margin used - portfolio value`` is covered or all are
  closing. The block is released when the margin remaining is above the warning level again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from AlgorithmImports import BrokerageMessageType, MarginCallModel

from risk.host_blocks import HostBlock
from strategies.base import PositionState, Strategy, StrategyPosition
from thetacore.parameters import Parameters

from .entry_blocks import HOST, block, unblock
from .risk_desk import RiskDesk
from .scheduling import now_utc

if TYPE_CHECKING:
    from AlgorithmImports import BrokerageMessageEvent, QCAlgorithm

LIVE_MODELS = {
    "tastytrade": "TastytradeBrokerageModel",
    "interactive_brokers": "InteractiveBrokersBrokerageModel",
}
"""``brokerage`` parameter -> class name of the model LEAN sets for that live brokerage."""
PAPER_MODEL = "DefaultBrokerageModel"
KNOWN_MODELS = frozenset({*LIVE_MODELS.values(), PAPER_MODEL})
WARNING_FRAC = 0.05  # DefaultMarginCallModel: warning at margin remaining <= 5% of the portfolio value
MARGIN_BUFFER_FRAC = 0.10  # DefaultMarginCallModel: call when margin used > value x (1 + 10%)
MARGIN_CALL = "MARGIN_CALL"
ALERTED_TYPES = frozenset({BrokerageMessageType.WARNING, BrokerageMessageType.ERROR,
                           BrokerageMessageType.ACTION_REQUIRED})


def live_model_name(algorithm: QCAlgorithm) -> str:
    """Class name of the algorithm's brokerage model now (read it BEFORE ``initialize`` sets
    ours: then it is the live brokerage's, ``BrokerageSetupHandler.Setup``). The Python type
    name of the .NET object, else the last part of its ``ToString`` (the full type name)."""
    model = algorithm.brokerage_model
    name = type(model).__name__
    if name in KNOWN_MODELS:
        return name
    text = str(model).rsplit(".", 1)[-1]
    return text if text in KNOWN_MODELS else name


def disable_lean_margin_calls(algorithm: QCAlgorithm) -> None:
    """Install LEAN's null margin-call model (no single-leg market liquidation, in any mode)."""
    algorithm.portfolio.set_margin_call_model(MarginCallModel.NULL)


@dataclass
class BrokerageEvents:
    """The brokerage callbacks of main.py and the margin check (see the module docstring)."""

    algorithm: QCAlgorithm
    params: Parameters
    risk: RiskDesk
    alerted: set[str] = field(default_factory=set)
    warned: bool = False
    stuck: bool = False  # a margin call with nothing left to close was alerted

    # ----- start ---------------------------------------------------------------------------
    def at_start(self, live_model: str) -> None:
        """Release a disconnect block saved by a previous run; check the live brokerage."""
        now = now_utc(self.algorithm)
        if not self.algorithm.live_mode:
            return
        unblock(self.risk, HostBlock.DISCONNECTED, "start", "LEAN connected to the brokerage before initialize", now)
        expected = LIVE_MODELS[self.params.brokerage]
        if live_model == PAPER_MODEL:
            self.algorithm.log(f"live run on LEAN's paper brokerage ({live_model}): brokerage="
                               f"{self.params.brokerage} only selects the model and fees")
        elif live_model != expected:
            block(self.risk, HostBlock.BROKERAGE_MISMATCH, f"parameter brokerage={self.params.brokerage} expects "
                  f"{expected}, but the live brokerage's model is {live_model}: refusing to trade", now)
        else:
            unblock(self.risk, HostBlock.BROKERAGE_MISMATCH, "start", f"live brokerage {live_model} matches", now)

    # ----- LEAN callbacks --------------------------------------------------------------------
    def on_message(self, event: BrokerageMessageEvent) -> None:
        """``on_brokerage_message``: log; alert warnings, errors, action required (once each)."""
        kind = event.type
        if kind in (BrokerageMessageType.DISCONNECT, BrokerageMessageType.RECONNECT):
            return  # on_disconnect / on_reconnect follow (Engine.cs)
        text = f"BROKERAGE {kind.name} {event.code}: {event.message}"
        if kind not in ALERTED_TYPES:
            self.algorithm.log(text)
        elif text in self.alerted:
            self.algorithm.log(f"(again) {text}")
        else:
            self.alerted.add(text)
            stop = " (LEAN stops the algorithm on a brokerage error)" if kind == BrokerageMessageType.ERROR else ""
            self.risk.alerts.alert(text + stop)

    def on_disconnect(self) -> None:
        """``on_brokerage_disconnect``: alert and block entries."""
        now = now_utc(self.algorithm)
        block(self.risk, HostBlock.DISCONNECTED, f"brokerage disconnected at {now:%Y-%m-%d %H:%M:%S}Z (LEAN "
              "stops the algorithm if still disconnected 15 minutes into open market hours)", now)

    def on_reconnect(self) -> None:
        """``on_brokerage_reconnect``: alert and release the block."""
        now = now_utc(self.algorithm)
        if not unblock(self.risk, HostBlock.DISCONNECTED, "brokerage", f"reconnected at {now:%H:%M:%S}Z", now):
            self.risk.alerts.alert(f"BROKERAGE reconnected at {now:%Y-%m-%d %H:%M:%S}Z")

    def on_lean_margin_call(self, n_requests: int) -> None:
        """``on_margin_call`` reached: LEAN's margin-call model was replaced (it is null)."""
        now = now_utc(self.algorithm)
        block(self.risk, HostBlock.MARGIN_CALL, f"LEAN issued a margin call with {n_requests} single-leg market "
              "orders (its margin-call model is not the null model ThetaDesk installs)", now)

    def on_lean_margin_call_warning(self) -> None:
        """``on_margin_call_warning``: alert."""
        self.risk.alerts.alert("MARGIN_CALL_WARNING from LEAN: margin remaining is at most 5% of the portfolio value")

    # ----- our margin check ------------------------------------------------------------------
    def check_margin(self) -> None:
        """The margin check of ``DefaultMarginCallModel`` (see the module docstring)."""
        if self.algorithm.is_warming_up:
            return
        portfolio = self.algorithm.portfolio
        used, value = float(portfolio.total_margin_used), float(portfolio.total_portfolio_value)
        remaining = float(portfolio.margin_remaining)
        if not all(math.isfinite(x) for x in (used, value, remaining)):
            return
        now = now_utc(self.algorithm)
        if used <= 0 or remaining > value * WARNING_FRAC:  # flat (the margin call closed all) or healthy
            self.warned = self.stuck = False
            unblock(self.risk, HostBlock.MARGIN_CALL, "margin check", f"margin remaining {remaining:,.0f} USD "
                    f"> {WARNING_FRAC:.0%} of {value:,.0f} USD", now)
            return
        figures = f"margin used {used:,.0f} USD, remaining {remaining:,.0f} USD, portfolio value {value:,.0f} USD"
        if remaining <= 0 and used > value * (1 + MARGIN_BUFFER_FRAC):
            self._margin_call(used - value, figures, now)
        elif not self.warned:
            self.warned = True
            self.risk.alerts.alert(f"MARGIN_CALL_WARNING: {figures} (warning at <= {WARNING_FRAC:.0%})")

    def _margin_call(self, deficit_usd: float, figures: str, now: datetime) -> None:
        """Close whole structures, largest buying power first, until the closes under way (the
        structures already closing count) release at least ``deficit_usd``."""
        block(self.risk, HostBlock.MARGIN_CALL, f"margin call: {figures}", now)
        rows = self._by_margin()
        released = sum(bp for _, pos, bp in rows if pos.state is PositionState.CLOSING)
        closed = []
        for strategy, pos, bp_usd in rows:
            if released >= deficit_usd:
                break
            if pos.state is PositionState.OPEN and self.risk.close_whole(strategy, pos, MARGIN_CALL, now):
                released += bp_usd
                closed.append(f"{pos.position_id} ({bp_usd:,.0f} USD)")
        if closed:
            self.risk.alerts.alert(f"MARGIN_CALL: closing {', '.join(closed)} whole to cover a deficit of "
                                   f"{deficit_usd:,.0f} USD ({released:,.0f} USD of buying power in closes)")
        elif released < deficit_usd and not self.stuck:
            self.stuck = True
            self.risk.alerts.alert(f"MARGIN_CALL: deficit {deficit_usd:,.0f} USD; nothing left to close "
                                   f"({released:,.0f} USD in closes under way)")
        if closed:
            self.risk.journal.note(now, HOST, MARGIN_CALL, f"deficit {deficit_usd:,.0f} USD; closing: "
                                   f"{', '.join(closed)}")

    def _by_margin(self) -> list[tuple[Strategy, StrategyPosition, float]]:
        """Open and closing positions, largest buying power first (the gate's figure per
        position, :attr:`GateSession.records`; 0 when unknown)."""
        records = self.risk.session.records
        rows = [(s, p, records[p.position_id].bp_usd if p.position_id in records else 0.0)
                for s in self.risk.strategies.values() for p in s.open_positions()
                if p.state in (PositionState.OPEN, PositionState.CLOSING)]
        return sorted(rows, key=lambda row: -row[2])
