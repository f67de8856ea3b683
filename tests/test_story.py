"""The blog at each point of the story is the app's own source, minus what a chapter adds."""

import ast

import pytest

from workshop_app.workshop.story import (
    CREATE_ALL_LIFESPAN,
    app_source,
    main_source,
    models_source,
    with_create_all,
    without_attribute,
)


def post_attributes(source: str) -> list[str]:
    post = next(n for n in ast.parse(source).body if getattr(n, "name", None) == "Post")
    return [n.target.id for n in post.body if isinstance(n, ast.AnnAssign)]


def test_models_before_chapter_04_are_the_apps_without_likes() -> None:
    after, before = models_source(likes=True), models_source(likes=False)
    assert after == app_source("models")
    assert "likes" in post_attributes(after)
    assert post_attributes(before) == [a for a in post_attributes(after) if a != "likes"]
    assert "server_default" not in before  # its comment went with it


def test_a_reworded_comment_does_not_change_the_state() -> None:
    reworded = app_source("models").replace("# default: what the ORM sends", "# ORM default")
    assert "# ORM default" in reworded
    before = without_attribute(reworded, "Post", "likes")
    assert post_attributes(before) == post_attributes(models_source(likes=False))
    assert "ORM default" not in before and "server_default" not in before


def test_a_missing_attribute_is_named() -> None:
    with pytest.raises(LookupError, match="Post.shares"):
        without_attribute(app_source("models"), "Post", "shares")


def test_the_sqlite_era_main_creates_the_tables_before_serving() -> None:
    source = with_create_all(main_source(workaround=False))
    lifespan = source[source.index("async def lifespan") : source.index("app = FastAPI")]
    assert CREATE_ALL_LIFESPAN + "    yield\n" in lifespan
    assert "No Base.metadata.create_all" not in source  # the finished app's comment is gone
    assert "from blog.database import Base, engine, get_db" in source
    assert source.startswith('"""The blog\'s API. Its lifespan creates the tables')
    compile(source, "main.py", "exec")


def test_a_reworded_lifespan_comment_gives_the_same_main() -> None:
    plain = main_source(workaround=False)
    reworded = plain.replace("# No Base.metadata.create_all here", "# Alembic, not create_all")
    assert reworded != plain
    assert with_create_all(reworded) == with_create_all(plain)
