"""Chapter 09's exercises refuse the typical wrong answers and actions, with a hint; the
hands-on one is checked on the chapter's real starting state."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from exercise_support import assert_refused, cases, chapter_at_start
from sqlalchemy import text

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises import outcome, solution, solutions, solve
from workshop_app.workshop.settings import ROOT
from workshop_app.workshop.urls import libpq_conninfo

WRONG: dict[int, list[object]] = {
    # A lets the skipping replica serve before the other finished migrating. B's waiting
    # replica blocks in pg_advisory_lock() with a snapshot that 0005's concurrent build waits
    # for: the deploy hangs. C's xact lock goes with the commit that 0005's autocommit_block()
    # makes, so the other migrator runs 0005 too. D's keys differ per replica: nobody waits.
    # E (a session lock on a connection of its own, polled for) is the one that does all.
    1: [
        {"A"},
        {"B"},
        {"B", "E"},
        {"A", "E"},
        {"C"},
        {"C", "E"},
        {"D"},
        {"D", "E"},
        {"A", "B", "C", "D", "E"},
        "C",
        set(),
        {"F"},
    ],
}


@pytest.mark.parametrize(("number", "answer"), cases(WRONG))
def test_wrong_answers_get_a_hint(number: int, answer: object) -> None:
    assert_refused("09", number, answer, None)


def test_the_answer_passes() -> None:
    assert outcome("09", 1, solution("09", 1)).ok
    assert outcome("09", 1, ["e"]).ok


@pytest.fixture
def ch09(backend: Backend, tmp_path: Path) -> Iterator[Chapter]:
    with chapter_at_start("09", backend, tmp_path) as ch:
        yield ch


def expand(ch: Chapter, upgrade: str) -> None:
    """A learner's expand migration with the given body, run with `alembic upgrade head`."""
    body = "\n".join("    " + line for line in upgrade.strip().splitlines())
    (ch.sandbox / "alembic" / "versions" / "0003_avatar_url.py").write_text(
        f'''"""expand users.avatar_url"""

import sqlalchemy as sa

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
{body}


def downgrade() -> None:
    pass
'''
    )
    solutions("09").alembic(ch, "upgrade", "head")


ADD = 'op.add_column("users", sa.Column("avatar_url", sa.String(200), nullable=True))'
BACKFILL = 'op.execute("UPDATE users SET avatar_url = image_file")'
INSERT_ONLY_TRIGGER = '''op.execute("""
CREATE FUNCTION sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.avatar_url := coalesce(NEW.avatar_url, NEW.image_file);
    NEW.image_file := coalesce(NEW.image_file, NEW.avatar_url);
    RETURN NEW;
END $$;
CREATE TRIGGER sync BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION sync();
""")'''


def verdict(ch: Chapter) -> str:
    result = outcome("09", 2, None, ch)
    assert result.ok is not True, result.line()
    return result.line()


def test_hands_on_waits_at_the_start(ch09: Chapter) -> None:
    result = outcome("09", 2, None, ch09)
    assert result.ok is None, result.line()


def test_hands_on_refuses_the_one_step_rename(ch09: Chapter) -> None:
    expand(ch09, 'op.alter_column("users", "image_file", new_column_name="avatar_url")')
    assert "image_file is gone" in verdict(ch09)


def test_hands_on_refuses_a_column_without_backfill_or_sync(ch09: Chapter) -> None:
    expand(ch09, ADD)
    assert "backfill" in verdict(ch09)


def test_hands_on_refuses_a_backfill_without_sync(ch09: Chapter) -> None:
    expand(ch09, f"{ADD}\n{BACKFILL}")
    assert "old version creates" in verdict(ch09)


def test_hands_on_refuses_a_sync_on_insert_only(ch09: Chapter) -> None:
    expand(ch09, f"{ADD}\n{INSERT_ONLY_TRIGGER}\n{BACKFILL}")
    assert "UPDATE" in verdict(ch09)


