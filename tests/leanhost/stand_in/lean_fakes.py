"""A small LEAN world for the leanhost tests: the fakes behind the ``AlgorithmImports``
stand-in, with LEAN's enum values (checked against quantconnect-stubs by a test) and a
``QCAlgorithm`` that records subscriptions, schedules, orders and logs instead of running.

Only ``AlgorithmImports.py`` re-exports LEAN names; the helpers here (``SecurityIdentifier``,
``OptionContract``, ``Slice``...) mirror the LEAN attributes leanhost reads, nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

NEW_YORK = ZoneInfo("America/New_York")


# ----- enums (values as in quantconnect-stubs) -----------------------------------------------
class Resolution(IntEnum):
    TICK = 0
    SECOND = 1
    MINUTE = 2
    HOUR = 3
    DAILY = 4


class SecurityType(IntEnum):
    EQUITY = 1
    OPTION = 2
    FUTURE = 5
    FUTURE_OPTION = 8
    INDEX = 9
    INDEX_OPTION = 10


class OptionRight(IntEnum):
    CALL = 0
    PUT = 1


class OrderStatus(IntEnum):
    NEW = 0
    SUBMITTED = 1
    PARTIALLY_FILLED = 2
    FILLED = 3
    CANCELED = 5
    NONE = 6
    INVALID = 7
    CANCEL_PENDING = 8
    UPDATE_SUBMITTED = 9


class BrokerageName(IntEnum):
    INTERACTIVE_BROKERS_BROKERAGE = 2
    TASTYTRADE = 32


class AccountType(IntEnum):
    MARGIN = 0
    CASH = 1


class DataNormalizationMode(IntEnum):
    RAW = 0
    BACKWARDS_RATIO = 6


class Futures:
    class Indices:
        SP_500_E_MINI = "ES"
        MICRO_SP_500_E_MINI = "MES"


class TimeZones:
    # LEAN: a NodaTime DateTimeZone whose str() is its id.
    NEW_YORK = "America/New_York"


# ----- symbols and securities ----------------------------------------------------------------
@dataclass(frozen=True)
class SecurityIdentifier:
    symbol: str
    security_type: SecurityType
    date: datetime | None = None
    strike_price: float = 0.0
    option_right: OptionRight | None = None
    market: str = "cme"

    def __str__(self) -> str:
        tail = f" {self.date:%Y%m%d}" if self.date else ""
        if self.option_right is not None:
            tail += f" {self.option_right.name} {self.strike_price:g}"
        return f"{self.symbol} {self.security_type.name}{tail}"


@dataclass(frozen=True)
class Symbol:
    value: str
    id: SecurityIdentifier
    underlying: Symbol | None = None

    @property
    def security_type(self) -> SecurityType:
        return self.id.security_type

    def __str__(self) -> str:
        return self.value

    @staticmethod
    def canonical_future(root: str) -> Symbol:
        return Symbol(f"/{root}", SecurityIdentifier(root, SecurityType.FUTURE))

    @staticmethod
    def future(root: str, value: str, expiry: datetime) -> Symbol:
        return Symbol(value, SecurityIdentifier(root, SecurityType.FUTURE, expiry))

    @staticmethod
    def canonical_option(future: Symbol) -> Symbol:
        sid = SecurityIdentifier(future.id.symbol, SecurityType.FUTURE_OPTION)
        return Symbol(f"?{future.value}", sid, future)

    @staticmethod
    def future_option(
        future: Symbol, right: OptionRight, strike: float, expiry: datetime
    ) -> Symbol:
        sid = SecurityIdentifier(
            future.id.symbol, SecurityType.FUTURE_OPTION, expiry, strike, right
        )
        tag = "C" if right is OptionRight.CALL else "P"
        return Symbol(f"{future.value} {expiry:%y%m%d}{tag}{round(strike * 1000):08d}", sid, future)


@dataclass
class SymbolProperties:
    contract_multiplier: float
    minimum_price_variation: float


@dataclass
class SecurityHolding:
    quantity: float = 0.0


@dataclass
class SecurityExchange:
    time_zone: str = "America/New_York"


@dataclass(eq=False)
class Security:
    symbol: Symbol
    type: SecurityType
    symbol_properties: SymbolProperties
    bid_price: float = 0.0
    ask_price: float = 0.0
    price: float = 0.0
    holdings: SecurityHolding = field(default_factory=SecurityHolding)
    exchange: SecurityExchange = field(default_factory=SecurityExchange)
    fee_model: Any = None

    def set_fee_model(self, model: Any) -> None:
        self.fee_model = model


@dataclass(eq=False)
class Future(Security):
    filter_days: tuple[int, int] | None = None

    def set_filter(self, min_expiry_days: int, max_expiry_days: int) -> None:
        self.filter_days = (min_expiry_days, max_expiry_days)


class SecurityManager(dict[Symbol, Security]):
    def contains_key(self, symbol: Symbol) -> bool:
        return symbol in self


# ----- data ---------------------------------------------------------------------------------
@dataclass
class BaseData:
    symbol: Symbol
    price: float


@dataclass
class OptionContract:
    symbol: Symbol
    strike: float
    expiry: datetime
    right: OptionRight
    bid_price: float
    ask_price: float
    time: datetime  # end of the last bar, exchange time zone (naive)


@dataclass
class OptionChain:
    symbol: Symbol
    underlying: BaseData | None
    contracts: list[OptionContract]

    def __iter__(self) -> Iterator[OptionContract]:
        return iter(self.contracts)

    def __len__(self) -> int:
        return len(self.contracts)


class OptionChains(dict[Symbol, OptionChain]):
    pass


@dataclass
class Slice:
    utc_time: datetime
    option_chains: OptionChains


@dataclass
class OptionFilterUniverse:
    """LEAN's filter universe over ``OptionUniverse`` rows (each has ``.id``)."""

    rows: list[Any]
    underlying: BaseData | None
    local_time: datetime

    def expiration(self, min_days: int, max_days: int) -> OptionFilterUniverse:
        today = self.local_time.date()
        self.rows = [
            r for r in self.rows if min_days <= (r.id.date.date() - today).days <= max_days
        ]
        return self

    def contracts(self, selector: Callable[[list[Any]], list[Any]]) -> OptionFilterUniverse:
        self.rows = list(selector(list(self.rows)))
        return self


