"""Solutions for chapter 02. Try the exercises first: the notebook's check gives hints."""

from psycopg import sql

from workshop_app.workshop.chapter import Chapter

# 1. The titles that contain a search term, in any case. The wildcards are glued to the
#    parameter in SQL, so the value stays the term as typed and never becomes SQL text.
EXERCISE_1 = """
SELECT title
FROM posts
WHERE title ILIKE '%' || :term || '%'
ORDER BY title
"""

# 2. A URL for blog_user with the password p@ss/w%rd on localhost:5432, database blog.
#    @ / and % mean something in a URL, so the password is percent-encoded, '/' included:
#    urllib.parse.quote("p@ss/w%rd", safe="") == "p%40ss%2Fw%25rd"
#    (quote's default safe="/" keeps the '/', and libpq then reads "blog_user" as the host.)
EXERCISE_2 = "postgresql+psycopg://blog_user:p%40ss%2Fw%25rd@localhost:5432/blog"


def exercise_3(ch: Chapter) -> None:
    """A read-only reporter: the admin creates the role, the tables' owner grants it SELECT,
    and its URL (password URL-encoded by SQLAlchemy) goes into .env."""
    reporter, password = ch.backend.name("ch02_reporter"), "read-only:100%"
    with ch.backend.connect() as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(reporter), sql.Literal(password)
            )
        )
    with ch.engine().begin() as owner:  # the app's role owns posts: it grants
        owner.exec_driver_sql(f'GRANT SELECT ON posts TO "{reporter}"')
    url = ch.url().set(username=reporter, password=password)
    with (ch.sandbox / ".env").open("a") as env:
        env.write(f"REPORTER_URL={url.render_as_string(hide_password=False)}\n")
