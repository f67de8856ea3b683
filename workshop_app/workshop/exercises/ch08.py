"""Chapter 08: changing data safely. Both exercises are hands-on: the checks apply nothing,
they read the sandbox's files and look at the database from a new connection."""

import re

from sqlalchemy import text

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises.common import (
    Exercise,
    Result,
    code_of,
    correct,
    hint,
    waiting,
)

# The story's posts (chapters.SEED_SQL) and their text, which a rename must keep.
STORY_CONTENT = {
    "Hello, blog": "The first post.",
    "Why SQLite?": "It was one file.",
    "Kernel news": "Patches welcome.",
}
IMPORTS_APP = re.compile(r"^\s*(from\s+blog(\.\w+)*\s+import|import\s+blog\b)", re.M)
REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.M)
DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.M)


def migrations(ch: Chapter) -> dict[str, str]:
    """Revision id -> source of every migration file in the sandbox."""
    found = {}
    for path in sorted((ch.sandbox / "alembic" / "versions").glob("*.py")):
        source = path.read_text()
        if match := REVISION.search(source):
            found[match[1]] = source
    return found


def heads(files: dict[str, str]) -> set[str]:
    """Revisions no other revision names as its parent."""
    parents = set()
    for source in files.values():
        if match := DOWN_REVISION.search(source):
            parents |= set(re.findall(r"['\"]([^'\"]+)['\"]", match[1]))
    return set(files) - parents


def state(ch: Chapter, sql: str) -> dict[str, object]:
    """One row of facts about the chapter's database, from a new connection."""
    engine = ch.engine(admin=True)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text(sql)).mappings().one())
    finally:
        engine.dispose()


# The revisions the chapter itself writes; the exercises add others.
CHAPTER = {"0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008"}


def mentioning(files: dict[str, str], word: str) -> list[str]:
    """The learner's migrations (not the chapter's) that contain `word`."""
    return [rev for rev, source in files.items() if word in source and rev not in CHAPTER]


def applied(ch: Chapter, files: dict[str, str], version: str | None) -> Result | None:
    """A hint when the database is not at the head of the files, or a file imports the app."""
    for rev in mentioning(files, ""):
        if IMPORTS_APP.search(files[rev]):
            return hint(
                f"migration {rev} imports the app (blog...): the models will change, "
                "the migration must not. Use sa.table()/sa.column() or op.execute."
            )
    tips = heads(files)
    if len(tips) != 1:
        return hint(f"the history has {len(tips)} heads ({', '.join(sorted(tips))}): one expected.")
    if version not in tips:
        return hint(
            f"the database is at {version}, the newest migration is {tips.pop()}: run "
            "`alembic upgrade head` (and read its error if it fails)."
        )
    return None


COLUMNS_SQL = """
SELECT (SELECT version_num FROM alembic_version) AS version,
       (SELECT count(*) FROM information_schema.columns
        WHERE table_name = 'posts' AND column_name = '{0}') AS has_{0}
"""


# A column of the rename dropped or added (autogenerate's way) rather than renamed.
LOSSY = re.compile(
    r"drop_column\(\s*['\"]posts['\"],\s*['\"](?:content|body)['\"]"
    r"|add_column\(\s*['\"]posts['\"],\s*sa\.Column\(\s*['\"](?:content|body)['\"]"
)


