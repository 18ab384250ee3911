"""LEAN's types as the leanhost tests need them: enums with LEAN's values (checked against
quantconnect-stubs by ``test_leanhost_stand_in.py``), symbols, securities, chain data and
order records. Only the attributes leanhost reads, nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import IntEnum
from typing import Any


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


class OrderType(IntEnum):
    MARKET = 0
    LIMIT = 1
    MARKET_ON_OPEN = 4
    OPTION_EXERCISE = 6
    COMBO_LIMIT = 9


class BrokerageName(IntEnum):
    INTERACTIVE_BROKERS_BROKERAGE = 2
    TASTYTRADE = 32


class BrokerageMessageType(IntEnum):
    INFORMATION = 0
    WARNING = 1
    ERROR = 2
    RECONNECT = 3
    DISCONNECT = 4
    ACTION_REQUIRED = 5


class AccountType(IntEnum):
    MARGIN = 0
    CASH = 1


class DeploymentTarget(IntEnum):
    CLOUD_PLATFORM = 0
    LOCAL_PLATFORM = 1
    PRIVATE_CLOUD_PLATFORM = 2


class DataNormalizationMode(IntEnum):
    RAW = 0
    SPLIT_ADJUSTED = 2
    BACKWARDS_RATIO = 6


class Futures:
    class Indices:
        SP_500_E_MINI = "ES"
        MICRO_SP_500_E_MINI = "MES"


class TimeZones:
    # LEAN: a NodaTime DateTimeZone whose str() is its id.
    NEW_YORK = "America/New_York"


class Globals:
    """LEAN's application constants; tests point ``data_folder`` where they need."""

    data_folder = ""


# ----- symbols --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SecurityIdentifier:
    """A stand-in SID: ``str()`` is a readable stand-in of LEAN's encoded string, with the
    underlying's identifier after ``|`` as in LEAN (``Common/SecurityIdentifier.cs``
    ``ToString``: ``"<sid>|<underlying sid>"``), and :meth:`parse` inverts it (``Parse``)."""

    symbol: str
    security_type: SecurityType
    date: datetime | None = None
    strike_price: float = 0.0
    option_right: OptionRight | None = None
    market: str = "cme"
    underlying: SecurityIdentifier | None = None

    @property
    def has_underlying(self) -> bool:
        return self.underlying is not None

    def __str__(self) -> str:
        tail = f" {self.date:%Y%m%d}" if self.date else ""
        if self.option_right is not None:
            tail += f" {self.option_right.name} {self.strike_price:g}"
        own = f"{self.symbol} {self.security_type.name}{tail} {self.market}"
        return own if self.underlying is None else f"{own}|{self.underlying}"

    @staticmethod
    def parse(value: str) -> SecurityIdentifier:
        """LEAN ``SecurityIdentifier.Parse``: the identifier ``str()`` wrote; raises
        ``ValueError`` (LEAN: ``FormatException``) for any other text."""
        own, _, rest = value.partition("|")
        parts = own.split(" ")
        try:
            kind = SecurityType[parts[1]]
            day = datetime.strptime(parts[2], "%Y%m%d") if len(parts) > 3 else None
            right = OptionRight[parts[3]] if len(parts) > 4 else None
            strike = float(parts[4]) if len(parts) > 4 else 0.0
        except (IndexError, KeyError, ValueError) as exc:
            raise ValueError(f"not a security identifier: {value!r}") from exc
        under = SecurityIdentifier.parse(rest) if rest else None
        return SecurityIdentifier(parts[0], kind, day, strike, right, parts[-1], under)


def _osi(root: str, right: OptionRight, strike: float, expiry: datetime) -> str:
    """OSI-style ticker as LEAN's ``Symbol.value`` of an equity/index option."""
    tag = "C" if right is OptionRight.CALL else "P"
    return f"{root:<6}{expiry:%y%m%d}{tag}{round(strike * 1000):08d}"


