"""Fixtures of the leanhost tests: the ``AlgorithmImports`` stand-in and main.py under it.

The stand-in is installed explicitly (``sys.modules["AlgorithmImports"]``), because with
quantconnect-stubs installed ``import AlgorithmImports`` silently finds the stubs' empty
package. Modules that imported it (``leanhost.*``, main.py) are dropped before and after
each test so that none keeps a stale binding.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from thetacore.parameters import Parameters

ROOT = Path(__file__).resolve().parents[2]
STAND_IN = Path(__file__).resolve().parent / "stand_in"
MAIN_MODULE = "thetadesk_main"


def _load(name: str, path: Path, *, register: bool) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    if register:
        sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _drop_host_modules() -> None:
    for name in [
        n for n in sys.modules if n == "leanhost" or n.startswith("leanhost.") or n == MAIN_MODULE
    ]:
        del sys.modules[name]


SMTP_VARIABLES = ("HOST", "PORT", "USER", "PASSWORD", "FROM", "TO")


@pytest.fixture(autouse=True)
def no_alert_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test mails anyone: the THETADESK_SMTP_* variables of the developer's shell are
    removed (tests that need SMTP point them at a local stub)."""
    for name in SMTP_VARIABLES:
        monkeypatch.delenv(f"THETADESK_SMTP_{name}", raising=False)


@pytest.fixture
def lean(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The fake LEAN world (``lean_fakes``), with the stand-in installed as AlgorithmImports."""
    monkeypatch.syspath_prepend(str(STAND_IN))
    fakes = importlib.import_module("lean_fakes")  # cached: one set of fake classes per session
    stand_in = _load("AlgorithmImports", STAND_IN / "AlgorithmImports.py", register=False)
    monkeypatch.setitem(sys.modules, "AlgorithmImports", stand_in)
    monkeypatch.setattr(fakes.Globals, "data_folder", str(ROOT / "data"))  # lean.json "data-folder"
    _drop_host_modules()
    yield fakes
    _drop_host_modules()


@pytest.fixture
def host(lean: ModuleType) -> Callable[[str], ModuleType]:
    """Import a ``leanhost`` module (``host("orders")``) under the stand-in."""
    return lambda name: importlib.import_module(f"leanhost.{name}")


@pytest.fixture
def main_module(lean: ModuleType) -> ModuleType:
    """main.py imported under the stand-in."""
    return _load(MAIN_MODULE, ROOT / "main.py", register=True)


@pytest.fixture
def make_algorithm(main_module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``make_algorithm(**parameters)``: a ThetaDeskAlgorithm with those config strings,
    initialised through the stand-in. ``strategies=factory`` replaces the registry's
    ``build_strategies(params)`` (strategies not registered yet, or test doubles);
    ``setup(algorithm)`` runs before ``initialize`` (live mode, a shared object store).
    ``fresh_start`` defaults to ``"true"``: a live test run is a first deployment unless its
    store holds a book (a restart; a saved book always wins) or the test sets it."""

    def make(strategies: Callable[[Parameters], list[Any]] | None = None,
             setup: Callable[[Any], None] | None = None, **parameters: str) -> Any:
        if strategies is not None:
            monkeypatch.setattr(main_module, "build_strategies", strategies)
        algorithm = main_module.ThetaDeskAlgorithm()
        algorithm.parameters.update({"fresh_start": "true", **parameters})
        if setup is not None:
            setup(algorithm)
        algorithm.initialize()
        return algorithm

    return make