def ex1(answer: object, ch: Chapter | None) -> Result:
    """posts.content renamed to body: values kept, NOT NULL, model and database agree."""
    assert ch is not None
    files = migrations(ch)
    facts = state(ch, COLUMNS_SQL.format("content")) | state(ch, COLUMNS_SQL.format("body"))
    model = (ch.sandbox / "blog" / "models.py").read_text()
    new_files = mentioning(files, "body")
    if facts["has_content"] and not facts["has_body"] and not new_files:
        return waiting("rename the column in blog/models.py, then generate the migration.")
    if not re.search(r"^\s+body\s*:", model, re.M) or re.search(r"^\s+content\s*:", model, re.M):
        return hint("the model should call the column body (and no longer content).")
    if problem := applied(ch, files, facts["version"]):
        return problem
    if facts["has_content"] or not facts["has_body"]:
        return hint("posts should have a column body and no column content.")
    texts = state(
        ch,
        """
        SELECT count(*) FILTER (WHERE body IS NULL OR body = '') AS empty,
               (SELECT is_nullable FROM information_schema.columns
                WHERE table_name = 'posts' AND column_name = 'body') AS nullable,
               json_object_agg(title, body) FILTER (WHERE id <= 3) AS story
        FROM posts""",
    )
    story = {t: b for t, b in (texts["story"] or {}).items() if t in STORY_CONTENT}
    if texts["empty"] or story != STORY_CONTENT:
        return hint(
            f"{texts['empty']} posts lost their text: the migration dropped content and "
            "added an empty body. Rename the column instead (and restore the data: "
            "`workshop reset 08` starts the chapter over)."
        )
    if texts["nullable"] != "NO":
        return hint("body may be NULL now; content was NOT NULL.")
    for rev in new_files:
        if LOSSY.search(code_of(files[rev])):
            return hint(
                f"migration {rev} still drops or adds content or body in its upgrade or "
                "downgrade: a downgrade would lose every post's text. Rename both ways."
            )
    return correct("renamed in the catalog: every post kept its text, and the model agrees.")


def ex2(answer: object, ch: Chapter | None) -> Result:
    """'pinned' added to post_status and used by the same migration."""
    assert ch is not None
    files = migrations(ch)
    facts = state(
        ch,
        """
        SELECT (SELECT version_num FROM alembic_version) AS version,
               EXISTS (SELECT FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
                       WHERE t.typname = 'post_status' AND e.enumlabel = 'pinned') AS has_value""",
    )
    model = (ch.sandbox / "blog" / "models.py").read_text()
    new_files = mentioning(files, "pinned")
    if not facts["has_value"] and not new_files:
        return waiting(
            "write the migration with `alembic revision -m ...` (autogenerate "
            "does not see ENUM values)."
        )
    if problem := applied(ch, files, facts["version"]):
        if new_files and not facts["has_value"]:
            return hint(
                problem.message + ' If PostgreSQL said "unsafe use of new value": the '
                "value must be committed before the UPDATE uses it."
            )
        return problem
    if not facts["has_value"]:
        return hint("post_status has no value pinned yet.")
    if len(new_files) != 1:
        return hint(
            f"do it in one migration; {len(new_files)} mention pinned ({', '.join(new_files)})."
        )
    if "IF NOT EXISTS" not in files[new_files[0]].upper():
        return hint("make ADD VALUE safe to run again: ADD VALUE IF NOT EXISTS.")
    pins = state(
        ch,
        """
        SELECT count(*) FILTER (WHERE status = 'pinned') AS pinned,
               count(*) FILTER (WHERE status = 'pinned' AND title = 'Hello, blog') AS hello
        FROM posts""",
    )
    if not pins["hello"] or pins["pinned"] != 1:
        return hint(
            f"{pins['pinned']} posts are pinned: the migration should pin exactly the "
            "post titled 'Hello, blog'."
        )
    code, rev = code_of(files[new_files[0]]), new_files[0]
    update = re.search(r"UPDATE\s+posts|posts\.update\(|update\(\s*posts", code, re.I)
    if not re.search(r"ADD\s+VALUE", code, re.I) or not update:
        return hint(
            f"migration {rev} must do both itself: ADD VALUE and the UPDATE that pins the "
            "post. What you ran by hand reaches no other database."
        )
    if not re.search(r"autocommit_block|\bCOMMIT\b", code[: update.start()], re.I):
        return hint(
            f"in migration {rev} the UPDATE runs in the transaction of ADD VALUE: on a "
            "database without the value yet PostgreSQL refuses it (unsafe use of new value). "
            "Commit ADD VALUE first: op.get_context().autocommit_block()."
        )
    if not re.search(r"['\"]pinned['\"]", model):
        return hint("the database knows pinned, the model's Enum does not: add it there too.")
    return correct("the value was committed before the same migration used it.")


EXERCISES = {
    1: Exercise(
        ex1, start="Rename the column in the model, then write the migration.", hands_on=True
    ),
    2: Exercise(ex2, start="Write the migration by hand, then upgrade.", hands_on=True),
}