class Symbol:
    """LEAN's ``Symbol`` (``Common/Symbol.cs``): equal and hashed by its identifier alone
    (``Equals`` compares ``ID``). ``Symbol(sid, value)`` is LEAN's public constructor
    ``Symbol(SecurityIdentifier, string)``, whose underlying is built from ``sid.underlying``;
    the stand-in's factories below also pass ``Symbol(value, sid, underlying)``."""

    __slots__ = ("value", "id", "underlying")
    value: str
    id: SecurityIdentifier
    underlying: Symbol | None

    def __init__(self, first: SecurityIdentifier | str, second: SecurityIdentifier | str,
                 underlying: Symbol | None = None) -> None:
        if isinstance(first, SecurityIdentifier):  # LEAN's Symbol(sid, value)
            assert isinstance(second, str)
            sid, value = first, second
            under = sid.underlying
            underlying = None if under is None else Symbol(under, under.symbol)
        else:
            assert isinstance(second, SecurityIdentifier)
            sid, value = second, first
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "id", sid)
        object.__setattr__(self, "underlying", underlying)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Symbol is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Symbol) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"Symbol({self.value!r}, {self.id})"

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
        sid = SecurityIdentifier(future.id.symbol, SecurityType.FUTURE_OPTION, underlying=future.id)
        return Symbol(f"?{future.value}", sid, future)

    @staticmethod
    def future_option(future: Symbol, right: OptionRight, strike: float, expiry: datetime) -> Symbol:
        sid = SecurityIdentifier(future.id.symbol, SecurityType.FUTURE_OPTION, expiry, strike, right,
                                 underlying=future.id)
        tag = "C" if right is OptionRight.CALL else "P"
        return Symbol(f"{future.value} {expiry:%y%m%d}{tag}{round(strike * 1000):08d}", sid, future)

    @staticmethod
    def index(ticker: str) -> Symbol:
        return Symbol(ticker, SecurityIdentifier(ticker, SecurityType.INDEX, market="usa"))

    @staticmethod
    def equity(ticker: str) -> Symbol:
        return Symbol(ticker, SecurityIdentifier(ticker, SecurityType.EQUITY, market="usa"))

    @staticmethod
    def canonical_usa_option(underlying: Symbol, root: str) -> Symbol:
        """Canonical index option (``?SPXW`` on SPX) or equity option (``?SPY``)."""
        kind = SecurityType.INDEX_OPTION if underlying.security_type is SecurityType.INDEX else SecurityType.OPTION
        return Symbol(f"?{root}", SecurityIdentifier(root, kind, market="usa", underlying=underlying.id), underlying)

    @staticmethod
    def usa_option(underlying: Symbol, root: str, right: OptionRight, strike: float, expiry: datetime) -> Symbol:
        """An index option (root SPXW/SPX on SPX) or equity option (root SPY on SPY)."""
        kind = SecurityType.INDEX_OPTION if underlying.security_type is SecurityType.INDEX else SecurityType.OPTION
        sid = SecurityIdentifier(root, kind, expiry, strike, right, "usa", underlying.id)
        return Symbol(_osi(root, right, strike, expiry), sid, underlying)


# ----- securities -----------------------------------------------------------------------------
@dataclass
class SymbolProperties:
    """LEAN's ``SymbolProperties``: the stand-in's securities are built with the two fields
    leanhost reads; :meth:`create` takes LEAN's constructor arguments
    (``description, quote_currency, contract_multiplier, minimum_price_variation, lot_size,
    market_ticker``)."""

    contract_multiplier: float
    minimum_price_variation: float
    description: str = ""
    quote_currency: str = "USD"
    lot_size: float = 1.0
    market_ticker: str = ""


def lean_symbol_properties(description: str, quote_currency: str, contract_multiplier: float,
                           minimum_price_variation: float, lot_size: float, market_ticker: str,
                           minimum_order_size: float | None = None, price_magnifier: float = 1,
                           strike_multiplier: float = 1) -> SymbolProperties:
    """``SymbolProperties(...)`` with LEAN's constructor (``Common/Securities/SymbolProperties.cs``):
    what ``AlgorithmImports.SymbolProperties`` is in the stand-in."""
    return SymbolProperties(contract_multiplier, minimum_price_variation, description, quote_currency,
                            lot_size, market_ticker)


class SymbolPropertiesDatabase:
    """``QCAlgorithm.symbol_properties_database``: only the custom entries an algorithm sets
    (``Common/Securities/SymbolPropertiesDatabase.cs``, ``SetEntry``), keyed by ``(market,
    ticker, security type)``; the ticker of a future option is its future's root
    (``BaseSecurityDatabase.GetDatabaseSymbolKey``: ``symbol.ID.Symbol``)."""

    def __init__(self) -> None:
        self.custom: dict[tuple[str, str, SecurityType], SymbolProperties] = {}

    def set_entry(self, market: str, symbol: str, security_type: SecurityType, properties: Any) -> bool:
        self.custom[(market, symbol, security_type)] = properties
        return True

    def entry_for(self, symbol: Symbol) -> SymbolProperties | None:
        return self.custom.get((symbol.id.market, symbol.id.symbol, symbol.security_type))


@dataclass
class SecurityHolding:
    """LEAN ``Common/Securities/SecurityHolding.cs``: ``Quantity`` and ``AveragePrice`` (0: none
    given by the test)."""

    quantity: float = 0.0
    average_price: float = 0.0


