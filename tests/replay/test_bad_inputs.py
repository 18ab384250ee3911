"""Every bad input to ``python -m replay`` is a clear one-line error (exit 2) or a logged
skip, never a traceback (issue 8, item 7). Each case runs ``replay.__main__.main`` on a
temporary copy of ``data/`` (the bundled folder is never modified) and reads the exit code
and stderr.

Exit codes (README, ``--help``): 0 ran and every invariant held, 1 an invariant broke,
2 bad input (nothing was run, or, for bad data found while loading, nothing was traded).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

import replay.__main__ as cli
from replay.__main__ import main
from tests.conftest import DATA

ES_DAY = ["--start", "2020-01-06", "--end", "2020-01-06"]


@pytest.fixture()
def data(tmp_path) -> Path:
    """A private copy of the bundled data folder."""
    return Path(shutil.copytree(DATA, tmp_path / "data"))


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.startswith("replay: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_when_the_events_file_is_malformed_then_one_line_names_the_file_and_line(data, tmp_path, capsys):
    (data / "events" / "events.csv").write_text("symbol,date,kind,note\nSPY,2024-13-01,fomc,x\n")
    code, err = run(capsys, "--data", str(data), "--out", str(tmp_path / "out"), *ES_DAY)
    line = one_error_line(err)
    assert code == 2 and "events.csv:2" in line and "bad date '2024-13-01'" in line


def test_when_the_events_header_is_wrong_then_it_is_a_bad_input(data, tmp_path, capsys):
    (data / "events" / "events.csv").write_text("when,what\n2024-01-31,fomc\n")
    code, err = run(capsys, "--data", str(data), "--out", str(tmp_path / "out"), *ES_DAY)
    assert code == 2 and "events.csv:1: header must be symbol,date,kind,note" in one_error_line(err)


@pytest.mark.parametrize(("content", "why"), [(b"\xff\xfesymbol", "not UTF-8 text"), (None, "cannot read the events file")])
def test_when_the_events_file_cannot_be_read_then_one_line_names_it(data, tmp_path, capsys, content, why):
    path = data / "events" / "events.csv"
    path.unlink()
    if content is None:
        path.mkdir()  # a folder where the file should be
    else:
        path.write_bytes(content)
    code, err = run(capsys, "--data", str(data), "--out", str(tmp_path / "out"), *ES_DAY)
    line = one_error_line(err)
    assert code == 2 and str(path) in line and why in line


def test_when_a_universes_folder_holds_a_stray_file_then_it_is_skipped_with_a_logged_reason(
        data, tmp_path, capsys, caplog):
    stray = data / "option" / "usa" / "universes" / "spy" / "notes.csv"
    stray.write_text("my notes\n")
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="replay"):
        code, err = run(capsys, "--data", str(data), "--out", str(out), "--start", "2024-01-08", "--end", "2024-01-08")
    assert code == 0 and "Traceback" not in err
    assert f"skipped {stray}: not a yyyymmdd.csv universe file" in caplog.messages
    assert json.loads((out / "summary.json").read_text())["decisions"]  # the run went on


@pytest.mark.parametrize("multiplier", ["0", "-50.0"])
def test_when_a_multiplier_is_not_positive_then_one_line_names_the_file_and_line(data, tmp_path, capsys, multiplier):
    db = data / "symbol-properties" / "symbol-properties-database.csv"
    lines = db.read_text().splitlines()
    n = next(i for i, ln in enumerate(lines) if ln.startswith("cme,ES,future,"))
    lines[n] = lines[n].replace(",USD,50.0,", f",USD,{multiplier},")
    db.write_text("\n".join(lines) + "\n")
    code, err = run(capsys, "--data", str(data), "--out", str(tmp_path / "out"), *ES_DAY)
    line = one_error_line(err)
    assert code == 2 and f"symbol-properties-database.csv:{n + 1}" in line
    assert f"contract multiplier {float(multiplier):g} is not positive" in line


def test_when_out_cannot_be_written_then_the_run_never_starts(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    def never(*args, **kwargs):
        raise AssertionError("the replay ran although its output folder is unwritable")

    monkeypatch.setattr(cli, "run_with_restarts", never)
    code, err = run(capsys, "--out", str(blocker / "out"), *ES_DAY)
    line = one_error_line(err)
    assert code == 2 and "--out" in line and str(blocker / "out") in line
    code, err = run(capsys, "--out", str(blocker), *ES_DAY)  # an existing file, not a folder
    assert code == 2 and "--out" in one_error_line(err)


def test_when_the_state_file_cannot_be_written_then_the_run_never_starts(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(cli, "run_with_restarts", lambda *a, **k: pytest.fail("ran with an unwritable --state"))
    code, err = run(capsys, "--out", str(tmp_path / "out"), "--state", str(blocker / "state.json"), *ES_DAY)
    assert code == 2 and f"--state {blocker}" in one_error_line(err)
    code, err = run(capsys, "--out", str(tmp_path / "out"), "--state", str(tmp_path / "typo" / "state.json"), *ES_DAY)
    assert code == 2 and "no such folder" in one_error_line(err) and not (tmp_path / "typo").exists()


@pytest.mark.parametrize("name", ["backtest_start", "backtest_end"])
def test_when_a_backtest_window_parameter_is_given_then_it_is_refused_naming_start_and_end(tmp_path, capsys, name):
    code, err = run(capsys, "--out", str(tmp_path / "out"), "--parameter", name, "2020-01-06")
    line = one_error_line(err)
    assert code == 2 and "--start" in line and "--end" in line and name in line


def test_when_config_json_moves_the_backtest_window_then_the_replay_says_it_does_not_use_it(tmp_path, capsys):
    config = json.loads((DATA.parent / "config.json").read_text())
    config["parameters"]["backtest_start"] = "2020-01-07"
    config["parameters"]["backtest_end"] = "2020-01-08"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    code, err = run(capsys, "--config", str(path), "--out", str(tmp_path / "out"), *ES_DAY[:2])
    assert code == 0
    [note] = [ln for ln in err.splitlines() if ln.startswith("replay: note:")]
    assert "backtest_start 2020-01-07" in note and "--start" in note and "--end" in note


def test_when_a_date_is_malformed_then_exit_2_not_an_exception(tmp_path, capsys):
    code, err = run(capsys, "--out", str(tmp_path / "out"), "--start", "2020-13-01")
    assert code == 2 and "--start" in err and "Traceback" not in err


def test_help_documents_the_exit_codes(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "0 ran" in text and "1 an invariant" in text and "2 bad input" in text
