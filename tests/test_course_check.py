"""`workshop check` says which notebooks pass, and shows a failure in full."""

import subprocess
import sys
from pathlib import Path

import nbformat

from workshop_app.workshop.settings import ROOT


def notebook(path: Path, source: str, committed_output: str) -> Path:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source, execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=committed_output)]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def test_check_passes_a_good_notebook_and_reports_a_changed_one(tmp_path: Path) -> None:
    good = notebook(tmp_path / "good.ipynb", "print(6 * 7)", "42\n")
    changed = notebook(tmp_path / "changed.ipynb", "print('fresh output')", "committed output\n")
    result = subprocess.run(
        [sys.executable, "-m", "workshop_app", "check", "-j", "2", str(good), str(changed)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.split()[:2] == ["good.ipynb", "pass"] for line in lines)
    assert any(line.split()[:2] == ["changed.ipynb", "FAIL"] for line in lines)
    assert "===== changed.ipynb =====" in result.stdout
    assert "print('fresh output')" in result.stdout  # the failing cell, in full
    assert "fresh output" in result.stdout and "committed output" in result.stdout
    assert lines[-1].startswith("1 passed, 1 failed in ")
