"""The chapters keep their contract: structure, navigation, committed outputs a reader can trust.
(nbval re-executes them; these are the static checks around that.)"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from workshop_app.workshop.settings import ROOT, chapter_notebooks

NOTEBOOKS = ROOT / "notebooks"
CHAPTERS = chapter_notebooks()
MACHINE_PATH = re.compile(r"(/work/|/tmp/|/root/|/home/[a-z]|/var/|/Users/|[A-Z]:\\\\)")
UNMASKED_URL = re.compile(r"postgres(?:ql)?(?:\+\w+)?://[^:/\s]+:(?!\*\*\*)[^@\s]+@")


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def text(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def outputs_text(cell: dict) -> str:
    return json.dumps(cell.get("outputs", []))


def test_there_are_chapters_00_to_03_at_least() -> None:
    assert [p.name[:2] for p in CHAPTERS][:4] == ["00", "01", "02", "03"]


def test_navigation_and_index_are_generated_and_fresh() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/build_nav.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_structure(path: Path) -> None:
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    all_cells = nb["cells"]
    first = text(all_cells[0])
    assert first.startswith(f"# {path.name[:2]} · ")
    assert "**You will learn**" in first
    assert any(text(c).startswith("## Key points") for c in all_cells)
    assert "nav-top" in all_cells[1]["metadata"].get("tags", [])
    assert "nav-bottom" in all_cells[-1]["metadata"].get("tags", [])
    code = [c for c in all_cells if c["cell_type"] == "code"]
    if path.name[:2] != "00":  # every chapter starts from its own setup cell
        assert f'setup("{path.name[:2]}")' in text(code[0])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_committed_outputs_are_complete_and_clean(path: Path) -> None:
    code = [c for c in cells(path) if c["cell_type"] == "code"]
    assert all(c["execution_count"] for c in code), "run the notebook top to bottom"
    for i, cell in enumerate(code, 1):
        out = outputs_text(cell)
        assert not MACHINE_PATH.search(out), f"code cell {i} shows a path of this machine"
        assert not UNMASKED_URL.search(out + text(cell)), f"code cell {i} shows a password"
        assert '"output_type": "error"' not in out, f"code cell {i} ends in an error"
        # when it last ran: every re-execution would change every cell's lines
        assert "execution" not in cell["metadata"], f"code cell {i} records its run's times"
    if path.name[:2] != "00":  # how exercises arrive: tests/test_exercises.py
        assert len([c for c in code if re.search(r"(?<![.\w])check\(", text(c))]) >= 2


@pytest.mark.parametrize("path", [*CHAPTERS, NOTEBOOKS / "index.ipynb"], ids=lambda p: p.name)
def test_links_between_notebooks_resolve(path: Path) -> None:
    for cell in cells(path):
        if cell["cell_type"] != "markdown":
            continue
        for target in re.findall(r"\]\(([^)#]+\.ipynb)\)", text(cell)):
            assert (path.parent / target).exists(), f"{path.name} links to missing {target}"
