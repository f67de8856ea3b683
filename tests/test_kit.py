"""The chapter kit: the schema comparison is honest."""

import pytest
from sqlalchemy import text

from workshop_app.workshop.kit import Chapter, compare_with_reference


def test_compare_with_reference_tells_a_difference(
    blog_0001: Chapter, capsys: pytest.CaptureFixture[str]
) -> None:
    compare_with_reference(blog_0001, revision="0001")
    assert "as the course's 0001: True" in capsys.readouterr().out
    with blog_0001.engine(admin=True).begin() as conn:
        conn.execute(text("DROP INDEX ix_posts_user_id"))
    compare_with_reference(blog_0001, revision="0001")
    out = capsys.readouterr().out
    assert "as the course's 0001: False" in out
    assert "ix_posts_user_id" in out  # the difference is shown
