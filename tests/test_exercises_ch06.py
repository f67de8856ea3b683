"""Chapter 06's exercises refuse the typical wrong answers, with a hint."""

from datetime import UTC, datetime

import pytest
from exercise_support import assert_refused, cases

from workshop_app.workshop.exercises import outcome, solution
from workshop_app.workshop.kit import Chapter

WRONG: dict[int, list[object]] = {
    1: [
        datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
        datetime(2026, 7, 1, 10, 0),
        "2026-07-01T14:00:00+00:00",
        "noon",
    ],
    2: ["created_at", "created_at AT TIME ZONE 'America/New_York'", "now()"],
}


@pytest.mark.parametrize(("number", "answer"), cases(WRONG))
def test_wrong_answers_get_a_hint(number: int, answer: object, blog_0001: Chapter) -> None:
    assert_refused("06", number, answer, blog_0001)


@pytest.mark.parametrize("number", sorted(WRONG))
def test_the_solution_passes(number: int, blog_0001: Chapter) -> None:
    result = outcome("06", number, solution("06", number), blog_0001)
    assert result.ok, result.line()