@dataclass
class SecurityExchangeHours:
    """LEAN ``Common/Securities/SecurityExchangeHours.cs``, reduced to one regular session a
    day: ``regular_close`` (exchange time zone) and ``early_closes`` by date; weekends closed.
    Tests set the hours of the symbol they schedule on (SPX: 15:15 CT)."""

    regular_close: time = time(16, 0)
    early_closes: dict[date, time] = field(default_factory=dict)
    holidays: set[date] = field(default_factory=set)

    def is_date_open(self, local_date_time: datetime | date, extended_market_hours: bool = False) -> bool:
        day = local_date_time.date() if isinstance(local_date_time, datetime) else local_date_time
        return day.weekday() < 5 and day not in self.holidays

    def get_last_daily_market_close(self, local_date_time: datetime | date, extended_market_hours: bool) -> datetime:
        """``GetLastDailyMarketClose``: the day's regular close, early closes included."""
        day = local_date_time.date() if isinstance(local_date_time, datetime) else local_date_time
        return datetime.combine(day, self.early_closes.get(day, self.regular_close))


@dataclass
class SecurityExchange:
    time_zone: str = "America/New_York"
    hours: SecurityExchangeHours = field(default_factory=SecurityExchangeHours)


@dataclass
class BaseData:
    symbol: Symbol | None
    price: float
    end_time: datetime | None = None  # local exchange time
    # LEAN Common/Data/BaseData.cs IsFillForward: set on the copies FillForwardEnumerator emits
    is_fill_forward: bool = False


@dataclass
class QuoteBar(BaseData):
    """LEAN ``Common/Data/Market/QuoteBar.cs``: the closes of the bid and ask bars."""

    bid_close: float = 0.0
    ask_close: float = 0.0

    def fill_forward(self, end_time: datetime) -> QuoteBar:
        """LEAN ``BaseData.Clone(fillForward: true)`` as ``FillForwardEnumerator`` emits it:
        the same prices, a new end time, ``is_fill_forward``."""
        return QuoteBar(self.symbol, self.price, end_time, True, self.bid_close, self.ask_close)


@dataclass
class TradeBar(BaseData):
    """LEAN ``Common/Data/Market/TradeBar.cs`` (its close is ``price``)."""


class SecurityCache:
    """LEAN ``Common/Securities/SecurityCache.cs``: the last data point of each type.
    ``get_data(QuoteBar)`` is ``GetData<T>()``; ``get_data()`` the last data of any type."""

    def __init__(self) -> None:
        self.by_type: dict[type, BaseData] = {}
        self.last: BaseData | None = None

    def get_data(self, data_type: type | None = None) -> BaseData | None:
        return self.last if data_type is None else self.by_type.get(data_type)


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
    last_data: BaseData | None = None
    cache: SecurityCache = field(default_factory=SecurityCache)
    buying_power_model: Any = None

    def __post_init__(self) -> None:
        # LEAN Common/Securities/Future/Future.cs constructor: BuyingPowerModel = new
        # FutureMarginModel(0, this) for every future (stand-in: lean_margins.py)
        if self.buying_power_model is None and self.type == SecurityType.FUTURE:
            from lean_margins import FutureMarginModel

            self.buying_power_model = FutureMarginModel(0.0, self)

    def receive(self, data: BaseData) -> None:
        """A data point reaching the security. Copies LEAN ``SecurityCache.ProcessDataPoint``
        (``Common/Securities/SecurityCache.cs``): a fill-forward point is not cached and
        changes neither the last data nor the prices; a real one is stored by type, becomes
        the last data and sets bid/ask (quote bar) or price."""
        if data.is_fill_forward:
            return
        self.cache.by_type[type(data)] = data
        self.cache.last = self.last_data = data
        if isinstance(data, QuoteBar):
            self.bid_price, self.ask_price = data.bid_close, data.ask_close
            if data.bid_close > 0 and data.ask_close > 0:
                self.price = (data.bid_close + data.ask_close) / 2
        else:
            self.price = data.price

    @property
    def has_data(self) -> bool:
        return self.last_data is not None or self.price > 0 or self.bid_price > 0 or self.ask_price > 0

    @property
    def close(self) -> float:
        return self.price

    def get_last_data(self) -> BaseData | None:
        return self.last_data

    def set_fee_model(self, model: Any) -> None:
        self.fee_model = model


@dataclass(eq=False)
class Future(Security):
    filter_days: tuple[int, int] | None = None

    def set_filter(self, min_expiry_days: int, max_expiry_days: int) -> None:
        self.filter_days = (min_expiry_days, max_expiry_days)


