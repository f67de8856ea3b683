"""Helpers for the exercise tests: chapters in their real starting state, for a learner of the
test's own, and the verdicts a check gives."""

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.chapters import course_names
from workshop_app.workshop.course_check import check_backend
from workshop_app.workshop.exercises import outcome, solution
from workshop_app.workshop.reset import reset

# One throw-away learner per test process: a chapter's template databases are built once and
# every later test of that chapter clones them. conftest drops the learner at the session's end.
LEARNER = f"t{uuid.uuid4().hex[:8]}"
used: list[Backend] = []


def test_learner(backend: Backend) -> Backend:
    learner = dataclasses.replace(backend, learner=LEARNER)
    if not used:
        used.append(learner)
    return learner


@contextmanager
def chapter_at_start(number: str, backend: Backend, root: Path) -> Iterator[Chapter]:
    """Chapter `number` as its first cell leaves it, in `root`, with databases and roles of the
    test process's own learner (the next reset of that chapter, or the session's end, drops
    them, whatever the test did)."""
    ch, _, _ = reset(number, test_learner(backend), root)
    yield ch


def drop_learner(backend: Backend) -> None:
    """Everything the course made for this learner, the objects chapters create by hand too,
    and what their `workshop check` made (a prefix of its own), as `workshop db cleanup` does."""
    for learner in (backend, check_backend(backend)):
        learner.cleanup(course_names(learner))


def assert_refused(chapter: str, number: int, answer: object, ch: Chapter | None) -> None:
    """A wrong answer gets a hint: not a pass, not a crash, and not the answer itself."""
    result = outcome(chapter, number, answer, ch)
    assert result.ok is False, f"{chapter}.{number} did not refuse {answer!r}: {result.line()}"
    assert result.message.strip()
    expected = solution(chapter, number)
    if isinstance(expected, str) and len(expected) > 3:
        assert expected.strip() not in result.message, "the hint gives the answer away"


def cases(wrong: dict[int, list[object]]) -> list[tuple[int, object]]:
    return [(number, answer) for number, answers in wrong.items() for answer in answers]
