"""research.ipynb runs top to bottom offline (the path a new user gets) and is committed
without outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat/nbclient are in requirements-dev.txt")
nbclient = pytest.importorskip("nbclient", reason="nbformat/nbclient are in requirements-dev.txt")
pytest.importorskip("quantstats", reason="quantstats==0.0.77 is in requirements.txt (LEAN's image)")

NOTEBOOK = Path(__file__).resolve().parents[2] / "research.ipynb"


def test_the_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


def test_the_notebook_runs_offline_from_top_to_bottom():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()  # raises on a failing cell
    text = "\n".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "running in offline" in text
    assert "futures_strangle" in text and "entered" in text  # section 4: the strangle's entry decision
    assert "ThetaDesk report:" in text and "net_pnl_usd" in text  # section 5: the run's analytics
