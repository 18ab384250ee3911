"""Enumerations shared by the core: option right, exercise style, settlement, actions."""

from __future__ import annotations

from enum import Enum, IntEnum


class Right(IntEnum):
    """Option right. The integer value is the payoff sign: +1 call, -1 put.

    Chains store rights as an ``int8`` array of these values so that vectorised pricing
    can use ``right * (F - K)`` directly.
    """

    CALL = 1
    PUT = -1


class ExerciseStyle(Enum):
    """Exercise style of an option contract (LEAN: ``OptionStyle``)."""

    EUROPEAN = "european"
    AMERICAN = "american"


class Settlement(Enum):
    """How an expiring in-the-money option settles (LEAN: ``SettlementType``)."""

    CASH = "cash"
    PHYSICAL = "physical"


class Action(Enum):
    """What a strategy decided at one decision point."""

    ENTERED = "entered"
    DECLINED = "declined"
    EXITED = "exited"
    HELD = "held"


class IntentPurpose(Enum):
    """Why an order intent exists: opening a structure or closing (reducing) it."""

    OPEN = "open"
    CLOSE = "close"


class OrderStatus(Enum):
    """Life cycle of a combo order group, in either host."""

    SUBMITTED = "submitted"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
