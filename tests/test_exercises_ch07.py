"""Chapter 07's exercises refuse the typical wrong answers, with a hint."""

import pytest
from exercise_support import assert_refused, cases

from workshop_app.workshop.exercises import outcome, solution
from workshop_app.workshop.kit import Chapter

WRONG: dict[int, list[object]] = {
    1: ["alembic current", "alembic upgrade head", "alembic heads"],
    2: [{"0003", "0004"}, {"0004"}, "0004, 0005"],
}


@pytest.mark.parametrize(("number", "answer"), cases(WRONG))
def test_wrong_answers_get_a_hint(number: int, answer: object, blog_0001: Chapter) -> None:
    assert_refused("07", number, answer, blog_0001)


@pytest.mark.parametrize("number", sorted(WRONG))
def test_the_solution_passes(number: int, blog_0001: Chapter) -> None:
    result = outcome("07", number, solution("07", number), blog_0001)
    assert result.ok, result.line()
