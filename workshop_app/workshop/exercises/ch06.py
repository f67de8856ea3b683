"""Chapter 06: timezones."""

from datetime import UTC, datetime

from sqlalchemy import text

from workshop_app.workshop.exercises.common import (
    Exercise,
    Result,
    correct,
    hint,
    refused,
    rolled_back,
)
from workshop_app.workshop.kit import Chapter


def ex1(answer: object, ch: Chapter | None) -> Result:
    expected = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    try:
        value = answer if isinstance(answer, datetime) else datetime.fromisoformat(str(answer))
    except ValueError:
        return hint("give a datetime, or ISO text such as 2026-01-01T00:00:00+00:00.")
    if value.tzinfo is None:
        return hint("that is a naive datetime: which instant is it? Give it a time zone.")
    if value != expected:
        return hint(f"{value.isoformat()} is {value - expected} away from the right instant.")
    return correct("12:00 at +02:00 is 10:00 UTC: the same instant, written another way.")


def ex2(answer: object, ch: Chapter | None) -> Result:
    """Convert a legacy column in a session far from UTC; the instant must survive."""
    with rolled_back(ch) as conn:
        conn.exec_driver_sql("SET LOCAL TIME ZONE 'America/New_York'")
        conn.exec_driver_sql(
            "CREATE TEMP TABLE legacy (created_at timestamp) ON COMMIT DROP;"
            "INSERT INTO legacy VALUES ('2026-01-05 09:00')"
        )
        try:
            conn.exec_driver_sql(
                f"ALTER TABLE legacy ALTER COLUMN created_at TYPE timestamptz USING {answer}"
            )
        except Exception as err:  # noqa: BLE001 - the learner's SQL may fail in any way
            return refused(err)
        value = conn.scalar(text("SELECT created_at FROM legacy"))
    expected = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    if value != expected:
        return hint(f"09:00 UTC came out as {value.astimezone(UTC):%H:%M} UTC: say the wall " \
                      "times are UTC with AT TIME ZONE.")  # fmt: skip
    return correct("the value kept its instant, whatever the session's time zone.")


EXERCISES = {
    1: Exercise(ex1, start="Give a datetime with tzinfo, or ISO text."),
    2: Exercise(ex2, start="Write the USING expression as a string."),
}
