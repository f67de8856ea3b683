"""Chapter 07: the production workflow."""

import re

from workshop_app.workshop.exercises.common import Exercise, Result, correct, hint
from workshop_app.workshop.kit import Chapter


def ex1(answer: object, ch: Chapter | None) -> Result:
    if " ".join(str(answer).split()) == "alembic check":
        return correct("it exits non-zero when the models need a migration nobody wrote.")
    return hint("one alembic command compares models and migrations without writing anything.")


def ex2(answer: object, ch: Chapter | None) -> Result:
    assert ch is not None
    merges = [p for p in (ch.sandbox / "alembic" / "versions").glob("*.py")
              if "down_revision" in p.read_text() and "merge" in p.name]  # fmt: skip
    if not merges:
        return hint("run the merge section first.")
    text_ = merges[0].read_text()
    parents = set(re.findall(r"down_revision[^=]*= \(([^)]*)\)", text_)[0].replace('"', "")
                  .replace("'", "").replace(" ", "").split(",")) - {""}  # fmt: skip
    given = {str(a).strip() for a in answer} if isinstance(answer, list | tuple | set) else set()
    if given == parents:
        return correct(f"the merge revision has two parents: {', '.join(sorted(parents))}.")
    return hint("give the two revision ids `alembic heads` listed, as a set of strings.")


EXERCISES = {
    1: Exercise(ex1, start="Write the command as you would type it."),
    2: Exercise(ex2, start="Give the two revision ids as a set of strings."),
}
