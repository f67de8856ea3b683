"""The blog at each point of the story, written into a chapter's sandbox as a package `blog`.

The files are the app's own (workshop_app/config.py, database.py, models.py, and the Alembic
project at the repository root), copied with their imports renamed, so the sandbox reads like
the app and never drifts from it. The models before chapter 04 are the finished models
without `Post.likes` (found by Python's parser, not by the text around it).
"""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1]


def app_source(name: str) -> str:
    """The app's module `name` as the sandbox's `blog` package would have it."""
    return (APP / f"{name}.py").read_text().replace("workshop_app.", "blog.")


def models_source(*, likes: bool) -> str:
    source = app_source("models")
    return source if likes else without_attribute(source, "Post", "likes")


def without_attribute(source: str, cls: str, name: str) -> str:
    """`source` without the attribute `name` of class `cls`, and the comment lines just above it."""
    tree = ast.parse(source)
    found = [
        node
        for klass in tree.body
        if isinstance(klass, ast.ClassDef) and klass.name == cls
        for node in klass.body
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == name
    ]
    if len(found) != 1:
        raise LookupError(f"models.py has no attribute {cls}.{name}; update story.py")
    lines = source.splitlines(keepends=True)
    start, end = found[0].lineno - 1, found[0].end_lineno or found[0].lineno
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return "".join(lines[:start] + lines[end:])


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


CREATE_ALL_LIFESPAN = (
    "    async with engine.begin() as conn:  # create the tables that are missing\n"
    "        await conn.run_sync(Base.metadata.create_all)\n"
)
CREATE_ALL_DOCSTRING = '"""The blog\'s API. Its lifespan creates the tables that are missing."""\n'


def main_with_create_all() -> str:
    """The app's main.py as the SQLite-era blog had it: create_all in the lifespan, and the
    timezone workaround, which chapter 06 removes."""
    return with_create_all(main_source(workaround=True))


def with_create_all(source: str) -> str:
    """main.py with create_all in its lifespan, before the `yield` (in place of the comments
    there) and a docstring that says so. Found by Python's parser: rewording a comment changes
    nothing."""
    tree = ast.parse(source)
    lifespan = next(
        (n for n in tree.body if isinstance(n, ast.AsyncFunctionDef) and n.name == "lifespan"),
        None,
    )
    pause = next(
        (
            s
            for s in getattr(lifespan, "body", [])
            if isinstance(getattr(s, "value", None), ast.Yield)
        ),
        None,
    )
    docstring = tree.body[0]
    if pause is None or not isinstance(getattr(docstring, "value", None), ast.Constant):
        raise LookupError("main.py has no module docstring or no lifespan with a yield")
    lines = source.splitlines(keepends=True)
    start = pause.lineno - 1
    while lines[start - 1].lstrip().startswith("#"):
        start -= 1
    lines[start : pause.lineno - 1] = [CREATE_ALL_LIFESPAN]
    lines[docstring.lineno - 1 : docstring.end_lineno] = [CREATE_ALL_DOCSTRING]
    source = "".join(lines)
    imported = "from blog.database import engine, get_db"
    if imported not in source:
        raise LookupError(f"main.py no longer says `{imported}`; update story.py")
    return source.replace(imported, "from blog.database import Base, engine, get_db")
