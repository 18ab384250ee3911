"""A ``QCAlgorithm`` that records what the algorithm asks of LEAN instead of running:
subscriptions, scheduled events, orders and logs. Tests drive time, data and order events
(``emit``, ``fill``, ``exercise``) the way LEAN would report them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from lean_types import (
    AccountType,
    BrokerageName,
    CashAmount,
    DeploymentTarget,
    Future,
    Leg,
    Option,
    OptionChain,
    OptionRight,
    Order,
    OrderEvent,
    OrderFee,
    OrderFeeParameters,
    OrderStatus,
    OrderType,
    Resolution,
    Security,
    SecurityExchangeHours,
    SecurityManager,
    SecurityType,
    Slice,
    Symbol,
    SymbolProperties,
)

NEW_YORK = ZoneInfo("America/New_York")


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
    def every_day(self, symbol: Symbol | None = None, extended_market_hours: bool = False) -> DateRule:
        return DateRule("every_day", symbol)


class TimeRules:
    def at(self, *args: Any) -> TimeRule:
        return TimeRule("at", args)

    def every(self, interval: timedelta) -> TimeRule:
        return TimeRule("every", (interval,))

    def before_market_close(self, symbol: Symbol, minutes_before_close: float = 0,
                            extended_market_close: bool = False) -> TimeRule:
        return TimeRule("before_market_close", (symbol, minutes_before_close, extended_market_close))


def before_market_close_utc(security: Security, rule: TimeRule, day: date) -> datetime | None:
    """When a ``before_market_close`` rule fires on ``day`` (naive UTC), or ``None`` on a closed
    day. Copies LEAN ``Common/Scheduling/TimeRules.cs`` ``BeforeMarketClose(Symbol, double,
    bool)``: ``exchangeHours.GetLastDailyMarketClose(date, extended) - minutes`` where
    ``IsDateOpen(date)``, converted from the exchange's time zone."""
    _, minutes, extended = rule.args
    hours = security.exchange.hours
    if not hours.is_date_open(day, extended):
        return None
    local = hours.get_last_daily_market_close(day, extended) - timedelta(minutes=minutes)
    zone = ZoneInfo(str(security.exchange.time_zone))
    return local.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


@dataclass
class ScheduledEvent:
    name: str
    date_rule: DateRule
    time_rule: TimeRule
    callback: Callable[[], None]


class ScheduleManager:
    def __init__(self) -> None:
        self.events: list[ScheduledEvent] = []

    def on(self, name: str, date_rule: DateRule, time_rule: TimeRule, callback: Callable[[], None]) -> ScheduledEvent:
        event = ScheduledEvent(name, date_rule, time_rule, callback)
        self.events.append(event)
        return event


@dataclass
class ConstantRateModel:
    rate_frac: float

    def get_interest_rate(self, date: datetime) -> float:
        return self.rate_frac


# ----- orders -----------------------------------------------------------------------------------
@dataclass(eq=False)
class OrderTicket:
    algorithm: QCAlgorithm
    order_id: int
    symbol: Symbol
    quantity: float
    tag: str
    order_type: str
    limit_price: float | None = None
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


class Transactions:
    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}

    def get_order_by_id(self, order_id: int) -> Order | None:
        return self.orders.get(order_id)


@dataclass
class Portfolio:
    total_portfolio_value: float = 100_000.0


