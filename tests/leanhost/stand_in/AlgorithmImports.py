"""Stand-in for LEAN's ``AlgorithmImports`` in tests: ONLY the names that ``main.py`` and
``leanhost`` import from it at run time (names they import for type checking only are checked
against the stubs by ``test_leanhost_stand_in.py`` but need no stand-in).

Installed by the ``lean`` fixture of ``tests/leanhost/conftest.py`` as
``sys.modules["AlgorithmImports"]``: with quantconnect-stubs installed, a plain
``import AlgorithmImports`` would silently find the stubs' empty package instead.
"""

from lean_fakes import (
    AccountType,
    BrokerageName,
    CashAmount,
    DataNormalizationMode,
    DeploymentTarget,
    FeeModel,
    Futures,
    Globals,
    Leg,
    OptionRight,
    OrderFee,
    OrderStatus,
    OrderType,
    QCAlgorithm,
    QuoteBar,
    Resolution,
    SecurityType,
    TimeZones,
)

__all__ = [
    "AccountType",
    "BrokerageName",
    "CashAmount",
    "DataNormalizationMode",
    "DeploymentTarget",
    "FeeModel",
    "Futures",
    "Globals",
    "Leg",
    "OptionRight",
    "OrderFee",
    "OrderStatus",
    "OrderType",
    "QCAlgorithm",
    "QuoteBar",
    "Resolution",
    "SecurityType",
    "TimeZones",
]
