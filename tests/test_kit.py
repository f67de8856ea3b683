"""The chapter kit: the schema comparison is honest."""

import sys
from pathlib import Path

import pytest
from alembic import command
from exercise_support import chapter_at_start
from sqlalchemy import Engine, text

from workshop_app.workshop.alembic_runner import course_config as alembic_config
from workshop_app.workshop.backend import Backend
from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.compare import compare_with_reference
from workshop_app.workshop.exercises import outcome


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


def test_a_check_on_a_scratch_database_leaves_this_processs_app_alone(
    backend: Backend, engine: Engine, tmp_path: Path
) -> None:
    """Checks migrate scratch databases in-process (env.py imports the app with their URL);
    afterwards the app this process imported before must still be there, so that the next
    in-process migration (tests, tools) does not fail for want of a DATABASE_URL."""
    import workshop_app.config

    before = workshop_app.config.settings
    with chapter_at_start("05", backend, tmp_path) as ch:
        assert outcome("05", 1, "ALTER TABLE posts ADD COLUMN views integer", ch).ok is False
    assert sys.modules["workshop_app.config"].settings is before
    with engine.connect() as conn:
        command.upgrade(alembic_config(conn), "head")
        conn.commit()
