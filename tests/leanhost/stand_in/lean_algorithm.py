"""A ``QCAlgorithm`` that records what the algorithm asks of LEAN instead of running:
subscriptions, scheduled events, orders and logs. Tests drive time, data and order events
(``emit``, ``fill``, ``exercise``) the way LEAN would report them.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from lean_types import (
    BROKERAGE_MODELS,
    AccountType,
    ArgumentException,
    BrokerageMessageEvent,
    BrokerageMessageType,
    BrokerageName,
    CashAmount,
    Command,
    DefaultBrokerageModel,
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
    OrderResponse,
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
    SymbolPropertiesDatabase,
    UpdateOrderFields,
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
ENDED = (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.INVALID)


def lean_round(price: float, increment: float) -> float:
    """LEAN's price rounding (``Engine/TransactionHandlers/BrokerageTransactionHandler.cs``,
    ``RoundOrderPrice``): ``Math.Round(price / increment) * increment`` in decimals, which
    rounds a midpoint to even; no rounding when the increment is not positive."""
    if increment <= 0:
        return price
    steps = (Decimal(repr(price)) / Decimal(repr(increment))).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return float(steps * Decimal(repr(increment)))


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
    combo: ComboOrder | None = None
    updates: list[UpdateOrderFields] = field(default_factory=list)

    def cancel(self, tag: str | None = None) -> OrderResponse:
        """Backtest: the cancel is processed at once and reported as an event. With
        ``algorithm.async_cancels`` (live): only a request; the order turns CancelPending
        (``BrokerageTransactionHandler.CancelOrder``) and its Canceled event comes when the
        test calls ``algorithm.confirm_cancel`` (a fill may come first)."""
        self.cancel_tags.append(tag or "")
        if self.status in ENDED:
            return OrderResponse(False, f"order {self.order_id} is {self.status.name}")
        if self.algorithm.cancel_error is not None:
            raise self.algorithm.cancel_error
        if self.algorithm.async_cancels:
            self.status = OrderStatus.CANCEL_PENDING
        else:
            self.algorithm.emit(self, OrderStatus.CANCELED, message=tag or "")
        return OrderResponse(True)

    def update_limit_price(self, limit_price: float, tag: str | None = None) -> OrderResponse:
        """``OrderTicket.UpdateLimitPrice``: ``Update(UpdateOrderFields(LimitPrice, Tag))``."""
        return self.update(UpdateOrderFields(limit_price=limit_price, tag=tag))

    def update(self, fields: UpdateOrderFields) -> OrderResponse:
        """LEAN ``OrderTicket.Update`` -> ``BrokerageTransactionHandler.UpdateOrder``: a closed
        order cannot be updated (``InvalidStatus``); a combo leg's new limit is the group's
        (``ComboLimitOrder.ApplyUpdateOrderRequest`` sets ``GroupOrderManager.LimitPrice``),
        rounded as a new order (``RoundOrderPrices``). ``algorithm.refuse_updates`` models a
        brokerage that cannot replace the order."""
        self.updates.append(fields)
        if self.status in ENDED:
            return OrderResponse(False, f"Cannot update closed order with status {self.status.name}")
        if self.algorithm.refuse_updates:
            return OrderResponse(False, "brokerage refused the update")
        if fields.limit_price is not None:
            if self.combo is not None:
                self.combo.limit_price = self.algorithm.rounded_combo_limit(self.combo.legs, fields.limit_price)
            else:
                security = self.algorithm.securities[self.symbol]
                self.limit_price = lean_round(fields.limit_price, security.symbol_properties.minimum_price_variation)
        return OrderResponse(True)


@dataclass(eq=False)
class ComboOrder:
    """One combo as LEAN holds it: ``limit_price`` after rounding (and updates),
    ``asked_limit`` as the algorithm passed it."""

    legs: list[Leg]
    quantity: int
    limit_price: float
    tag: str
    tickets: list[OrderTicket]
    asked_limit: float = 0.0


class Transactions:
    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        self.tickets: dict[int, OrderTicket] = {}

    def get_order_by_id(self, order_id: int) -> Order | None:
        return self.orders.get(order_id)

    def get_order_ticket(self, order_id: int) -> OrderTicket | None:
        """``SecurityTransactionManager.GetOrderTicket``: the ticket of ``order_id`` (LEAN
        creates one for each open order loaded at a restart: ``AddOpenOrder``)."""
        return self.tickets.get(order_id)

    def get_open_orders(self) -> list[Order]:
        """Orders whose ticket has not ended (filled, canceled, invalid)."""
        ended = (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.INVALID)
        return [self.orders[i] for i, t in self.tickets.items() if t.status not in ended and i in self.orders]


@dataclass
class PortfolioHolding:
    """``SecurityHolding`` as ``portfolio.values()`` lists it: symbol and signed quantity."""

    symbol: Symbol
    quantity: float


@dataclass
class Portfolio:
    """``SecurityPortfolioManager``: the account value, LEAN's margin figures (GIVEN by tests;
    ``total_margin_used`` 0 = no margin in use) and the holdings of ``securities``."""

    total_portfolio_value: float = 100_000.0
    total_margin_used: float = 0.0
    margin_remaining: float = 100_000.0
    securities: SecurityManager | None = None
    margin_call_model: Any = "DefaultMarginCallModel"

    def values(self) -> list[PortfolioHolding]:
        """One holding per security (LEAN lists zero quantities too)."""
        held = self.securities.values() if self.securities is not None else []
        return [PortfolioHolding(s.symbol, s.holdings.quantity) for s in held]

    def set_margin_call_model(self, model: Any) -> None:
        self.margin_call_model = model


class ObjectStore:
    """LEAN's local object store (``Engine/Storage/LocalObjectStore.cs``) as the algorithm
    sees it: text values by key, CACHED. ``values`` is LEAN's in-memory ``_storage``
    (``None`` = a key registered without data); ``folder`` is the store's folder on disk
    (the workspace's ``storage/``; None: no files, a test that only uses the cache).

    * ``contains_key``: the cache first; else a file on disk is registered (``ContainsKey``);
    * ``read``: the cached value; the file is loaded only when the cache has no data
      (``ReadBytes``), so an edit of the file after the first read is NEVER seen here;
    * ``save``: into the cache, written to disk at the next persist (``SaveBytes``,
      ``PersistData``); ``saves`` records every save, ``refuse_saves`` makes it return False
      (storage limits);
    * ``delete``: the cache entry and the file (``Delete``);
    * ``get_file_path``: persists pending saves, registers an absent key with no data
      (``SaveBytes(path, null)``) and returns the key's file path (``GetFilePath``).
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.values: dict[str, str | None] = {}
        self.saves: list[tuple[str, str]] = []
        self.refuse_saves = False
        self.folder = folder
        self._dirty: set[str] = set()

    def _file(self, path: str) -> Path | None:
        return None if self.folder is None else self.folder / path

    def contains_key(self, path: str) -> bool:
        if path in self.values:
            return True
        file = self._file(path)
        if file is not None and file.is_file():
            self.values[path] = None
            return True
        return False

    def read(self, path: str) -> str | None:
        if not self.contains_key(path):
            raise KeyError(f"Object with path '{path}' was not found in the current project")
        if self.values[path] is None:
            file = self._file(path)
            if file is not None and file.is_file():
                self.values[path] = file.read_text(encoding="utf-8")
        return self.values[path]

    def delete(self, path: str) -> bool:
        was = self.values.pop(path, None) is not None
        self._dirty.discard(path)
        file = self._file(path)
        if file is not None and file.is_file():
            file.unlink()
            return True
        return was

    def save(self, path: str, text: str) -> bool:
        if self.refuse_saves:
            return False
        self.values[path] = text
        self._dirty.add(path)
        self.saves.append((path, text))
        return True

    def get_file_path(self, path: str) -> str:
        if self.folder is None:
            raise NotImplementedError("this stand-in store has no folder")
        if not self.contains_key(path):
            self.values[path] = None
        else:
            self.persist()
        return str(self.folder / path)

    def persist(self) -> None:
        """Write the saved values to disk (LEAN: a timer, ``Persist``/``PersistData``)."""
        for path in sorted(self._dirty):
            file, text = self._file(path), self.values.get(path)
            if file is not None and text is not None:
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_text(text, encoding="utf-8")
        self._dirty.clear()


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
        self.portfolio = Portfolio(securities=self.securities)
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
        self.tickets: dict[int, OrderTicket] = self.transactions.tickets
        # Engine/Setup/BrokerageSetupHandler.cs: before initialize, the live brokerage's model
        # (a test sets TastytradeBrokerageModel()...); a backtest's is LEAN's default.
        self.brokerage_model: Any = DefaultBrokerageModel()
        self.command_results: list[bool | None] = []
        self._order_ids = itertools.count(1)  # LEAN: Interlocked.Increment, safe from any thread
        self._order_id_lock = threading.Lock()
        # LEAN BrokerageTransactionHandler._lockHandleOrderEvent: held while on_order_event runs
        self.order_event_lock = threading.RLock()
        self.symbol_properties_database = SymbolPropertiesDatabase()
        self.async_cancels = False
        self.refuse_updates = False
        self.cancel_error: Exception | None = None  # raised by ticket.cancel (a brokerage error)
        self.order_error: Exception | None = None  # raised by the next order call
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
        self.brokerage_model = BROKERAGE_MODELS[brokerage]()

    def add_security_initializer(self, initializer: Callable[[Security], Any]) -> None:
        self.security_initializers.append(initializer)

    def add_security(self, security: Security) -> Security:
        """Test helper: what LEAN does when a universe adds a security (or replaces its data)."""
        custom = self.symbol_properties_database.entry_for(security.symbol)
        if custom is None and security.symbol.security_type is SecurityType.FUTURE_OPTION:
            assert security.symbol.underlying is not None
            custom = self.symbol_properties_database.entry_for(security.symbol.underlying)
        if custom is not None:  # SecurityService.CreateSecurity -> GetSymbolProperties (custom entry)
            security.symbol_properties = custom
        for initializer in self.security_initializers:
            initializer(security)
        self.securities[security.symbol] = security
        return security

    # --- subscriptions ---
    def add_future(self, ticker: str, resolution: Resolution | None = None, **kwargs: Any) -> Future:
        # LEAN Data/symbol-properties/symbol-properties-database.csv: cme,ES,future 50 USD/pt,
        # cme,MES,future 5 USD/pt, both tick 0.25 (SymbolPropertiesDatabase.GetSymbolProperties)
        multiplier = 5.0 if ticker == "MES" else 50.0
        future = Future(Symbol.canonical_future(ticker), SecurityType.FUTURE, SymbolProperties(multiplier, 0.25))
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
        with self._order_id_lock:
            order_id = next(self._order_ids)
            ticket = OrderTicket(self, order_id, symbol, quantity, tag, order_type.name, limit_price)
            self.tickets[ticket.order_id] = ticket
            self.transactions.orders[ticket.order_id] = Order(ticket.order_id, symbol, quantity, order_type,
                                                              [f"BRK-{ticket.order_id}"], limit_price or 0.0)
        return ticket

    def load_open_order(self, symbol: Symbol, quantity: float, broker_ids: list[str], order_type: OrderType,
                        limit_price: float = 0.0, tag: str = "") -> OrderTicket:
        """Test helper (a restart): an order the brokerage reports open, loaded by LEAN before
        the algorithm trades (``Engine/Setup/BrokerageSetupHandler.cs`` ``GetOpenOrders`` ->
        ``BrokerageTransactionHandler.AddOpenOrder``): a NEW LEAN order id, status Submitted,
        the brokerage's ids kept (``Order.BrokerId``), a ticket created; the tag is not the
        algorithm's (the brokerages' ``GetOpenOrders`` do not restore it)."""
        ticket = self._ticket(symbol, quantity, tag, order_type, limit_price or None)
        self.transactions.orders[ticket.order_id].broker_id = list(broker_ids)
        return ticket

    def _raise_order_error(self) -> None:
        error, self.order_error = self.order_error, None
        if error is not None:
            raise error

    def rounded_combo_limit(self, legs: list[Leg], limit_price: float) -> float:
        """``BrokerageTransactionHandler.RoundOrderPrices`` (``ComboLimit``): the group's limit
        rounded to the smallest positive increment among the legs' securities
        (``SecurityPriceVariationModel``: the symbol properties' minimum price variation)."""
        increments = [self.securities[leg.symbol].symbol_properties.minimum_price_variation
                      for leg in legs if leg.symbol in self.securities]
        positive = [i for i in increments if i > 0]
        return lean_round(limit_price, min(positive)) if positive else limit_price

    def combo_limit_order(self, legs: list[Leg], quantity: int, limit_price: float, asynchronous: bool = False,
                          tag: str = "", order_properties: Any = None) -> list[OrderTicket]:
        """``QCAlgorithm.Trading.cs`` ``ComboLimitOrder``: a zero limit (``-0.0`` included)
        throws ``ArgumentException("ComboLimitOrder requires a limit price")``; the limit is
        then rounded as LEAN rounds it before sending (``RoundOrderPrices``)."""
        self._raise_order_error()
        if limit_price == 0:
            raise ArgumentException("ComboLimitOrder requires a limit price")
        tickets = [self._ticket(leg.symbol, leg.quantity * quantity, tag, OrderType.COMBO_LIMIT) for leg in legs]
        combo = ComboOrder(list(legs), quantity, self.rounded_combo_limit(list(legs), limit_price), tag, tickets,
                           limit_price)
        for ticket in tickets:
            ticket.combo = combo
        self.combo_orders.append(combo)
        return tickets

    def limit_order(self, symbol: Symbol, quantity: float, limit_price: float, asynchronous: bool = False,
                    tag: str = "", order_properties: Any = None) -> OrderTicket:
        """A limit order, its price rounded to the security's increment (``RoundOrderPrices``)."""
        self._raise_order_error()
        security = self.securities.get(symbol)
        if security is not None:
            limit_price = lean_round(limit_price, security.symbol_properties.minimum_price_variation)
        ticket = self._ticket(symbol, quantity, tag, OrderType.LIMIT, limit_price)
        self.limit_orders.append(ticket)
        return ticket

    def market_order(self, symbol: Symbol, quantity: float, asynchronous: bool = False, tag: str = "",
                     order_properties: Any = None) -> OrderTicket:
        ticket = self._ticket(symbol, quantity, tag, OrderType.MARKET)
        self.market_orders.append(ticket)
        return ticket

    def confirm_cancel(self, ticket: OrderTicket, message: str = "") -> None:
        """Test helper (live): the brokerage confirms a requested cancel; nothing when the
        order ended meanwhile (it filled first)."""
        if ticket.status not in ENDED:
            self.emit(ticket, OrderStatus.CANCELED, message=message)

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
        with self.order_event_lock:  # BrokerageTransactionHandler.HandleOrderEvents
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

    # --- brokerage messages and live commands (test helpers, and LEAN's default handlers) ---
    def brokerage_message(self, kind: BrokerageMessageType, message: str, code: str = "0") -> None:
        """Test helper: the brokerage raises a message (``Engine/Engine.cs``, the brokerage's
        ``Message`` handler): ``on_brokerage_message`` always, then ``on_brokerage_disconnect``
        or ``on_brokerage_reconnect`` for those types."""
        self.on_brokerage_message(BrokerageMessageEvent(kind, code, message))
        if kind is BrokerageMessageType.DISCONNECT:
            self.on_brokerage_disconnect()
        elif kind is BrokerageMessageType.RECONNECT:
            self.on_brokerage_reconnect()

    def send_command(self, payload: dict[str, Any]) -> bool | None:
        """Test helper: ``lean live command`` / ``lean cloud live command`` with ``payload`` and
        no ``$type``: an untyped ``CallbackCommand`` (``BaseCommandHandler.TryGetCallbackCommand``)
        runs ``on_command(Command)`` (``CallbackCommand.Run``); its result is recorded."""
        result = self.on_command(Command(payload))
        self.command_results.append(result)
        return result

    def on_brokerage_message(self, message_event: BrokerageMessageEvent) -> None:
        pass

    def on_brokerage_disconnect(self) -> None:
        pass

    def on_brokerage_reconnect(self) -> None:
        pass

    def on_command(self, data: Any) -> bool | None:
        return True
