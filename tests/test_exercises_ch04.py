"""Chapter 04's hands-on exercises, against the chapter's real starting state: they wait until
the learner acts, typical wrong actions get a hint, and the solutions pass."""

import subprocess
from pathlib import Path

import pytest
from exercise_support import chapter_at_start

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises import outcome, solutions, solve
from workshop_app.workshop.story import write_alembic, write_blog

SOLUTIONS = solutions("04")
LIKES = '    likes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")\n'


@pytest.fixture
def ch(backend: Backend, tmp_path: Path):
    """Chapter 04 as its exercises find it: the model with likes, revision 0002 written and
    applied, compare_server_default turned on in env.py."""
    with chapter_at_start("04", backend, tmp_path) as chapter:
        write_blog(chapter.sandbox, likes=True)
        write_alembic(chapter.sandbox, upto="0002", compare_server_default=True)
        SOLUTIONS.alembic(chapter, "upgrade", "head")
        yield chapter


def verdict(number: int, ch: Chapter) -> tuple[bool | None, str]:
    result = outcome("04", number, None, ch)
    return result.ok, result.message


def add_model_line(ch: Chapter, line: str) -> None:
    SOLUTIONS.edit(ch.sandbox / "blog" / "models.py", LIKES, LIKES + line)


def generate(ch: Chapter, message: str = "change") -> Path:
    SOLUTIONS.alembic(ch, "revision", "--autogenerate", "--rev-id", "0003", "-m", message)
    return next((ch.sandbox / "alembic" / "versions").glob("0003_*.py"))


def test_both_wait_at_the_start(ch: Chapter) -> None:
    assert verdict(1, ch)[0] is None
    assert verdict(2, ch)[0] is None


def test_the_solutions_pass_one_after_the_other(ch: Chapter) -> None:
    solve("04", 1, ch)
    ok, message = verdict(1, ch)
    assert ok, message
    solve("04", 2, ch)
    ok, message = verdict(2, ch)
    assert ok, message
    assert "still read NULL" in message
    assert verdict(1, ch)[0] is True  # the second did not undo the first


def test_views_with_a_python_default_only_fails_to_upgrade_and_gets_a_hint(ch: Chapter) -> None:
    add_model_line(ch, "    views: Mapped[int] = mapped_column(Integer, default=0)\n")
    assert verdict(1, ch)[0] is False  # the model changed, no migration yet
    generate(ch, "add views")
    with pytest.raises(subprocess.CalledProcessError):  # contains null values
        SOLUTIONS.alembic(ch, "upgrade", "head")
    ok, message = verdict(1, ch)
    assert ok is False and "upgrade head" in message and "0002" in message


def test_nullable_views_gets_a_hint(ch: Chapter) -> None:
    add_model_line(ch, "    views: Mapped[int | None] = mapped_column(Integer)\n")
    generate(ch, "add views")
    SOLUTIONS.alembic(ch, "upgrade", "head")
    ok, message = verdict(1, ch)
    assert ok is False and "NOT NULL" in message


def test_a_downgrade_that_keeps_the_column_gets_a_hint(ch: Chapter) -> None:
    add_model_line(ch, '    views: Mapped[int] = mapped_column(Integer, server_default="0")\n')
    path = generate(ch, "add views")
    SOLUTIONS.edit(path, 'op.drop_column("posts", "views")', "pass")
    SOLUTIONS.alembic(ch, "upgrade", "head")
    ok, message = verdict(1, ch)
    assert ok is False and "downgrade" in message


def test_a_server_default_that_autogenerate_did_not_see_gets_a_hint(ch: Chapter) -> None:
    env = ch.sandbox / "alembic" / "env.py"
    SOLUTIONS.edit(env, "        compare_server_default=True,\n", "")
    SOLUTIONS.edit(
        ch.sandbox / "blog" / "models.py",
        "mapped_column(String(200), default=None)",
        'mapped_column(String(200), server_default="default.jpg")',
    )
    with pytest.raises(subprocess.CalledProcessError):  # the guard refuses the empty migration
        generate(ch)
    ok, message = verdict(2, ch)
    assert ok is False and "compare_server_default" in message


def test_the_wrong_default_gets_a_hint(ch: Chapter) -> None:
    SOLUTIONS.edit(
        ch.sandbox / "blog" / "models.py",
        "mapped_column(String(200), default=None)",
        'mapped_column(String(200), server_default="default.png")',
    )
    generate(ch)
    SOLUTIONS.alembic(ch, "upgrade", "head")
    ok, message = verdict(2, ch)
    assert ok is False and "'default.png'" in message
