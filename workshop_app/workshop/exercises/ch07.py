"""Chapter 07: the production workflow."""

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlparse
from sqlalchemy import text

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises.common import Exercise, Result, correct, hint, waiting
from workshop_app.workshop.exercises.scratch import run_alembic
from workshop_app.workshop.settings import ROOT

CHOICES = {
    "a": "the ids are names, not an order: Alembic orders revisions by their parents, and "
    "0004 did not run first above.",
    "c": "the merge only says that 0006 comes after both; it does not order its parents.",
    "d": "Alembic does not look at when a file was written, only at each revision's parents.",
}


def ex1(answer: object, ch: Chapter | None) -> Result:
    given = str(answer).strip().strip(".)").lower()
    if given == "b":
        return correct("0004 and 0005 are siblings: each must stand on its own, in any order.")
    if given in CHOICES:
        return hint(CHOICES[given])
    return hint("answer with one letter: a, b, c or d.")


def ex2(answer: object, ch: Chapter | None) -> Result:
    given = answer if isinstance(answer, tuple | list | set) else (answer,)
    revisions = tuple(str(r).strip() for r in given)
    if revisions == ("0006",):
        return correct("the merge is the one head, and it comes after both branches.")
    if set(revisions) == {"0004", "0005"}:
        return hint(
            "the merge already has those two parents: a second child of both would be a "
            "second head, and the history would need another merge."
        )
    if set(revisions) & {"0004", "0005", "0003"}:
        return hint(
            "a revision that is not the head gets a second child: two heads again, "
            "and the one you skipped may not have run before yours."
        )
    if "head" in revisions or "heads" in revisions:
        return hint("down_revision names revision ids; which id is the head now?")
    return hint("give the revision id (a string) that comes after both branches.")


# ----- 3, hands-on: an index on posts.date_posted, built without blocking writes, on prod

INDEXES_SQL = """
SELECT i.relname AS name, x.indisvalid AS valid
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
WHERE x.indrelid = 'public.posts'::regclass AND a.attname = 'date_posted'
"""

# What squawk says about a migration's SQL, and what it means for this exercise.
FINDINGS = {
    "require-concurrent-index-creation": "a plain CREATE INDEX blocks every write to posts for "
    "the whole build: build it CONCURRENTLY.",
    "ban-concurrent-index-creation-in-transaction": "CREATE INDEX CONCURRENTLY cannot run "
    "inside a transaction, and `alembic upgrade` runs its revisions in one: see "
    "autocommit_block() above.",
    "prefer-robust-stmts": "if the build fails half way, a rerun must still work: the chapter's "
    "migration drops a leftover (INVALID) index first and creates it IF NOT EXISTS.",
}


SETTING = re.compile(
    r"^(SET|RESET)\s+(?:SESSION\s+)?(lock_timeout|statement_timeout|ALL)\b(?:\s*(?:=|TO)\s*(.+))?$",
    re.I,
)
CONCURRENT_INDEX = re.compile(
    r"^(CREATE|DROP)\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(IF\s+(?:NOT\s+)?EXISTS\s+)?(\S+)",
    re.I,
)
UNITS_MS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000, "": 1}


def milliseconds(value: str) -> int:
    """A timeout as PostgreSQL reads it: 0, 60000, '60s', '1min' ..."""
    match = re.fullmatch(r"'?\s*(\d+)\s*([a-z]*)\s*'?", value.strip(), re.I)
    if match is None:  # DEFAULT, or what PostgreSQL would refuse anyway
        return 0
    return int(match[1]) * UNITS_MS.get(match[2].lower(), 1)


def shown(ms: int) -> str:
    return "none" if ms == 0 else f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def build_problem(sql: str) -> str | None:
    """Read the revision's offline SQL in order, as the session would run it: is the
    CONCURRENTLY build robust to a rerun, free of env.py's short timeouts, and are they set
    back for the revisions after it? A hint, or None."""
    limits = {"lock_timeout": 0, "statement_timeout": 0}  # the server's defaults
    env_limits: dict[str, int] | None = None
    dropped: set[str] = set()
    built = False
    for raw in sqlparse.split(sql):
        if env_limits is None and "-- Running upgrade" in raw:
            env_limits = dict(limits)  # what env.py set before the revision began
        statement = " ".join(sqlparse.format(raw, strip_comments=True).split()).rstrip(";")
        if setting := SETTING.match(statement):
            verb, name, value = setting.groups()
            names = list(limits) if name.upper() == "ALL" else [name.lower()]
            for key in names:
                limits[key] = 0 if verb.upper() == "RESET" else milliseconds(value or "0")
        elif index := CONCURRENT_INDEX.match(statement):
            verb, guard, name = index.groups()
            if verb.upper() == "DROP":
                dropped.add(name)
                continue
            built = True
            if guard and name not in dropped:
                return (
                    f"IF NOT EXISTS alone is not enough: after a failed build, a rerun finds "
                    f"the INVALID index {name} and keeps it, never used. drop it first "
                    "(op.drop_index(..., postgresql_concurrently=True, if_exists=True)), "
                    "then create it."
                )
            if limits["statement_timeout"] and limits["statement_timeout"] < 3_600_000:
                return (
                    f"the build runs with statement_timeout {shown(limits['statement_timeout'])}"
                    " (env.py's): on a big table it takes longer, is cancelled, and leaves an "
                    "INVALID index. Lift it for the build: SET statement_timeout = 0."
                )
            if limits["lock_timeout"] and limits["lock_timeout"] < 10_000:
                return (
                    f"the build runs with lock_timeout {shown(limits['lock_timeout'])}: "
                    "CREATE INDEX CONCURRENTLY waits for every transaction that started "
                    "before it, so one open report cancels it. Wait longer for the build "
                    "(the chapter's migration sets '1min')."
                )
    lifted = [k for k, v in (env_limits or {}).items() if v and not 0 < limits[k] <= v]
    if built and lifted:
        now = ", ".join(f"{k} {shown(v)}" for k, v in limits.items())
        was = ", ".join(f"{k} {shown(v)}" for k, v in env_limits.items())
        return (
            f"after the build the session keeps {now}: revisions that run after yours in the "
            f"same upgrade would run without env.py's limits ({was}). Set them back at the "
            "end of the autocommit block."
        )
    return None


