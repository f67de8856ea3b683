"""Chapter 02's exercises refuse the typical wrong answers, with a hint."""

import pytest
from exercise_support import assert_refused, cases

from workshop_app.workshop.exercises import outcome, solution
from workshop_app.workshop.kit import Chapter

WRONG: dict[int, list[object]] = {
    1: [
        "SELECT title FROM posts WHERE title = :author",
        "SELECT p.title FROM posts p JOIN users u ON u.id = p.user_id WHERE u.username = 'ada'",
        "SELECT p.title FROM posts p JOIN users u ON u.id = p.user_id",
    ],
    2: [
        "postgresql+psycopg://blog_user:p@ss/w%rd@localhost:5432/blog",
        "postgresql+psycopg://blog_user:p%40ss%2Fw%25rd@localhost:5432/postgres",
    ],
}


@pytest.mark.parametrize(("number", "answer"), cases(WRONG))
def test_wrong_answers_get_a_hint(number: int, answer: object, blog_0001: Chapter) -> None:
    assert_refused("02", number, answer, blog_0001)


@pytest.mark.parametrize("number", sorted(WRONG))
def test_the_solution_passes(number: int, blog_0001: Chapter) -> None:
    result = outcome("02", number, solution("02", number), blog_0001)
    assert result.ok, result.line()
