"""The blog at each point of the story is the app's own source, minus what a chapter adds."""

import ast

import pytest

from workshop_app.workshop.story import app_source, models_source, without_attribute


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
