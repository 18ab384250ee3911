"""modelled/ is pure: it never imports LEAN (AlgorithmImports) nor the replay's engine, broker
or entry point (it may read data through replay.lean_data)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("AlgorithmImports", "QuantConnect", "leanhost", "replay.engine", "replay.broker", "replay.__main__",
             "main")


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_modelled_imports_no_lean_and_no_replay_host() -> None:
    files = sorted((ROOT / "modelled").glob("*.py"))
    assert len(files) >= 7
    for path in files:
        bad = {m for m in _imports(path) for f in FORBIDDEN if m == f or m.startswith(f + ".")}
        assert not bad, (path.name, bad)
