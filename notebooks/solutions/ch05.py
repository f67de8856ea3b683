"""Solutions for chapter 05. Try the exercises first: the notebook's check gives hints."""

from workshop_app.workshop.chapter import Chapter

# 1. A constant default fills the existing rows from the catalog (PostgreSQL 11+): no rewrite.
EXERCISE_1 = "ALTER TABLE posts ADD COLUMN views integer NOT NULL DEFAULT 0"

# 2. What pg_locks shows on posts while `CREATE INDEX ... ON posts (...)` runs:
#    locks_taken("CREATE INDEX ix_posts_title ON posts (title)").
EXERCISE_2 = "ShareLock"


# 3. With transaction_per_migration=True each revision has its own transaction, so a
#    `SET LOCAL` run once before run_migrations() covers only the first. Make lock_timeout a
#    setting of the whole session instead: a libpq connect option on the engine (as here), or
#    `SET lock_timeout` on the connection followed by `connection.commit()` before configure().
def exercise_3(ch: Chapter) -> None:
    env = ch.sandbox / "alembic" / "env.py"
    source = env.read_text()
    source = source.replace("        context.execute(\"SET LOCAL lock_timeout = '500ms'\")\n", "")
    engine = "create_async_engine(settings.database_url, poolclass=pool.NullPool)"
    assert source.count(engine) == 1, "env.py's engine line changed"
    source = source.replace(
        engine,
        (
            "create_async_engine(\n"
            "        settings.database_url,\n"
            "        poolclass=pool.NullPool,\n"
            "        # every connection starts with it, whatever transactions Alembic opens\n"
            '        connect_args={"options": "-c lock_timeout=500ms"},\n'
            "    )"
        ),
    )
    configure = "        target_metadata=target_metadata,\n"
    assert source.count(configure) == 1, "env.py's configure() changed"
    source = source.replace(
        configure, configure + "        transaction_per_migration=True,  # commit each revision\n"
    )
    env.write_text(source)
