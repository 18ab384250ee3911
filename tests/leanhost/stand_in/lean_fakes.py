"""The fake LEAN world of the leanhost tests, in one namespace (the ``lean`` fixture): LEAN's
types (:mod:`lean_types`) and a recording ``QCAlgorithm`` (:mod:`lean_algorithm`).

Only ``AlgorithmImports.py`` stands in for LEAN's names; the helpers here
(``SecurityIdentifier``, ``OptionContract``, ``Slice``...) mirror the LEAN attributes leanhost
reads, nothing more.
"""

from lean_algorithm import (
    ComboOrder,
    DateRule,
    DateRules,
    NotificationManager,
    ObjectStore,
    OrderTicket,
    Portfolio,
    QCAlgorithm,
    ScheduledEvent,
    TimeRule,
    TimeRules,
    before_market_close_utc,
)
from lean_types import (
    AccountType,
    BaseData,
    BrokerageName,
    CashAmount,
    DataNormalizationMode,
    DeploymentTarget,
    FeeModel,
    Future,
    Futures,
    Globals,
    Leg,
    Option,
    OptionChain,
    OptionChains,
    OptionContract,
    OptionFilterUniverse,
    OptionRight,
    Order,
    OrderEvent,
    OrderFee,
    OrderStatus,
    OrderType,
    QuoteBar,
    Resolution,
    Security,
    SecurityCache,
    SecurityExchangeHours,
    SecurityIdentifier,
    SecurityType,
    Slice,
    Symbol,
    SymbolProperties,
    TimeZones,
    TradeBar,
)

__all__ = [
    "AccountType", "BaseData", "BrokerageName", "CashAmount", "ComboOrder", "DataNormalizationMode",
    "DateRule", "DateRules", "DeploymentTarget", "FeeModel", "Future", "Futures", "Globals", "Leg",
    "NotificationManager", "ObjectStore", "Option", "OptionChain", "OptionChains", "OptionContract", "OptionFilterUniverse", "OptionRight", "Order", "OrderEvent",
    "OrderFee", "OrderStatus", "OrderTicket", "OrderType", "Portfolio", "QCAlgorithm", "Resolution",
    "ScheduledEvent", "Security", "SecurityIdentifier", "SecurityType", "Slice", "Symbol",
    "SymbolProperties", "TimeRule", "TimeRules", "TimeZones", "SecurityExchangeHours", "before_market_close_utc",
    "QuoteBar", "TradeBar", "SecurityCache",
]
