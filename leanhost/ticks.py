"""The option ticks LEAN must round our limits to.

LEAN rounds every limit to the security's minimum price variation before sending it
(``Engine/TransactionHandlers/BrokerageTransactionHandler.cs``, ``RoundOrderPrices``; the
increment comes from ``Common/Securities/SecurityPriceVariationModel.cs``, i.e. the
security's ``SymbolProperties.MinimumPriceVariation``). LEAN's symbol-properties database
(``Data/symbol-properties/symbol-properties-database.csv``) has no ``futureoption`` row for ES
or MES, so ``SymbolPropertiesDatabase.GetSymbolProperties`` falls back to the future's row
(``cme,ES,future``: 0.25), and an ES option limit of 3.35 would go out as 3.25 or 3.50.

The CME ticks of ES and MES options are 0.05 for premiums at or below 5.00 and 0.25 above
(:data:`thetacore.products.PRODUCTS`). ``SymbolProperties`` holds one increment, so the entry
set here is the finest (0.05): a limit our strategies placed on the CME tick
(:meth:`~thetacore.products.OptionProduct.leg_tick_pts` / ``combo_tick_pts``) is a multiple of
0.05 and LEAN sends it unchanged. The entry is set with
``QCAlgorithm.symbol_properties_database.set_entry(market, root, SecurityType.FUTURE_OPTION,
SymbolProperties(...))`` (``Common/Securities/SymbolPropertiesDatabase.cs``, ``SetEntry``; key
``BaseSecurityDatabase.GetDatabaseSymbolKey``: a future option's ``ID.Symbol``, the future's
root) BEFORE the options are subscribed, so every contract LEAN creates gets it (LEAN's own
Python algorithms call it the same way: ``Algorithm.Python/
ManuallySetMarketHoursAndSymbolPropertiesDatabaseEntriesAlgorithm.py``).

Index options keep LEAN's own model (``IndexOptionPriceVariationModel``: 0.05 / 0.10 by price),
equity options the database's 0.01.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from AlgorithmImports import SecurityType, SymbolProperties

from thetacore.products import PRODUCTS

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm, Security


def set_future_option_ticks(algorithm: QCAlgorithm, root: str, future: Security) -> None:
    """Give the options on ``future`` (canonical future security of ``root``) LEAN symbol
    properties with the finest CME option tick of ``root`` and the future's multiplier and
    quote currency.

    Raises:
        KeyError: naming the root when :mod:`thetacore.products` has no facts for it.
    """
    facts = PRODUCTS[root]
    props = future.symbol_properties
    tick = min(facts.tick_pts, facts.small_tick_pts)
    entry = SymbolProperties(f"{root} futures options (CME ticks: {facts.small_tick_pts:g} up to "
                             f"{facts.small_tick_below_pts:g}, {facts.tick_pts:g} above)",
                             props.quote_currency, props.contract_multiplier, tick, props.lot_size, root)
    algorithm.symbol_properties_database.set_entry(future.symbol.id.market, root, SecurityType.FUTURE_OPTION, entry)
    algorithm.log(f"{root} futures options: minimum price variation {tick:g} (LEAN's database falls back "
                  f"to the future's {float(props.minimum_price_variation):g})")
