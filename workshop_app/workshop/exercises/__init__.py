"""Exercises and their checks. In a notebook an exercise arrives unanswered:

    answer_1 = ...  # your SQL, as a string
    check("02", 1, answer_1, ch)

`check` prints `Waiting:` while the answer is still `...` (or, for a hands-on exercise, while
the chapter's files and databases are as they started), `Not yet:` and a hint for a wrong
answer, and `Correct:` only for a right one. It never shows the answer and never raises.

A hands-on exercise changes the project (a model, a migration, env.py) and its check looks at
the real result: `check("04", 1, ch=ch)`.

Stuck? The intended answers live in notebooks/solutions/chNN.py: `solution("02", 1)` is an
answer, `solve("04", 1, ch)` does a hands-on exercise for you (with the commands a learner runs).
"""

import importlib
import importlib.util
from types import ModuleType

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises.common import Exercise, Result
from workshop_app.workshop.settings import ROOT

__all__ = ["check", "exercise", "solution", "solve"]


def exercise(chapter: str, number: int) -> Exercise:
    module = importlib.import_module(f"workshop_app.workshop.exercises.ch{chapter}")
    return module.EXERCISES[number]


def outcome(chapter: str, number: int, answer: object = None, ch: Chapter | None = None) -> Result:
    """The check's verdict, as `check` prints it; any failure inside a check is a hint."""
    ex = exercise(chapter, number)
    if answer is ... and not ex.hands_on:
        return Result(None, f"replace ... with your answer, then run this cell. {ex.start}")
    try:
        return ex.check(answer, ch)
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        return Result(False, f"the check could not use that ({type(err).__name__}: {first}).")


def check(chapter: str, number: int, answer: object = None, ch: Chapter | None = None) -> None:
    print(outcome(chapter, number, answer, ch).line())


def solutions(chapter: str) -> ModuleType:
    path = ROOT / "notebooks" / "solutions" / f"ch{chapter}.py"
    spec = importlib.util.spec_from_file_location(f"solutions_ch{chapter}", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def solution(chapter: str, number: int) -> object:
    """The intended answer to an exercise, from notebooks/solutions/chNN.py."""
    return getattr(solutions(chapter), f"EXERCISE_{number}")


def solve(chapter: str, number: int, ch: Chapter) -> None:
    """Do a hands-on exercise the intended way (notebooks/solutions/chNN.py shows how)."""
    getattr(solutions(chapter), f"exercise_{number}")(ch)