class ObjectStore:
    """LEAN's key-value store (``QuantConnect.Storage.ObjectStore``): string values by key.
    ``saves`` records every save; ``refuse_saves`` makes ``save`` return False (storage limits)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.saves: list[tuple[str, str]] = []
        self.refuse_saves = False

    def contains_key(self, path: str) -> bool:
        return path in self.values

    def read(self, path: str) -> str:
        if path not in self.values:
            raise KeyError(f"Object with key '{path}' was not found in the current project")
        return self.values[path]

    def delete(self, path: str) -> bool:
        return self.values.pop(path, None) is not None

    def save(self, path: str, text: str) -> bool:
        if self.refuse_saves:
            return False
        self.values[path] = text
        self.saves.append((path, text))
        return True


class NotificationManager:
    """``notify``: records what would be sent (QC's cloud delivers; local LEAN only logs)."""

    def __init__(self) -> None:
        self.emails: list[tuple[str, str, str]] = []
        self.webs: list[tuple[str, Any]] = []

    def email(self, address: str, subject: str, message: str, data: str = "", headers: Any = None) -> bool:
        self.emails.append((address, subject, message))
        return True

    def web(self, address: str, data: Any = None, headers: Any = None) -> bool:
        self.webs.append((address, data))
        return True


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
        self.indexes: list[tuple[Security, Resolution | None]] = []
        self.equities: list[tuple[Security, dict[str, Any]]] = []
        self.option_universes: list[tuple[Option, str, Resolution | None]] = []
        self.chains_by_underlying: dict[Symbol, OptionChain] = {}  # what option_chain() returns
        self.contract_factory: Callable[[Symbol], Security] | None = None
        self.added_contracts: list[tuple[Symbol, Resolution | None]] = []
        self.removed_contracts: list[Symbol] = []
        self.schedule = ScheduleManager()
        self.index_early_closes: dict[date, time] = {}  # exchange-local (Chicago) closes of every index
        self.date_rules = DateRules()
        self.time_rules = TimeRules()
        self.current_slice: Slice | None = None
        self.utc_time = datetime(2020, 1, 6, 15, 0)
        self.is_warming_up = False
        self.risk_free_interest_rate_model = ConstantRateModel(0.0155)
        self.portfolio = Portfolio()
        self.transactions = Transactions()
        self.history_frame = pd.DataFrame()
        self.history_frames: dict[str, pd.DataFrame] = {}  # by symbol value; else history_frame
        self.history_requests: list[tuple[Any, ...]] = []
        self.logs: list[str] = []
        self.plots: list[tuple[str, str, float, datetime]] = []
        self.runtime_statistics: dict[str, str] = {}
        self.summary_statistics: dict[str, str] = {}
        self.errors: list[str] = []
        self.combo_orders: list[ComboOrder] = []
        self.limit_orders: list[OrderTicket] = []
        self.market_orders: list[OrderTicket] = []
        self.tickets: dict[int, OrderTicket] = {}
        self.live_mode = False
        self.deployment_target = DeploymentTarget.LOCAL_PLATFORM
        self.object_store = ObjectStore()
        self.notify = NotificationManager()

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
        """Test helper: what LEAN does when a universe adds a security (or replaces its data)."""
        for initializer in self.security_initializers:
            initializer(security)
        self.securities[security.symbol] = security
        return security

    # --- subscriptions ---
    def add_future(self, ticker: str, resolution: Resolution | None = None, **kwargs: Any) -> Future:
        future = Future(Symbol.canonical_future(ticker), SecurityType.FUTURE, SymbolProperties(50.0, 0.25))
        self.futures.append((future, {"resolution": resolution, **kwargs}))
        self.add_security(future)
        return future

    def add_future_option(self, symbol: Symbol, option_filter: Callable[[Any], Any]) -> None:
        self.future_option_filters.append((symbol, option_filter))

    def add_index(self, ticker: str, resolution: Resolution | None = None, **kwargs: Any) -> Security:
        index = Security(Symbol.index(ticker), SecurityType.INDEX, SymbolProperties(1.0, 0.01))
        index.exchange.time_zone = "America/Chicago"
        # LEAN Data/market-hours/market-hours-database.json "Index-usa-SPX": market 08:30-15:15
        # America/Chicago; early closes from "Index-usa-[*]" (tests fill index_early_closes).
        index.exchange.hours = SecurityExchangeHours(time(15, 15), self.index_early_closes)
        self.indexes.append((index, resolution))
        return self.add_security(index)

    def add_index_option(self, symbol: Symbol, target_option: str, resolution: Resolution | None = None) -> Option:
        return self._option_universe(symbol, target_option, resolution)

    def add_equity(self, ticker: str, resolution: Resolution | None = None, **kwargs: Any) -> Security:
        equity = Security(Symbol.equity(ticker), SecurityType.EQUITY, SymbolProperties(1.0, 0.01))
        self.equities.append((equity, {"resolution": resolution, **kwargs}))
        return self.add_security(equity)

    def add_option(self, underlying: Symbol, resolution: Resolution | None = None, **kwargs: Any) -> Option:
        return self._option_universe(underlying, underlying.value, resolution)

    def _option_universe(self, underlying: Symbol, root: str, resolution: Resolution | None) -> Option:
        canonical = Symbol.canonical_usa_option(underlying, root)
        option = Option(canonical, canonical.security_type, SymbolProperties(100.0, 0.01))
        self.option_universes.append((option, root, resolution))
        self.add_security(option)
        return option

    def option_chain(self, symbol: Symbol, flatten: bool = False) -> OptionChain:
        chain = self.chains_by_underlying.get(symbol)
        return chain if chain is not None else OptionChain(symbol, None, [])

    def add_option_contract(self, symbol: Symbol, resolution: Resolution | None = None, **kwargs: Any) -> Security:
        self.added_contracts.append((symbol, resolution))
        if self.contract_factory is not None:
            security = self.contract_factory(symbol)
        else:
            security = Security(symbol, symbol.security_type, SymbolProperties(100.0, 0.01))
        return self.add_security(security)

    def remove_option_contract(self, symbol: Symbol, tag: str | None = None) -> bool:
        self.removed_contracts.append(symbol)
        return True

    def history(self, symbol: Symbol, periods: int, resolution: Resolution | None = None, **kwargs: Any) -> pd.DataFrame:
        self.history_requests.append((symbol, periods, resolution, kwargs))
        return self.history_frames.get(symbol.value, self.history_frame)

    # --- charts and statistics ---
    # LEAN Algorithm/QCAlgorithm.Plotting.cs ReservedChartSeriesNames: an empty list reserves the chart.
    RESERVED_CHARTS: dict[str, tuple[str, ...]] = {
        "Strategy Equity": ("Equity", "Return"), "Capacity": ("Strategy Capacity",),
        "Drawdown": ("Equity Drawdown",), "Benchmark": ("Benchmark",), "Assets Sales Volume": (),
        "Exposure": (), "Portfolio Margin": (), "Portfolio Turnover": ("Portfolio Turnover",),
    }

    def plot(self, chart: str, series: str, value: float) -> None:
        """``Plot(chart, series, value)``; raises for a reserved chart or series (as LEAN's
        ``TryGetChartSeries``)."""
        reserved = self.RESERVED_CHARTS.get(chart)
        if reserved is not None and (not reserved or series in reserved):
            raise ValueError(f"'{chart}'/'{series}' is reserved")
        self.plots.append((chart, series, float(value), self.utc_time))

    def set_runtime_statistic(self, name: str, value: Any) -> None:
        self.runtime_statistics[name] = str(value)

    def set_summary_statistic(self, name: str, value: Any) -> None:
        """LEAN ``SetSummaryStatistic``: names "0".."100" are reserved (ArgumentException)."""
        if name.isdigit() and 0 <= int(name) <= 100:
            raise ValueError(f"'{name}' is a reserved statistic name.")
        self.summary_statistics[name] = str(value)

    # --- logging ---
    def log(self, message: Any) -> None:
        self.logs.append(str(message))

    def debug(self, message: Any) -> None:
        self.logs.append(str(message))

    def error(self, message: Any) -> None:
        self.errors.append(str(message))

    # --- orders ---
    def _ticket(self, symbol: Symbol, quantity: float, tag: str, order_type: OrderType,
                limit_price: float | None = None) -> OrderTicket:
        ticket = OrderTicket(self, len(self.tickets) + 1, symbol, quantity, tag, order_type.name, limit_price)
        self.tickets[ticket.order_id] = ticket
        self.transactions.orders[ticket.order_id] = Order(ticket.order_id, symbol, quantity, order_type)
        return ticket

    def combo_limit_order(self, legs: list[Leg], quantity: int, limit_price: float, asynchronous: bool = False,
                          tag: str = "", order_properties: Any = None) -> list[OrderTicket]:
        tickets = [self._ticket(leg.symbol, leg.quantity * quantity, tag, OrderType.COMBO_LIMIT) for leg in legs]
        self.combo_orders.append(ComboOrder(list(legs), quantity, limit_price, tag, tickets))
        return tickets

    def limit_order(self, symbol: Symbol, quantity: float, limit_price: float, asynchronous: bool = False,
                    tag: str = "", order_properties: Any = None) -> OrderTicket:
        ticket = self._ticket(symbol, quantity, tag, OrderType.LIMIT, limit_price)
        self.limit_orders.append(ticket)
        return ticket

    def market_order(self, symbol: Symbol, quantity: float, asynchronous: bool = False, tag: str = "",
                     order_properties: Any = None) -> OrderTicket:
        ticket = self._ticket(symbol, quantity, tag, OrderType.MARKET)
        self.market_orders.append(ticket)
        return ticket

    def emit(self, ticket: OrderTicket, status: OrderStatus, fill_price: float = 0.0, fill_quantity: float = 0.0,
             message: str = "") -> None:
        """Test helper: LEAN reporting an order event. A fill is charged by the security's fee
        model against the holding before the fill (as LEAN), then updates the holding."""
        ticket.status = status
        fee = OrderFee(CashAmount(0.0, "USD"))
        security = self.securities.get(ticket.symbol)
        if fill_quantity and security is not None:
            if security.fee_model is not None:
                order = Order(ticket.order_id, ticket.symbol, fill_quantity, OrderType.LIMIT)
                fee = security.fee_model.get_order_fee(OrderFeeParameters(security, order))
            security.holdings.quantity += fill_quantity
        self.on_order_event(OrderEvent(ticket.order_id, ticket.symbol, self.utc_time, status, fill_price,
                                       fill_quantity, message, order_fee=fee))

    def fill(self, ticket: OrderTicket, price: float) -> None:
        """Test helper: fill ``ticket`` whole at ``price``."""
        self.emit(ticket, OrderStatus.FILLED, price, ticket.quantity)

    def exercise(self, symbol: Symbol, *, in_the_money: bool, message: str = "") -> None:
        """Test helper: LEAN's option exercise / expiry of the whole holding of ``symbol``
        (``DefaultExerciseModel``): one FILLED ``OptionExercise`` event at price 0, an
        assignment when the holding is short and in the money; for an in-the-money equity
        option a second event delivering ``-held x 100`` shares (sign by right) at the strike."""
        held = self.securities[symbol].holdings.quantity
        ticket = self._ticket(symbol, -held, "", OrderType.OPTION_EXERCISE)
        ticket.status = OrderStatus.FILLED
        self.securities[symbol].holdings.quantity = 0.0
        self.on_order_event(OrderEvent(ticket.order_id, symbol, self.utc_time, OrderStatus.FILLED, 0.0, -held,
                                       message, is_assignment=in_the_money and held < 0,
                                       is_in_the_money=in_the_money))
        if in_the_money and symbol.security_type is SecurityType.OPTION:
            shares = -held * 100 * (-1 if symbol.id.option_right is OptionRight.CALL else 1)
            assert symbol.underlying is not None
            self.on_order_event(OrderEvent(ticket.order_id, symbol.underlying, self.utc_time, OrderStatus.FILLED,
                                           symbol.id.strike_price, shares, "Option Assignment" if held < 0
                                           else "Option Exercise", is_in_the_money=True))

    def on_order_event(self, order_event: OrderEvent) -> None:
        pass