def test_hands_on_refuses_a_column_added_by_hand_or_not_yet_migrated(ch09: Chapter) -> None:
    with ch09.engine().begin() as conn:
        conn.execute(text("ALTER TABLE users ADD COLUMN avatar_url varchar(200)"))
    assert "alembic upgrade head" in verdict(ch09)
    with ch09.engine().begin() as conn:
        conn.execute(text("ALTER TABLE users DROP COLUMN avatar_url"))
    written = solutions("09").EXPAND_AVATAR_URL.format(revision="0003", down_revision="0002")
    (ch09.sandbox / "alembic" / "versions" / "0003_avatar.py").write_text(written)
    assert "run `alembic upgrade head`" in verdict(ch09)


def test_hands_on_refuses_an_expand_done_by_hand_under_an_empty_revision(
    ch09: Chapter,
) -> None:
    """The column, trigger and backfill by hand, then a revision that only names them: no
    other database would get them (chapter 03's empty migration)."""
    sync = INSERT_ONLY_TRIGGER.split('"""')[1].replace("BEFORE INSERT", "BEFORE INSERT OR UPDATE")
    sync = sync.replace(
        "    NEW.avatar_url := coalesce(NEW.avatar_url, NEW.image_file);\n",
        "    IF TG_OP = 'UPDATE' AND NEW.image_file IS DISTINCT FROM OLD.image_file THEN\n"
        "        NEW.avatar_url := NEW.image_file;\n"
        "    ELSIF TG_OP = 'UPDATE' THEN\n"
        "        NEW.image_file := NEW.avatar_url;\n"
        "    END IF;\n"
        "    NEW.avatar_url := coalesce(NEW.avatar_url, NEW.image_file);\n",
    )
    with ch09.engine().begin() as conn:
        conn.execute(text("ALTER TABLE users ADD COLUMN avatar_url varchar(200)"))
        conn.exec_driver_sql(sync)
        conn.execute(text("UPDATE users SET avatar_url = image_file"))
    expand(ch09, "pass  # avatar_url: added by hand")
    assert "reaches no other database" in verdict(ch09)


def test_hands_on_solution_passes(ch09: Chapter) -> None:
    solve("09", 2, ch09)
    result = outcome("09", 2, None, ch09)
    assert result.ok, result.line()
    with ch09.engine().connect() as conn:  # the check rolled its test rows back
        assert conn.scalar(text("SELECT count(*) FROM users WHERE username LIKE 'check_%'")) == 0
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0003"


def notebook_waiting_query() -> str:
    """The query chapter 09 reports its two replicas' waits with (WAITING, in a code cell)."""
    cells = json.loads((ROOT / "notebooks" / "09-deploying-without-downtime.ipynb").read_text())
    source = "\n".join("".join(c["source"]) for c in cells["cells"] if c["cell_type"] == "code")
    found = re.search(r'^WAITING = """(.*?)"""', source, re.M | re.S)
    assert found, "chapter 09 no longer defines WAITING"
    return found[1]


def test_the_replica_that_holds_the_migration_lock_is_not_reported_polling(
    backend: Backend, database: str
) -> None:
    """Between taking the advisory lock and its first migration statement, the winning replica
    is idle after a COMMIT, like one that polls: reported as polling, the chapter's cell printed
    two pollers now and then (nbval failed). Only replicas without the lock poll."""
    url = libpq_conninfo(backend.url(database), application_name="replica")
    with psycopg.connect(url, autocommit=True) as winner, psycopg.connect(url) as poller:
        winner.execute("SELECT pg_try_advisory_lock(7210001)")
        winner.execute("COMMIT")  # as env.py's wait_for_migration_lock ends, lock held
        assert not poller.execute("SELECT pg_try_advisory_lock(7210001)").fetchone()[0]
        poller.commit()
        with psycopg.connect(libpq_conninfo(backend.url(database))) as report:
            waiting = [row[0] for row in report.execute(notebook_waiting_query())]
    assert waiting == ["polls the migration lock"]
