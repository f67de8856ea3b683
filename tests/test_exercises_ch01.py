"""Chapter 01's exercises refuse the typical wrong answers, with a hint."""

import pytest
from exercise_support import assert_refused, cases

from workshop_app.workshop.exercises import outcome, solution
from workshop_app.workshop.kit import Chapter

WRONG: dict[int, list[object]] = {
    1: ["a", "b"],
    2: [
        "ALTER TABLE posts ADD COLUMN likes INTEGER",
        "ALTER TABLE posts ADD COLUMN likes INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE users ADD COLUMN likes INTEGER NOT NULL DEFAULT 0",
    ],
}


@pytest.mark.parametrize(("number", "answer"), cases(WRONG))
def test_wrong_answers_get_a_hint(number: int, answer: object, blog_0001: Chapter) -> None:
    assert_refused("01", number, answer, blog_0001)


@pytest.mark.parametrize("number", sorted(WRONG))
def test_the_solution_passes(number: int, blog_0001: Chapter) -> None:
    result = outcome("01", number, solution("01", number), blog_0001)
    assert result.ok, result.line()