# ----- orders and fees ------------------------------------------------------------------------
@dataclass
class Leg:
    symbol: Symbol
    quantity: int
    order_price: float | None = None

    @staticmethod
    def create(symbol: Symbol, quantity: int, limit_price: float | None = None) -> Leg:
        return Leg(symbol, quantity, limit_price)


@dataclass
class OrderEvent:
    order_id: int
    symbol: Symbol
    utc_time: datetime
    status: OrderStatus
    fill_price: float = 0.0
    fill_quantity: float = 0.0
    message: str = ""
    is_assignment: bool = False


@dataclass(eq=False)
class OrderTicket:
    algorithm: QCAlgorithm
    order_id: int
    symbol: Symbol
    quantity: float
    tag: str
    order_type: str
    status: OrderStatus = OrderStatus.SUBMITTED
    cancel_tags: list[str] = field(default_factory=list)

    def cancel(self, tag: str | None = None) -> None:
        """Backtest behaviour: the cancel is processed at once and reported as an event."""
        self.cancel_tags.append(tag or "")
        if self.status not in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.INVALID):
            self.algorithm.emit(self, OrderStatus.CANCELED, message=tag or "")


@dataclass
class ComboOrder:
    legs: list[Leg]
    quantity: int
    limit_price: float
    tag: str
    tickets: list[OrderTicket]


@dataclass
class CashAmount:
    amount: float
    currency: str


@dataclass
class OrderFee:
    value: CashAmount


class FeeModel:
    def __init__(self) -> None:
        pass

    def get_order_fee(self, parameters: Any) -> OrderFee:
        raise NotImplementedError


# ----- scheduling -----------------------------------------------------------------------------
@dataclass(frozen=True)
class DateRule:
    kind: str
    symbol: Symbol | None


@dataclass(frozen=True)
class TimeRule:
    kind: str
    args: tuple[Any, ...]


class DateRules:
    def every_day(
        self, symbol: Symbol | None = None, extended_market_hours: bool = False
    ) -> DateRule:
        return DateRule("every_day", symbol)


class TimeRules:
    def at(self, *args: Any) -> TimeRule:
        return TimeRule("at", args)

    def every(self, interval: timedelta) -> TimeRule:
        return TimeRule("every", (interval,))


@dataclass
class ScheduledEvent:
    name: str
    date_rule: DateRule
    time_rule: TimeRule
    callback: Callable[[], None]


class ScheduleManager:
    def __init__(self) -> None:
        self.events: list[ScheduledEvent] = []

    def on(
        self, name: str, date_rule: DateRule, time_rule: TimeRule, callback: Callable[[], None]
    ) -> ScheduledEvent:
        event = ScheduledEvent(name, date_rule, time_rule, callback)
        self.events.append(event)
        return event


@dataclass
class ConstantRateModel:
    rate_frac: float

    def get_interest_rate(self, date: datetime) -> float:
        return self.rate_frac


