"""Helpers for the exercise tests: chapters in their real starting state, for a learner of the
test's own, and the verdicts a check gives."""

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.exercises import outcome, solution
from workshop_app.workshop.kit import Chapter
from workshop_app.workshop.state import reset


@contextmanager
def chapter_at_start(number: str, backend: Backend, root: Path) -> Iterator[Chapter]:
    """Chapter `number` as its first cell leaves it, in `root`, with databases and roles of a
    throw-away learner (dropped afterwards, whatever the test did)."""
    learner = dataclasses.replace(backend, learner=f"t{uuid.uuid4().hex[:8]}")
    try:
        ch, _, _ = reset(number, learner, root)
        yield ch
    finally:
        learner.cleanup()


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
