"""Solutions for chapter 03. Try the exercises first: the notebook's check gives hints."""

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.exercises.scratch import run_alembic


# 1. prod already has the schema of revision 0001 (create_all made it) and posts to keep.
#    `alembic upgrade head` would try to create the tables again; `alembic stamp head` only
#    records the revision in alembic_version, and runs none of the migration's SQL:
#
#        DATABASE_URL="<prod's URL>" alembic stamp head
def exercise_1(ch: Chapter) -> None:
    prod_url = ch.url("prod").render_as_string(hide_password=False)
    run_alembic(ch.sandbox, "stamp", "head", database_url=prod_url).check_returncode()


# 2. fresh recorded the empty 0001 earlier in the chapter. `alembic upgrade head` runs only the
#    revisions alembic_version does not hold: none. 0001 now creates the tables, but fresh
#    never gets them (until `alembic stamp base` and an upgrade, or a new database).
EXERCISE_2 = 0
