"""The AlgorithmImports stand-in against quantconnect-stubs: every name leanhost and main.py
import exists in the stubs, the stand-in holds only the names they use at run time, and its
enum values and constants are LEAN's."""

from __future__ import annotations

import ast
import enum
import importlib.util
import re
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST_FILES = [ROOT / "main.py", *sorted((ROOT / "leanhost").glob("*.py"))]


def _stubs_root() -> Path:
    spec = importlib.util.find_spec("QuantConnect")
    assert spec is not None and spec.submodule_search_locations, "quantconnect-stubs not installed"
    return Path(next(iter(spec.submodule_search_locations))).parent


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imported_names() -> tuple[set[str], set[str]]:
    """``(run-time names, type-checking-only names)`` imported from AlgorithmImports by
    main.py and leanhost."""
    runtime: set[str] = set()
    typing_only: set[str] = set()
    for path in HOST_FILES:
        tree = ast.parse(path.read_text())
        guarded = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and _is_type_checking(node)
            for n in ast.walk(node)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "AlgorithmImports":
                names = {a.name for a in node.names}
                assert "*" not in names, f"{path.name}: import names explicitly"
                (typing_only if id(node) in guarded else runtime).update(names)
    return runtime, typing_only - runtime


@cache
def stub_sources() -> dict[str, str]:
    """Source text of each top-level class or function reachable through
    ``from AlgorithmImports import *`` in the stubs (the QuantConnect modules named by the
    stub's star imports), by name. Found by a top-level regex (the stubs are ~13 MB; a full
    parse takes seconds), each definition parsable on its own with :mod:`ast`."""
    root = _stubs_root()
    tree = ast.parse((root / "AlgorithmImports" / "__init__.pyi").read_text())
    modules = [
        n.module
        for n in tree.body
        if isinstance(n, ast.ImportFrom)
        and n.module
        and n.module.startswith("QuantConnect")
        and n.names[0].name == "*"
    ]
    found: dict[str, str] = {}
    for module in modules:
        text = (root.joinpath(*module.split(".")) / "__init__.pyi").read_text()
        starts = [(m.start(), m.group(1)) for m in _TOP_LEVEL.finditer(text)]
        for (start, name), (end, _) in zip(starts, [*starts[1:], (len(text), "")], strict=True):
            found.setdefault(name, text[start:end])
    return found


_TOP_LEVEL = re.compile(r"^(?:class|def) (\w+)\b", re.MULTILINE)


def stub_class(name: str) -> ast.ClassDef:
    node = ast.parse(stub_sources()[name]).body[0]
    assert isinstance(node, ast.ClassDef)
    return node


def _stub_constants(node: ast.ClassDef) -> dict[str, object]:
    """``NAME = value`` / ``NAME: type = value`` literals of a stub class (enum members)."""
    out: dict[str, object] = {}
    for item in node.body:
        if isinstance(item, ast.Assign) and isinstance(item.value, ast.Constant):
            for target in item.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = item.value.value
        elif (
            isinstance(item, ast.AnnAssign)
            and isinstance(item.target, ast.Name)
            and isinstance(item.value, ast.Constant)
        ):
            out[item.target.id] = item.value.value
    return out


def test_when_host_imports_from_algorithm_imports_then_every_name_exists_in_the_stubs() -> None:
    runtime, typing_only = imported_names()
    missing = sorted(n for n in runtime | typing_only if n not in stub_sources())
    assert not missing, f"not in quantconnect-stubs' AlgorithmImports: {missing}"


def test_when_stand_in_is_loaded_then_it_holds_exactly_the_run_time_names(lean: ModuleType) -> None:
    import AlgorithmImports as stand_in

    runtime, _ = imported_names()
    assert set(stand_in.__all__) == runtime
    public = {n for n in vars(stand_in) if not n.startswith("_")} - {"annotations"}
    assert public == runtime, f"stand-in holds extra names: {sorted(public - runtime)}"


def test_when_stand_in_names_are_compared_then_each_exists_in_the_stubs(lean: ModuleType) -> None:
    import AlgorithmImports as stand_in

    assert not [n for n in stand_in.__all__ if n not in stub_sources()]


@pytest.mark.parametrize(
    "name",
    [
        "Resolution",
        "SecurityType",
        "OptionRight",
        "OrderStatus",
        "BrokerageName",
        "AccountType",
        "DataNormalizationMode",
        "OrderType",
        "DeploymentTarget",
    ],
)
def test_when_stand_in_enum_is_compared_then_its_values_are_leans(
    lean: ModuleType, name: str
) -> None:
    import AlgorithmImports as stand_in

    fake = getattr(stand_in, name)
    assert issubclass(fake, enum.IntEnum)
    values = _stub_constants(stub_class(name))
    assert {m.name: m.value for m in fake} == {m.name: values[m.name] for m in fake}


def test_when_futures_tickers_are_compared_then_they_are_leans(lean: ModuleType) -> None:
    import AlgorithmImports as stand_in

    futures = stub_class("Futures")
    indices = next(n for n in futures.body if isinstance(n, ast.ClassDef) and n.name == "Indices")
    values = _stub_constants(indices)
    assert stand_in.Futures.Indices.SP_500_E_MINI == values["SP_500_E_MINI"] == "ES"
    assert stand_in.Futures.Indices.MICRO_SP_500_E_MINI == values["MICRO_SP_500_E_MINI"] == "MES"
