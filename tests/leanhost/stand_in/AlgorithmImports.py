"""Stand-in for LEAN's ``AlgorithmImports`` in tests: ONLY the names that ``main.py`` and
``leanhost`` import from it at run time (names they import for type checking only are checked
against the stubs by ``test_leanhost_stand_in.py`` but need no stand-in).

Installed by the ``lean`` fixture of ``tests/leanhost/conftest.py`` as
``sys.modules["AlgorithmImports"]``: with quantconnect-stubs installed, a plain
``import AlgorithmImports`` would silently find the stubs' empty package instead.
"""

from lean_fakes import (
    AccountType,
    BrokerageMessageType,
    BrokerageName,
    CashAmount,
    DataNormalizationMode,
    DeploymentTarget,
    FeeModel,
    Futures,
    Globals,
    Leg,
    MarginCallModel,
    OptionRight,
    OrderFee,
    OrderStatus,
    OrderType,
    QCAlgorithm,
    QuoteBar,
    Resolution,
    SecurityIdentifier,
    SecurityType,
    Symbol,
    TimeZones,
)
from lean_fakes import lean_symbol_properties as SymbolProperties  # LEAN's constructor

__all__ = [
    "AccountType",
    "BrokerageMessageType",
    "BrokerageName",
    "CashAmount",
    "DataNormalizationMode",
    "DeploymentTarget",
    "FeeModel",
    "Futures",
    "Globals",
    "Leg",
    "MarginCallModel",
    "OptionRight",
    "OrderFee",
    "OrderStatus",
    "OrderType",
    "QCAlgorithm",
    "QuoteBar",
    "Resolution",
    "SecurityIdentifier",
    "SecurityType",
    "Symbol",
    "SymbolProperties",
    "TimeZones",
]
