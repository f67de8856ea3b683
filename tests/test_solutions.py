"""Every solution passes in the real chapter state: each chapter runs top to bottom with its
exercises answered from notebooks/solutions/, one line each, as a stuck learner would do it.
(The committed notebooks arrive unanswered; nbval checks those.)"""

import re
import uuid
from pathlib import Path

import nbformat
import pytest
from exercise_support import drop_learner
from nbclient import NotebookClient

from workshop_app.workshop.backend import choose_backend
from workshop_app.workshop.chapters import chapter_03_files
from workshop_app.workshop.settings import chapter_notebooks

pytestmark = pytest.mark.db  # .ci/run runs these on every server

HANDS_ON = re.compile(r'^check\("(\d\d)", (\d+), ch=ch\)', re.M)
ANSWER = re.compile(r"^(answer_(\d+)) = \.\.\.", re.M)
CHECK = re.compile(r"(?<![.\w])check\(")  # the exercises' check(), not command.check()


def answered(nb: nbformat.NotebookNode, chapter: str) -> list[int]:
    """Fill in every exercise the way notebooks/solutions/ says; the indexes of check cells."""
    checks = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not CHECK.search(cell.source):
            continue
        source = ANSWER.sub(rf'\1 = solution("{chapter}", \2)', cell.source)
        source = HANDS_ON.sub(r'solve("\1", \2, ch)\n\g<0>', source)
        cell.source = "from workshop_app.workshop.exercises import solution, solve\n" + source
        checks.append(i)
    return checks


@pytest.mark.parametrize("path", chapter_notebooks()[1:], ids=lambda p: p.name[:2])
def test_every_solution_passes_in_its_chapter(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    learner = f"solve{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("WORKSHOP_LEARNER", learner)  # not the learner's own chapters
    monkeypatch.setenv("WORKSHOP_SANDBOX_DIR", str(tmp_path))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    nb = nbformat.read(path, as_version=4)
    checks = answered(nb, path.name[:2])
    assert checks
    try:
        NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
    finally:
        drop_learner(choose_backend())  # chapter 02 makes its role and database by hand
    for i in checks:
        out = "".join(o.get("text", "") for o in nb.cells[i].outputs)
        assert out.startswith("Correct:") and "Not yet" not in out, (nb.cells[i].source, out)
    if path.name.startswith("03"):  # chapter 04 shows what 03 left: the same files
        chapter_03_files(tmp_path / "from_ch03")
        for name in ("alembic/env.py", "alembic.ini"):
            left = (tmp_path / "ch03" / name).read_text()
            assert left == (tmp_path / "from_ch03" / Path(name).name).read_text(), name


def test_chapter_03_files_keep_one_cached_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy made for an older notebook or course code goes when a new one is made."""
    monkeypatch.setenv("WORKSHOP_SANDBOX_DIR", str(tmp_path))
    stale = tmp_path / ".cache" / "from_ch03_000000000000"
    stale.mkdir(parents=True)
    (stale / "env.py").write_text("# made by an older course\n")
    other = tmp_path / ".cache" / "something_else"
    other.mkdir()
    chapter_03_files(tmp_path / "one")
    chapter_03_files(tmp_path / "two")
    cached = sorted(p.name for p in (tmp_path / ".cache").iterdir())
    assert len(cached) == 2 and "something_else" in cached and stale.name not in cached, cached
    assert (tmp_path / "one" / "env.py").read_text() == (tmp_path / "two" / "env.py").read_text()
