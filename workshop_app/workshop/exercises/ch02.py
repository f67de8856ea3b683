"""Chapter 02: PostgreSQL."""

from sqlalchemy.engine import make_url

from workshop_app.workshop.exercises.common import Exercise, Result, correct, hint, refused
from workshop_app.workshop.kit import Chapter


def ex1(answer: object, ch: Chapter | None) -> Result:
    sql = str(answer)
    if ":author" not in sql:
        return hint("use a bound parameter named :author for the user name.")
    if "'ada'" in sql or '"ada"' in sql:
        return hint("the name must come from the parameter, not be written into the SQL.")
    assert ch is not None
    try:
        got = sorted(ch.query(sql, author="ada").iloc[:, 0])
    except Exception as err:  # noqa: BLE001 - the learner's SQL may fail in any way
        return refused(err)
    expected = sorted(ch.query(
        "SELECT p.title FROM posts p JOIN users u ON u.id = p.user_id WHERE u.username = 'ada'"
    ).title)  # fmt: skip
    if got != expected:
        return hint(f"for author 'ada' it returned {got}; join posts to users on user_id.")
    return correct(f"posts by ada: {len(got)}; the name travelled as a parameter.")


def ex2(answer: object, ch: Chapter | None) -> Result:
    try:
        url = make_url(str(answer))
    except Exception:  # noqa: BLE001
        return hint("that is not a URL SQLAlchemy can read.")
    if url.password != "p@ss/w%rd" or url.host != "localhost" or url.database != "blog":
        return hint(
            f"it reads as password {url.password!r}, host {url.host!r}, database "
            f"{url.database!r}: URL-encode the password (urllib.parse.quote(..., safe=''))."
        )
    return correct("the password survives the trip through the URL.")


EXERCISES = {
    1: Exercise(ex1, start="Write the query as a string with :author where the name goes."),
    2: Exercise(ex2, start="Write the URL as a string."),
}
