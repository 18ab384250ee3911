"""The installed LEAN CLI (`pip install lean`) accepts the layout the README describes.

Run by .ci/run with the Python of a venv that has `lean` installed:
    .ci-venv-cli/bin/python .ci/lean_cli_check.py

Offline, without Docker and without a QuantConnect login, each command goes as far as the CLI
goes before it needs Docker, so every check of the workspace, the project folder and the
options is the real CLI's own code (QuantConnect/lean-cli):
  * a workspace made as `lean init` makes it: lean.json with `organization-id` and
    `data-folder` (lean/commands/init.py, init; lean/components/util/organization_manager.py,
    configure_working_organization_id), with this repository cloned into it as `ThetaDesk/`;
  * `lean backtest ThetaDesk` (from the workspace) and `lean backtest .` (from the project)
    reach the Docker step: lean.json found upward from the working directory
    (lean/components/config/lean_config_manager.py, get_lean_config_path), not "an old Lean
    CLI root folder" (lean/commands/lean.py, lean), main.py found
    (lean/components/util/project_manager.py, find_algorithm_file);
  * a lean.json without `organization-id` inside the project folder -- what this repository
    had -- is refused with "This is an old Lean CLI root folder";
  * `lean backtest` has `--parameter`; `lean live deploy` has none (lean/commands/live/deploy.py).

The CLI reads its module list (brokerages, data providers) from a file it downloads from
QuantConnect's CDN at import time (lean/models/__init__.py); this machine cannot reach it, so an
absent file is replaced by a small stand-in listing the modules the commands below name. No
check here depends on what the stand-in lists beyond those names.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEAN = Path(sys.executable).with_name("lean")
ORG_ID = "0" * 32  # the shape `lean init` writes (a 32-hex organization id); not a secret
SKIP = {".git", "data", "out", ".ci-out", "__pycache__", ".pytest_cache", ".mypy_cache",
        ".ruff_cache", ".hypothesis", ".benchmarks", "backtests", "live", "optimizations"}
LAYOUT_ERRORS = ("old Lean CLI root folder", "does not contain a main.py",
                 "requires a Lean configuration file", "No such option", "is not a valid path",
                 "Error: Invalid value", "Traceback")


def _stand_in_modules() -> None:
    """Write the CLI's module list where it looks for it, unless a real one is there."""
    import lean  # the CLI's package; its models/__init__.py names the file it downloads

    package = Path(lean.__file__).parent
    source = (package / "models" / "__init__.py").read_text(encoding="utf-8")
    file_name = re.search(r'file_name = "([^"]+)"', source)
    assert file_name, "lean/models/__init__.py no longer names its modules file"
    target = package / file_name.group(1)
    if target.is_file():
        return

    def module(mid: str, name: str, kinds: list[str]) -> dict[str, object]:
        return {"id": mid, "display-id": name, "type": kinds, "platform": ["cli"], "configurations": []}

    modules = [module("LocalDataDownloader", "Local", ["data-downloader"]),
               module("QuantConnectDataDownloader", "QuantConnect", ["data-downloader"]),
               module("InteractiveBrokersBrokerage", "Interactive Brokers", ["brokerage", "data-queue-handler"]),
               module("TastytradeBrokerage", "Tastytrade", ["brokerage", "data-queue-handler"])]
    target.write_text(json.dumps({"modules": modules}), encoding="utf-8")
    print(f"   stand-in module list written to {target}")


def _lean(args: list[str], cwd: Path, home: Path) -> tuple[int, str]:
    env = dict(os.environ, HOME=str(home), COLUMNS="200")  # the CLI keeps its settings in ~/.lean
    done = subprocess.run([str(LEAN), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)
    return done.returncode, done.stdout + done.stderr


def _reaches_docker(args: list[str], cwd: Path, home: Path) -> None:
    code, out = _lean(args, cwd, home)
    bad = [e for e in LAYOUT_ERRORS if e in out]
    assert not bad, f"lean {' '.join(args)} (in {cwd.name}): {bad}\n{out}"
    assert code == 0 or "Docker" in out, f"lean {' '.join(args)} stopped before Docker:\n{out}"
    print(f"   ok: `lean {' '.join(args)}` in {cwd.name}/ gets to the Docker step")


def main() -> None:
    _stand_in_modules()
    with tempfile.TemporaryDirectory(prefix="thetadesk-cli-") as tmp:
        home, workspace = Path(tmp) / "home", Path(tmp) / "workspace"
        home.mkdir()
        (workspace / "data").mkdir(parents=True)
        # what `lean init` leaves (besides LEAN's sample data and its engine settings)
        (workspace / "lean.json").write_text(json.dumps(
            {"data-folder": "data", "job-organization-id": ORG_ID, "organization-id": ORG_ID}))
        project = workspace / "ThetaDesk"
        shutil.copytree(ROOT, project, ignore=lambda d, names: [
            n for n in names if n in SKIP or n.startswith(".ci-venv") or n.startswith(".venv")])
        assert not (project / "lean.json").exists(), "the project folder must not hold a lean.json"

        _reaches_docker(["backtest", "ThetaDesk"], workspace, home)
        _reaches_docker(["backtest", "ThetaDesk", "--parameter", "strangle_entry_weekday", "-1",
                         "--parameter", "strangle_dte_min", "60"], workspace, home)
        _reaches_docker(["backtest", "."], project, home)
        local_id = json.loads((project / "config.json").read_text()).get("local-id")
        print(f"   note: the CLI wrote local-id {local_id} into the project's config.json")

        code, out = _lean(["live", "deploy", "ThetaDesk", "--parameter", "brokerage", "tastytrade"],
                          workspace, home)
        assert code != 0 and "No such option" in out, out
        print("   ok: `lean live deploy` has no --parameter option")
        _, helptext = _lean(["backtest", "--help"], workspace, home)
        assert "--parameter" in helptext, helptext
        _, helptext = _lean(["live", "deploy", "--help"], workspace, home)
        assert "--parameter" not in helptext and "--brokerage" in helptext, helptext
        print("   ok: --help: backtest has --parameter, live deploy has --brokerage and no --parameter")

        # The layout this repository had: a lean.json without organization-id in the project.
        (project / "lean.json").write_text(json.dumps({"data-folder": "data"}))
        code, out = _lean(["backtest", "."], project, home)
        assert code != 0 and "old Lean CLI root folder" in out, out
        print("   ok: a lean.json without organization-id in the project folder is refused")
    print("LEAN CLI layout checks passed")


if __name__ == "__main__":
    main()
