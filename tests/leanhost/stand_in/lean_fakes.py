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
)
from lean_threads import BrokerageThread
from lean_types import (
    AccountType,
    ArgumentException,
    BaseData,
    BrokerageMessageEvent,
    BrokerageMessageType,
    BrokerageName,
    CashAmount,
    Command,
    DataNormalizationMode,
    DefaultBrokerageModel,
    DeploymentTarget,
    FeeModel,
    Future,
    Futures,
    Globals,
    InteractiveBrokersBrokerageModel,
    InvalidOperationException,
    Leg,
    MarginCallModel,
    Option,
    OptionChain,
    OptionChains,
    OptionContract,
    OptionFilterUniverse,
    OptionRight,
    Order,
    OrderEvent,
    OrderFee,
    OrderFeeParameters,
    OrderStatus,
    OrderType,
    Resolution,
    Security,
    SecurityIdentifier,
    SecurityType,
    Slice,
    Symbol,
    SymbolProperties,
    SymbolPropertiesDatabase,
    TastytradeBrokerageModel,
    TimeZones,
    UpdateOrderFields,
    lean_symbol_properties,
)

__all__ = [
    "BrokerageMessageEvent", "BrokerageMessageType", "Command", "DefaultBrokerageModel",
    "InteractiveBrokersBrokerageModel", "MarginCallModel", "TastytradeBrokerageModel",
    "AccountType", "ArgumentException", "BaseData", "BrokerageThread", "BrokerageName", "CashAmount", "ComboOrder", "DataNormalizationMode",
    "DateRule", "DateRules", "DeploymentTarget", "FeeModel", "Future", "Futures", "Globals", "InvalidOperationException", "Leg",
    "NotificationManager", "ObjectStore", "Option", "OptionChain", "OptionChains", "OptionContract", "OptionFilterUniverse", "OptionRight", "Order", "OrderEvent",
    "OrderFee", "OrderFeeParameters", "OrderStatus", "OrderTicket", "OrderType", "Portfolio", "QCAlgorithm", "Resolution",
    "ScheduledEvent", "Security", "SecurityIdentifier", "SecurityType", "Slice", "Symbol",
    "SymbolProperties", "SymbolPropertiesDatabase", "TimeRule", "TimeRules", "TimeZones",
    "UpdateOrderFields", "lean_symbol_properties",
]
