"""What every exercise promises: it waits for the learner, it never crashes, and the committed
notebooks arrive unanswered."""

import importlib
import json
import re

import pytest

from workshop_app.workshop.chapters import STARTS
from workshop_app.workshop.exercises import exercise, outcome
from workshop_app.workshop.exercises.common import Exercise
from workshop_app.workshop.settings import chapter_notebooks

EXERCISES = [
    (number, n, ex)
    for number in sorted(STARTS)
    if number != "00"
    for n, ex in importlib.import_module(
        f"workshop_app.workshop.exercises.ch{number}"
    ).EXERCISES.items()
]


@pytest.mark.parametrize(("chapter", "number", "ex"), EXERCISES, ids=lambda v: str(v)[:8])
def test_an_unanswered_exercise_waits_and_says_how_to_start(
    chapter: str, number: int, ex: Exercise
) -> None:
    if ex.hands_on:
        pytest.skip("a hands-on exercise waits on the chapter's state (its own tests)")
    result = outcome(chapter, number, ...)
    assert result.ok is None
    assert result.line().startswith("Waiting: replace ... with your answer")
    assert ex.start and ex.start in result.message


def test_a_check_that_breaks_gives_a_hint_not_a_traceback() -> None:
    class Weird:
        def __str__(self) -> str:
            raise RuntimeError("no text for you")

    result = outcome("01", 2, Weird())
    assert result.ok is False
    assert "RuntimeError: no text for you" in result.message


@pytest.mark.parametrize("path", chapter_notebooks()[1:], ids=lambda p: p.name)
def test_committed_exercises_arrive_unanswered(path) -> None:
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    checks = [c for c in cells if re.search(r"(?<![.\w])check\(", "".join(c["source"]))]
    assert checks, "every chapter has exercises"
    for cell in checks:
        source, out = "".join(cell["source"]), json.dumps(cell["outputs"])
        assert "solution(" not in source and "solve(" not in source, source
        assert "Correct" not in out, f"an exercise arrives solved: {source}"
        assert "Waiting:" in out, f"the check should say it is waiting: {source}"


def test_every_chapter_has_a_hands_on_exercise() -> None:
    hands_on = {chapter for chapter, _, ex in EXERCISES if ex.hands_on}
    missing = sorted(set(STARTS) - {"00"} - hands_on)
    assert not missing, f"chapters without a hands-on exercise: {missing}"


def test_exercise_lookup_names_the_chapter() -> None:
    assert exercise("01", 1).check.__module__.endswith("ch01")


@pytest.mark.parametrize("path", chapter_notebooks()[1:], ids=lambda p: p.name)
def test_the_setup_cell_imports_what_the_text_offers(path) -> None:
    """The exercises say "Stuck? solution(...) / solve(...)": the setup cell imports them."""
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    imported = re.search(
        r"from workshop_app\.workshop\.exercises import ([\w, ]+)", "".join(cells[0]["source"])
    )
    assert imported, "the setup cell imports the exercise API"
    assert {"check", "solution", "solve"} <= {n.strip() for n in imported[1].split(",")}
