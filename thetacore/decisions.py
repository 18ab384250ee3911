"""Decisions, reasons and order intents: what the core returns to its hosts.

Every decision carries machine-readable reason codes with the numbers that caused them
(style: ``NO_PUT_IN_BAND: no put within 0.05-0.07 delta; nearest 3000 at 0.17 delta``).
Hosts journal decisions verbatim; they never reinterpret them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from thetacore.durable_state import Fields
from thetacore.enums import Action, IntentPurpose
from thetacore.structures import Structure


@dataclass(frozen=True)
class Reason:
    """One machine-readable reason: a code (UPPER_SNAKE) and its human text with numbers."""

    code: str
    text: str

    def __str__(self) -> str:
        return f"{self.code}: {self.text}"


@dataclass(frozen=True)
class OrderIntent:
    """A request to send one structure as one combo limit order.

    Attributes:
        strategy: name of the strategy that wants the order.
        purpose: open a new structure or close an existing one.
        structure: the legs and their signed ratios.
        quantity: number of structure units (> 0); each leg trades ``ratio * quantity``.
        limit_pts: net limit price per unit in points, LEAN's sign convention: negative
            is a credit received, positive a debit paid.
        position_id: identifier of the position this intent opens or closes.
        tag: free text that ends up on every order of the group.
    """

    strategy: str
    purpose: IntentPurpose
    structure: Structure
    quantity: int
    limit_pts: float
    position_id: str
    tag: str = ""

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"{self.strategy}: intent quantity must be > 0, got {self.quantity}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (:mod:`thetacore.durable_state`): ``purpose`` by value, ``structure``
        as :meth:`Structure.to_dict`, ``quantity`` units, ``limit_pts`` points (LEAN sign)."""
        return {"strategy": self.strategy, "purpose": self.purpose.value, "structure": self.structure.to_dict(),
                "quantity": self.quantity, "limit_pts": self.limit_pts, "position_id": self.position_id,
                "tag": self.tag}

    @classmethod
    def from_dict(cls, data: Any, path: str = "intent") -> OrderIntent:
        """The intent :meth:`to_dict` wrote.

        Raises:
            StateError: naming the key path of a missing or mistyped field or a quantity <= 0.
        """
        f = Fields(data, path)
        structure = Structure.from_dict(f.raw("structure"), f.at("structure"))
        quantity = f.integer("quantity")
        if quantity <= 0:
            raise f.error("quantity", f"must be > 0, got {quantity}")
        return cls(f.string("strategy"), f.enum("purpose", IntentPurpose), structure, quantity,
                   f.number("limit_pts"), f.string("position_id"), f.string("tag"))


@dataclass(frozen=True)
class Decision:
    """What one strategy decided at one decision point.

    Attributes:
        time_utc: when the decision was made (timezone-aware UTC).
        strategy: strategy name.
        action: entered / declined / exited / held.
        reasons: why, in the order the rules were checked.
        intent: the order intent, for ``ENTERED`` and ``EXITED``; ``None`` otherwise.
        details: extra numbers worth journaling (chosen strikes, deltas, credit...).
    """

    time_utc: datetime
    strategy: str
    action: Action
    reasons: tuple[Reason, ...]
    intent: OrderIntent | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def reason_text(self) -> str:
        """All reasons joined by ``"; "``."""
        return "; ".join(str(r) for r in self.reasons)

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes alone."""
        return tuple(r.code for r in self.reasons)