@dataclass(eq=False)
class Option(Security):
    """Canonical option security (``add_option`` / ``add_index_option``)."""

    filter: Callable[[Any], Any] | None = None

    def set_filter(self, universe_func: Callable[[Any], Any]) -> None:
        self.filter = universe_func


class SecurityManager(dict[Symbol, Security]):
    def contains_key(self, symbol: Symbol) -> bool:
        return symbol in self


# ----- data ---------------------------------------------------------------------------------
@dataclass
class OptionContract:
    symbol: Symbol
    strike: float
    expiry: datetime
    right: OptionRight
    bid_price: float
    ask_price: float
    time: datetime  # end of the last bar, exchange time zone (naive)

    @property
    def id(self) -> SecurityIdentifier:
        return self.symbol.id


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
    weeklys_included: bool = False

    def include_weeklys(self) -> OptionFilterUniverse:
        self.weeklys_included = True
        return self

    def expiration(self, min_days: int, max_days: int) -> OptionFilterUniverse:
        today = self.local_time.date()
        self.rows = [r for r in self.rows if min_days <= (r.id.date.date() - today).days <= max_days]
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
class CashAmount:
    amount: float
    currency: str


@dataclass
class OrderFee:
    value: CashAmount


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
    is_in_the_money: bool = False
    order_fee: OrderFee = field(default_factory=lambda: OrderFee(CashAmount(0.0, "USD")))


@dataclass
class Order:
    """``Orders/Order.cs`` as leanhost reads it: ``broker_id`` is the brokerage's ids of the
    order (a list; LEAN keeps it across a restart, when the order itself gets a new ``id``:
    ``BrokerageTransactionHandler.AddOpenOrder``)."""

    id: int
    symbol: Symbol
    quantity: float
    type: OrderType
    broker_id: list[str] = field(default_factory=list)
    limit_price: float = 0.0


class ArgumentException(Exception):  # noqa: N818 - LEAN's (.NET) name, as pythonnet raises it
    """.NET ``System.ArgumentException`` as pythonnet surfaces it in Python (a subclass of
    ``Exception``)."""


class InvalidOperationException(Exception):  # noqa: N818 - LEAN's (.NET) name
    """.NET ``System.InvalidOperationException`` as pythonnet surfaces it."""


@dataclass
class UpdateOrderFields:
    """LEAN's ``UpdateOrderFields`` (``Common/Orders/UpdateOrderFields.cs``): what to change."""

    limit_price: float | None = None
    quantity: float | None = None
    tag: str | None = None


@dataclass
class OrderResponse:
    """LEAN's ``OrderResponse``: ``is_success`` and, when it failed, ``error_message``."""

    is_success: bool
    error_message: str = ""


@dataclass
class OrderFeeParameters:
    security: Security
    order: Order


class FeeModel:
    def __init__(self) -> None:
        pass

    def get_order_fee(self, parameters: Any) -> OrderFee:
        raise NotImplementedError


# ----- brokerage models, messages, margin calls, commands -------------------------------------
class DefaultBrokerageModel:
    """LEAN's default model: a backtest's, and a live run's on the paper brokerage
    (``Brokerages/Paper/PaperBrokerageFactory.cs`` ``GetBrokerageModel``)."""


class TastytradeBrokerageModel(DefaultBrokerageModel):
    """What ``TastytradeBrokerageFactory.GetBrokerageModel`` returns (Lean.Brokerages.Tastytrade)."""


class InteractiveBrokersBrokerageModel(DefaultBrokerageModel):
    """What ``InteractiveBrokersBrokerageFactory.GetBrokerageModel`` returns."""


BROKERAGE_MODELS: dict[BrokerageName, type[DefaultBrokerageModel]] = {
    BrokerageName.TASTYTRADE: TastytradeBrokerageModel,
    BrokerageName.INTERACTIVE_BROKERS_BROKERAGE: InteractiveBrokersBrokerageModel,
}
"""``set_brokerage_model(name)`` -> the model it installs (``BrokerageModel.Create``)."""


@dataclass
class BrokerageMessageEvent:
    """``Common/Brokerages/BrokerageMessageEvent.cs``: type, code (text), message."""

    type: BrokerageMessageType
    code: str
    message: str


class MarginCallModel:
    """``Common/Securities/IMarginCallModel.cs``: ``MarginCallModel.NULL`` never calls."""

    NULL: Any = "MarginCallModel.Null"


class Command:
    """LEAN's untyped command (``Common/Commands/Command.cs``): fields by name, case-insensitive;
    a missing field reads as ``None`` (``GetProperty``)."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self._storage = {k.lower(): v for k, v in payload.items()}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._storage.get(name.lower())

    def __str__(self) -> str:
        return str(self._storage)
