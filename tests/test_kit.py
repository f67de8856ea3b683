"""The chapter kit: the schema comparison is honest."""

import os
import shutil
import subprocess
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
from workshop_app.workshop.kernel import no_cached_bytecode


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


def test_a_same_size_edit_within_the_second_reaches_the_next_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chapters edit the app's files, then run `!alembic`, several times a second. Python's
    cached bytecode is valid while the file's mtime (in whole seconds) and size are the same:
    chapter 04's `server_default="0"` -> `"1"` after a `String(100)` -> `String(200)` ran the old
    models now and then. The kernel's commands must read the file as it is now."""
    module = tmp_path / "answer.py"

    def edit_and_run(value: int, env: dict[str, str]) -> str:
        mtime = module.stat().st_mtime if module.exists() else None
        module.write_text(f"VALUE = {value}\n")  # the same size every time
        if mtime is not None:
            os.utime(module, (mtime, mtime))  # and within the same second
        run = [sys.executable, "-c", "import answer; print(answer.VALUE)"]
        return subprocess.run(run, cwd=tmp_path, env=env, capture_output=True, text=True).stdout

    plain = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    assert edit_and_run(1, plain) == "1\n"
    assert edit_and_run(2, plain) == "1\n"  # the hazard: the cached bytecode of the old file
    shutil.rmtree(tmp_path / "__pycache__")

    monkeypatch.setattr(sys, "dont_write_bytecode", sys.dont_write_bytecode)
    monkeypatch.setattr(os, "environ", dict(plain))  # what the kernel's `!` commands get
    no_cached_bytecode()
    assert edit_and_run(3, os.environ) == "3\n"
    assert edit_and_run(4, os.environ) == "4\n"
    assert sys.dont_write_bytecode  # the kernel's own imports of the app too
