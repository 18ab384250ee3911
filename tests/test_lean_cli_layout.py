"""The layout facts the LEAN CLI relies on (QuantConnect/lean-cli, cited per test; lines at
commit 5277bb6). The real CLI is run against this layout by .ci/lean_cli_check.py in CI.

Layout: this repository is a LEAN *project folder* (main.py + config.json). The CLI
*workspace* (lean.json with the user's organization-id, LEAN's data folder) is made by the
user with `lean init` in an empty folder, and the repository is cloned into it (README,
"Run it in LEAN").
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PER_MACHINE_KEYS = ("local-id", "cloud-id", "organization-id")
CLI_OUTPUT_DIRS = ("backtests", "live", "optimizations")


def _project_files(name: str) -> list[Path]:
    """Files called ``name`` under the project, outside git, virtual environments and outputs."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith((".git", ".ci-", ".venv", "venv"))
                   and d not in ("out", "node_modules", "__pycache__")
                   and not (Path(folder) / d / "pyvenv.cfg").exists()]
        found += [Path(folder) / name] if name in files else []
    return found


def _lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]


def test_the_project_folder_holds_no_lean_json_and_git_ignores_one():
    # lean_config_manager.py:69-84 get_lean_config_path: the nearest lean.json upward from the
    # working directory is the CLI root; lean/commands/lean.py:44-57: one without
    # organization-id stops every command ("This is an old Lean CLI root folder"). One with it
    # would make the project its own root; the CLI also writes brokerage answers, passwords
    # included, into lean.json (lean/models/json_module.py:322-325, _save_property), so no
    # lean.json belongs in git.
    assert _project_files("lean.json") == []
    assert "lean.json" in _lines(ROOT / ".gitignore")


def test_main_py_is_the_algorithm_file_of_the_project_folder():
    # project_manager.py:61-81 find_algorithm_file: PROJECT/main.py (or Main.cs)
    main = (ROOT / "main.py").read_text()
    assert re.search(r"^class \w+\(QCAlgorithm\):", main, re.M)
    assert not (ROOT / "Main.cs").exists()


def test_config_json_is_a_python_project_config_with_string_parameters():
    config = json.loads((ROOT / "config.json").read_text())
    # lean_config_manager.py:275-286 get_complete_lean_config: "parameters" go to LEAN as
    # they are; "algorithm-language" "Python" decides how the project's libraries are added.
    assert config["algorithm-language"] == "Python"
    params = config["parameters"]
    assert isinstance(params, dict) and len(params) > 50
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    # project_config_manager.py:52-69 get_local_id writes a random local-id on first use;
    # push_manager.py:147-148 writes cloud-id and organization-id after `lean cloud push`.
    # They belong to one user's machine and cloud account: never committed.
    assert not [k for k in PER_MACHINE_KEYS if k in config]


def test_config_json_is_the_only_one_so_a_push_from_the_workspace_finds_one_project():
    # lean/commands/cloud/push.py: without --project every folder under the working directory
    # holding a config.json is pushed as a project.
    assert _project_files("config.json") == [ROOT / "config.json"]


def test_cli_output_folders_are_ignored_and_not_project_folders():
    # backtest.py:325-326 and live/deploy.py: results go to PROJECT/backtests|live/<time>;
    # lean/components/__init__.py:19 output_reserved_names are skipped as source folders.
    ignored = _lines(ROOT / ".gitignore")
    for name in CLI_OUTPUT_DIRS:
        assert f"{name}/" in ignored
        assert not (ROOT / name).is_dir() or not any((ROOT / name).rglob("*.py"))


NOT_PINNED_BY_LEAN = {"ipython"}
"""Requirements LEAN's image has without pinning them itself (IPython comes with its jupyterlab
pin, DockerfileLeanFoundation); QuantStats 0.0.77 imports it without declaring it."""


def test_requirements_parse_and_leans_own_versions_satisfy_them():
    # lean_runner.py:499-571 set_up_python_options/_concat_python_requirements: the CLI
    # pip-installs PROJECT/requirements.txt inside LEAN's container, silently dropping lines
    # that are not plain requirements. LEAN's versions (constraints-lean.txt, from
    # DockerfileLeanFoundation) must satisfy every range, or pip would replace LEAN's own
    # numpy/pandas/scipy inside the engine.
    requirements = [Requirement(ln) for ln in _lines(ROOT / "requirements.txt")]
    pins = {}
    for ln in _lines(ROOT / "constraints-lean.txt"):
        pin = Requirement(ln)
        (spec,) = pin.specifier
        assert spec.operator == "==", ln
        pins[pin.name.lower()] = spec.version
    assert {"numpy", "pandas", "scipy"} <= {r.name.lower() for r in requirements}
    for req in requirements:
        if req.name.lower() in NOT_PINNED_BY_LEAN:
            continue
        assert req.name.lower() in pins, f"{req.name}: no LEAN pin in constraints-lean.txt"
        assert req.specifier.contains(pins[req.name.lower()]), (req, pins[req.name.lower()])


def test_requirement_ranges_also_admit_todays_major_releases():
    # A fresh `pip install` today gets numpy 2; the ranges must not exclude it. pandas stops
    # below 3 only because QuantStats 0.0.77 (LEAN's pin) declares pandas<3.0.0: the newest 2.x
    # must stay admitted.
    ranges = {r.name.lower(): r.specifier for r in map(Requirement, _lines(ROOT / "requirements.txt"))}
    assert ranges["numpy"].contains("2.3.0") and ranges["pandas"].contains("2.3.3")
    assert ranges["pandas"].contains("2.99") and not ranges["pandas"].contains("3.0.0")
    assert not ranges["numpy"].contains("3.0.0")  # a major release is a decision, not an upgrade


def test_readme_lean_commands_use_options_the_cli_has():
    readme = (ROOT / "README.md").read_text()
    commands = [ln.strip() for ln in readme.splitlines() if ln.strip().startswith("lean ")]
    assert any(c.startswith("lean backtest ThetaDesk") for c in commands)
    assert any(c.startswith("lean live deploy ThetaDesk") for c in commands)
    for cmd in commands:
        # live/deploy.py:55-120: `lean live deploy` has no --parameter option
        if cmd.startswith("lean live deploy"):
            assert "--parameter" not in cmd, cmd
        # push_manager.py:110: the cloud project is named after the path relative to the
        # working directory ("." for the folder itself): push by name from the workspace.
        if cmd.startswith("lean cloud push"):
            assert "--project ThetaDesk" in cmd, cmd
        # backtest/optimize/live take PROJECT relative to the working directory: the
        # workspace, where the project folder is ThetaDesk/.
        words = cmd.split()
        if words[1] in ("backtest", "optimize"):
            assert words[2] == "ThetaDesk", cmd
        if words[1:3] == ["live", "deploy"]:
            assert words[3] == "ThetaDesk", cmd
