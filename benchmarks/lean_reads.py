"""Goal 4: option-contract reads per LEAN decision, counted through the stand-in.

main.py runs under the project's ``AlgorithmImports`` stand-in (``tests/leanhost/stand_in``)
on the REAL ES chain of 2020-01-06 10:00 ET (``tests/leanhost/es_world.install_es_chain``),
with the README's relaxed strangle parameters. Counted: every ``OptionContract`` the host
takes from a slice's ``OptionChain`` (LEAN: one object across the Python/.NET bridge each)
and every ``securities[symbol]`` of an option contract. A count, not a timing.

Targets (issue 10): an entry decision reads the filtered chain once; a management decision
reads only the contracts held: first with nothing to manage yet, then with the entered
strangle filled (each leg at 2.5 x its mid: its take profit is due) and each chain row's quote
bar in its contract's security (as LEAN's ``SecurityCache.ProcessDataPoint``). Reading the
chain once means two reads per contract: its chain row and its security, whose cache holds
the real (not fill-forwarded) quote bar's time (issue 7, ``leanhost/freshness.py``); a held
leg is one read, its security (``leanhost.chains.ChainReader.read_held``; the leg's
underlying future's security is not an option contract and is not counted). The management
figure counts the decision and the gate's review, up to the router's send; sending the close
reads each leg's security 3 more times (the router's tick and holdings look-ups, LEAN's own
combo-limit rounding), shown apart.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAND_IN = ROOT / "tests" / "leanhost" / "stand_in"
WORLD = ROOT / "tests" / "leanhost"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class _Counter:
    contracts = 0


def _count_reads(types: ModuleType) -> None:
    chain_iter = types.OptionChain.__iter__
    get_security = types.SecurityManager.__getitem__
    options = (types.SecurityType.FUTURE_OPTION, types.SecurityType.OPTION, types.SecurityType.INDEX_OPTION)

    def iter_counting(self: Any) -> Any:
        for contract in chain_iter(self):
            _Counter.contracts += 1
            yield contract

    def get_counting(self: Any, symbol: Any) -> Any:
        if getattr(symbol, "security_type", None) in options:
            _Counter.contracts += 1
        return get_security(self, symbol)

    types.OptionChain.__iter__ = iter_counting
    types.SecurityManager.__getitem__ = get_counting


def _fill_entry(lean: ModuleType, algorithm: Any) -> int:
    """Fill the entered strangle (each leg at 2.5 x its mid) and give every chain row's quote
    bar to its security; the number of legs held."""
    tickets = algorithm.combo_orders[0].tickets
    for ticket in tickets:
        security = algorithm.securities[ticket.symbol]
        algorithm.fill(ticket, round(2.5 * (security.bid_price + security.ask_price) / 2, 2))
    for chain in algorithm.current_slice.option_chains.values():
        for contract in chain.contracts:
            security = algorithm.securities[contract.symbol]
            security.receive(lean.QuoteBar(contract.symbol, security.price, contract.time, False,
                                           contract.bid_price, contract.ask_price))
    return len(tickets)


def _manage_held(world: ModuleType, algorithm: Any) -> tuple[int, int, str]:
    """``(reads up to the router's send, reads sending the close, the decision's codes)``."""
    router, at_send = algorithm.risk.router, []
    send = router.send
    router.send = lambda intent: at_send.append(_Counter.contracts) or send(intent)
    _Counter.contracts = 0
    world.fire(algorithm, "futures_strangle:manage")
    decided = at_send[0] if at_send else _Counter.contracts
    codes = ",".join(algorithm.journal.decisions()[-1].codes)
    return decided, _Counter.contracts - decided, codes


def run() -> list[dict[str, Any]]:
    """Contract reads of one entry and two management decisions of the strangle."""
    saved_path, saved_modules = list(sys.path), dict(sys.modules)
    try:
        sys.path[:0] = [str(STAND_IN), str(WORLD)]
        fakes = importlib.import_module("lean_fakes")
        sys.modules["AlgorithmImports"] = _load("AlgorithmImports", STAND_IN / "AlgorithmImports.py")
        fakes.Globals.data_folder = str(ROOT / "data")
        for name in [n for n in sys.modules if n == "leanhost" or n.startswith("leanhost.")]:
            del sys.modules[name]
        main = _load("thetadesk_main_bench", ROOT / "main.py")
        world = importlib.import_module("es_world")
        algorithm = main.ThetaDeskAlgorithm()
        algorithm.parameters.update(world.RELAXED)
        algorithm.initialize()
        chain_slice = world.install_es_chain(fakes, algorithm)
        world.calm_es_market(algorithm)
        listed = sum(len(c) for c in chain_slice.option_chains.values())
        _count_reads(importlib.import_module("lean_types"))
        _Counter.contracts = 0
        world.fire(algorithm, "futures_strangle:manage")
        manage = _Counter.contracts
        _Counter.contracts = 0
        world.fire(algorithm, "futures_strangle:entry")
        entry = _Counter.contracts
        legs = _fill_entry(fakes, algorithm)
        held, sending, codes = _manage_held(world, algorithm)
    finally:
        sys.path[:] = saved_path
        for name in [n for n in sys.modules if n not in saved_modules]:
            del sys.modules[name]
        sys.modules.update(saved_modules)
    return [
        {"goal": "4 LEAN reads", "figure": f"entry decision (strangle), {listed} contracts in the slice",
         "value": f"{entry} contract reads", "baseline": f"chain size {listed}", "ratio": f"{entry / listed:.2f}x",
         "target": "chain once: row + security per contract (+ legs)", "met": entry <= 2 * (listed + 4)},
        {"goal": "4 LEAN reads", "figure": "management decision (strangle), 0 legs held",
         "value": f"{manage} contract reads", "baseline": f"chain size {listed}", "ratio": f"{manage / listed:.2f}x",
         "target": "= legs held (0)", "met": manage == 0},
        {"goal": "4 LEAN reads", "figure": f"management decision (strangle), {legs} legs held [{codes}]",
         "value": f"{held} contract reads (+{sending} sending the close)", "baseline": f"chain size {listed}",
         "ratio": f"{held / listed:.3f}x", "target": f"= legs held ({legs})", "met": held == legs},
    ]
