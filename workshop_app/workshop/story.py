"""The blog at each point of the story, written into a chapter's sandbox as a package `blog`.

The files are the app's own (workshop_app/config.py, database.py, models.py, and the Alembic
project at the repository root), copied with their imports renamed, so the sandbox reads like
the app and never drifts from it. The state before `likes` is derived from the finished models.
"""

import re
from pathlib import Path

APP = Path(__file__).resolve().parents[1]
LIKES_BLOCK = re.compile(r"\n    # default: what the ORM sends.*?server_default=\"0\"\)\n", re.S)


def app_source(name: str) -> str:
    """The app's module `name` as the sandbox's `blog` package would have it."""
    return (APP / f"{name}.py").read_text().replace("workshop_app.", "blog.")


def models_source(*, likes: bool) -> str:
    source = app_source("models")
    if not likes:
        source, found = LIKES_BLOCK.subn("\n", source)
        assert found == 1, "the likes block of models.py moved; update story.LIKES_BLOCK"
    return source


def write_blog(sandbox: Path, *, likes: bool) -> Path:
    """Write the blog package (config, database, models, schemas, security) into the sandbox."""
    package = sandbox / "blog"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(
        '"""The blog, as it stands at this point of the course."""\n'
    )
    for name in ("config", "database", "schemas", "security"):
        (package / f"{name}.py").write_text(app_source(name))
    (package / "models.py").write_text(models_source(likes=likes))
    return package


def write_alembic(sandbox: Path, *, upto: str, compare_server_default: bool = True) -> None:
    """The course's Alembic project (alembic.ini, env.py, template, and the reviewed revisions
    up to `upto`), as the sandbox's blog package would have it."""
    source = APP.parent / "alembic"
    target = sandbox / "alembic"
    (target / "versions").mkdir(parents=True, exist_ok=True)
    (sandbox / "alembic.ini").write_text((APP.parent / "alembic.ini").read_text())
    (target / "script.py.mako").write_text((source / "script.py.mako").read_text())
    env = (source / "env.py").read_text().replace("workshop_app", "blog")
    if not compare_server_default:
        env = env.replace("        compare_server_default=True,\n", "")
    (target / "env.py").write_text(env)
    for revision in sorted((source / "versions").glob("*.py")):
        (target / "versions" / revision.name).write_text(revision.read_text())
        if revision.name.startswith(upto + "_"):
            break


WORKAROUND = (
    "    posts = list(await db.scalars(query))\n"
    "    for post in posts:  # SQLite returns naive datetimes: say they are UTC\n"
    "        post.date_posted = post.date_posted.replace(tzinfo=UTC)\n"
    "    return posts\n"
)


def main_source(*, workaround: bool) -> str:
    """The app's main.py; with `workaround`, as the SQLite-era app had it."""
    source = app_source("main")
    if workaround:
        plain = "    return list(await db.scalars(query))\n"
        assert plain in source, "list_posts changed; update story.WORKAROUND"
        source = source.replace(plain, WORKAROUND)
        source = source.replace("from typing", "from datetime import UTC\nfrom typing", 1)
    return source