# ----- the algorithm --------------------------------------------------------------------------
class QCAlgorithm:
    """Records what the algorithm asks of LEAN; tests drive time, data and order events."""

    def __init__(self) -> None:
        self.parameters: dict[str, str] = {}
        self.start_date: Any = None
        self.end_date: Any = None
        self.cash: float | None = None
        self.brokerage: tuple[BrokerageName, AccountType] | None = None
        self.security_initializers: list[Callable[[Security], Any]] = []
        self.securities = SecurityManager()
        self.futures: list[tuple[Future, dict[str, Any]]] = []
        self.future_option_filters: list[tuple[Symbol, Callable[[Any], Any]]] = []
        self.schedule = ScheduleManager()
        self.date_rules = DateRules()
        self.time_rules = TimeRules()
        self.current_slice: Slice | None = None
        self.utc_time = datetime(2020, 1, 6, 15, 0)
        self.is_warming_up = False
        self.risk_free_interest_rate_model = ConstantRateModel(0.0155)
        self.history_frame = pd.DataFrame()
        self.history_requests: list[tuple[Any, ...]] = []
        self.logs: list[str] = []
        self.errors: list[str] = []
        self.combo_orders: list[ComboOrder] = []
        self.market_orders: list[OrderTicket] = []
        self.tickets: dict[int, OrderTicket] = {}

    # --- clock, parameters, setup ---
    @property
    def time(self) -> datetime:
        return self.utc_time.replace(tzinfo=UTC).astimezone(NEW_YORK).replace(tzinfo=None)

    def get_parameter(self, name: str, default_value: str | None = None) -> str | None:
        return self.parameters.get(name, default_value)

    def set_start_date(self, start: Any) -> None:
        self.start_date = start

    def set_end_date(self, end: Any) -> None:
        self.end_date = end

    def set_cash(self, cash: float) -> None:
        self.cash = cash

    def set_brokerage_model(self, brokerage: BrokerageName, account_type: AccountType) -> None:
        self.brokerage = (brokerage, account_type)

    def add_security_initializer(self, initializer: Callable[[Security], Any]) -> None:
        self.security_initializers.append(initializer)

    def add_security(self, security: Security) -> Security:
        """Test helper: what LEAN does when a universe adds a security."""
        for initializer in self.security_initializers:
            initializer(security)
        self.securities[security.symbol] = security
        return security

    def add_future(
        self, ticker: str, resolution: Resolution | None = None, **kwargs: Any
    ) -> Future:
        future = Future(
            Symbol.canonical_future(ticker), SecurityType.FUTURE, SymbolProperties(50.0, 0.25)
        )
        self.futures.append((future, {"resolution": resolution, **kwargs}))
        self.add_security(future)
        return future

    def add_future_option(self, symbol: Symbol, option_filter: Callable[[Any], Any]) -> None:
        self.future_option_filters.append((symbol, option_filter))

    def history(
        self, symbol: Symbol, periods: int, resolution: Resolution | None = None, **kwargs: Any
    ) -> pd.DataFrame:
        self.history_requests.append((symbol, periods, resolution, kwargs))
        return self.history_frame

    # --- logging ---
    def log(self, message: Any) -> None:
        self.logs.append(str(message))

    def debug(self, message: Any) -> None:
        self.logs.append(str(message))

    def error(self, message: Any) -> None:
        self.errors.append(str(message))

    # --- orders ---
    def _ticket(self, symbol: Symbol, quantity: float, tag: str, order_type: str) -> OrderTicket:
        ticket = OrderTicket(self, len(self.tickets) + 1, symbol, quantity, tag, order_type)
        self.tickets[ticket.order_id] = ticket
        return ticket

    def combo_limit_order(
        self,
        legs: list[Leg],
        quantity: int,
        limit_price: float,
        asynchronous: bool = False,
        tag: str = "",
        order_properties: Any = None,
    ) -> list[OrderTicket]:
        tickets = [
            self._ticket(leg.symbol, leg.quantity * quantity, tag, "ComboLimit") for leg in legs
        ]
        self.combo_orders.append(ComboOrder(list(legs), quantity, limit_price, tag, tickets))
        return tickets

    def market_order(
        self,
        symbol: Symbol,
        quantity: float,
        asynchronous: bool = False,
        tag: str = "",
        order_properties: Any = None,
    ) -> OrderTicket:
        ticket = self._ticket(symbol, quantity, tag, "Market")
        self.market_orders.append(ticket)
        return ticket

    def emit(
        self,
        ticket: OrderTicket,
        status: OrderStatus,
        fill_price: float = 0.0,
        fill_quantity: float = 0.0,
        message: str = "",
    ) -> None:
        """Test helper: LEAN reporting an order event (fills update the holding first)."""
        ticket.status = status
        if fill_quantity and ticket.symbol in self.securities:
            self.securities[ticket.symbol].holdings.quantity += fill_quantity
        self.on_order_event(
            OrderEvent(
                ticket.order_id,
                ticket.symbol,
                self.utc_time,
                status,
                fill_price,
                fill_quantity,
                message,
            )
        )

    def fill(self, ticket: OrderTicket, price: float) -> None:
        """Test helper: fill ``ticket`` whole at ``price``."""
        self.emit(ticket, OrderStatus.FILLED, price, ticket.quantity)

    def on_order_event(self, order_event: OrderEvent) -> None:
        pass