def venv_command(name: str) -> str:
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else (shutil.which(name) or name)


def learners_revision(ch: Chapter) -> tuple[Any, Any] | None:
    """The learner's revision that creates an index on date_posted, and the script directory."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    course = {p.name.split("_")[0] for p in (ROOT / "alembic" / "versions").glob("*.py")}
    script = ScriptDirectory.from_config(Config(str(ch.sandbox / "alembic.ini")))
    for rev in script.walk_revisions():
        source = Path(rev.path).read_text()
        if (
            rev.revision not in course
            and "date_posted" in source
            and re.search(r"create[_ ]index", source, re.I)
        ):
            return rev, script
    return None


def squawk_findings(ch: Chapter, rev: Any) -> tuple[list[str], str]:
    """Run the real commands: the revision's offline SQL, linted by squawk."""
    prod = ch.url("prod").render_as_string(hide_password=False)
    parents = rev.down_revision
    parent = parents[0] if isinstance(parents, tuple) else parents
    sql = run_alembic(ch.sandbox, "upgrade", f"{parent}:{rev.revision}", "--sql", database_url=prod)
    if sql.returncode != 0:
        lines = (sql.stderr.strip() or sql.stdout.strip()).splitlines() or ["(no output)"]
        return [], lines[-1]
    lint = subprocess.run(
        [venv_command("squawk"), "--reporter", "gcc"],
        input=sql.stdout,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return [rule for rule in FINDINGS if rule in lint.stdout], sql.stdout


def alembic_check(ch: Chapter) -> str:
    """`alembic check` against prod (at head): empty when models and migrations agree."""
    prod = ch.url("prod").render_as_string(hide_password=False)
    run = run_alembic(ch.sandbox, "check", database_url=prod)
    if run.returncode == 0:
        return ""
    lines = (run.stderr.strip() or run.stdout.strip()).splitlines() or ["(no output)"]
    return lines[-1].strip()


def ex3(answer: object, ch: Chapter | None) -> Result:
    assert ch is not None, "this check needs the chapter: check(..., ch=ch)"
    engine = ch.engine("prod", admin=True)  # a new connection: what is committed
    try:
        with engine.connect() as conn:
            indexes = conn.execute(text(INDEXES_SQL)).all()
            version = conn.scalar(text("SELECT string_agg(version_num, ', ') FROM alembic_version"))
    finally:
        engine.dispose()
    found = learners_revision(ch)
    if found is None and not indexes:
        return waiting(
            "no migration creates an index on posts.date_posted yet, and prod has "
            "none: write the migration, then deploy it to prod."
        )
    invalid = [i.name for i in indexes if not i.valid]
    if invalid:
        return hint(
            f"prod has an INVALID index {', '.join(invalid)} (a failed CONCURRENTLY "
            "build leaves one): drop it with DROP INDEX CONCURRENTLY, then deploy "
            "again."
        )
    if found is None:
        return hint(
            "prod has an index on date_posted, but no migration creates it: made "
            "by hand, it is missing from every other database. Write the "
            "migration."
        )
    rev, script = found
    rules, sql = squawk_findings(ch, rev)
    if not rules and "CONCURRENTLY" not in sql:
        return hint(
            f"`alembic upgrade ... --sql` for {rev.revision} failed or has no "
            f"CREATE INDEX CONCURRENTLY: {sql.strip().splitlines()[-1][:200]}"
        )
    if rules:
        return hint(f"squawk on revision {rev.revision}'s SQL: {FINDINGS[rules[0]]}")
    if problem := build_problem(sql):
        return hint(f"revision {rev.revision}: {problem}")
    if not indexes:
        return hint(
            f"revision {rev.revision} looks right; prod has no index on date_posted "
            "yet: deploy it (DATABASE_URL=... alembic upgrade head)."
        )
    heads = set(script.get_heads())
    if version not in heads:
        return hint(f"prod is at {version}, not at the head ({', '.join(sorted(heads))}).")
    drift = alembic_check(ch)
    if drift:
        return hint(
            f"prod has the index, but `alembic check` on prod fails: {drift[:300]}. "
            "The models must declare what the migrations build (the index on "
            "Post.date_posted, with the same name), or the next autogenerate drops "
            "it and CI fails."
        )
    return correct(
        f"prod is at {version} and its index {indexes[0].name} on date_posted is "
        "valid, built CONCURRENTLY by a migration that squawk passes, and "
        "`alembic check` finds the models in step."
    )


EXERCISES = {
    1: Exercise(ex1, start="Answer with one letter."),
    2: Exercise(ex2, start="Give a revision id, or a tuple of them."),
    3: Exercise(
        ex3, start="Write the migration (alembic revision), then deploy it to prod.", hands_on=True
    ),
}
