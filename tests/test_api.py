"""The blog's API on a migrated database, and an app that never creates tables itself."""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, NullPool, inspect, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from workshop_app.workshop.alembic_runner import course_config as alembic_config
from workshop_app.workshop.backend import Backend


@pytest.fixture
def client(backend: Backend, database: str, engine: Engine) -> Iterator[TestClient]:
    """The app, its sessions going to this test's database migrated to head."""
    from workshop_app.database import get_db
    from workshop_app.main import app

    with engine.connect() as conn:
        command.upgrade(alembic_config(conn), "head")
        conn.commit()
    test_engine = create_async_engine(backend.url(database).to_sqlalchemy(), poolclass=NullPool)
    sessions = async_sessionmaker(test_engine, expire_on_commit=False)

    async def get_test_db() -> AsyncIterator:
        async with sessions() as session:
            yield session

    app.dependency_overrides[get_db] = get_test_db
    try:
        with TestClient(app) as c:
            yield c
    finally:
        app.dependency_overrides.clear()


def test_create_and_list_posts_with_likes_and_an_aware_date(
    client: TestClient, engine: Engine
) -> None:
    user = client.post(
        "/api/users",
        json={"username": "ada", "email": "ada@example.com", "password": "correct horse"},
    )
    assert user.status_code == 201, user.text
    assert "password" not in user.text

    created = client.post(
        "/api/posts", json={"title": "Hello", "content": "First!", "user_id": user.json()["id"]}
    )
    assert created.status_code == 201, created.text
    post = created.json()
    assert post["likes"] == 0
    assert post["author"]["username"] == "ada"
    posted = datetime.fromisoformat(post["date_posted"])
    assert posted.tzinfo is not None and posted.utcoffset() is not None
    assert abs(posted - datetime.now(UTC)) < timedelta(minutes=1)

    with engine.begin() as conn:
        conn.execute(text("UPDATE posts SET likes = 7 WHERE id = :id"), {"id": post["id"]})
    listed = client.get("/api/posts").json()
    assert [(p["title"], p["likes"], p["author"]["username"]) for p in listed] == [
        ("Hello", 7, "ada")
    ]
    assert client.get(f"/api/posts/{post['id']}").json()["likes"] == 7
    assert client.get("/api/posts/999999").status_code == 404


def test_a_post_for_a_missing_user_is_refused(client: TestClient) -> None:
    response = client.post("/api/posts", json={"title": "t", "content": "c", "user_id": 42})
    assert response.status_code == 404


def test_starting_the_app_creates_no_tables(backend: Backend, app_database: str) -> None:
    """The app imported by conftest points at an empty database: run its lifespan and a
    request, and the database is still empty (no create_all anywhere)."""
    from workshop_app.main import app

    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/api/posts").status_code == 500  # relation "posts" does not exist
    with backend.connect(app_database) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchall() == []


def test_no_timezone_workaround_left_in_the_app() -> None:
    from pathlib import Path

    import workshop_app

    package = Path(workshop_app.__file__).parent
    sources = [p for p in package.glob("*.py")]
    assert sources, package
    assert not [p.name for p in sources if "replace(tzinfo" in p.read_text()]


def test_date_posted_is_timestamptz_in_the_database(engine: Engine, client: TestClient) -> None:
    columns = {c["name"]: c for c in inspect(engine).get_columns("posts")}
    assert columns["date_posted"]["type"].timezone is True
