"""Solutions for chapter 10. Try the exercises first: the notebook's check gives hints."""

from pathlib import Path

from workshop_app.workshop.chapter import Chapter

SINGLE_HEAD = '''def test_single_head(alembic_config: Config) -> None:
    """Exercise 1: fail when the history has more than one head."""
    heads = ScriptDirectory.from_config(alembic_config).get_heads()
    assert len(heads) == 1, f"more than one head: {heads}; run `alembic merge heads`"
'''


def exercise_1(ch: Chapter) -> None:
    """Replace the stub's `...` body in the sandbox's tests/test_migrations.py."""
    path = Path(ch.sandbox) / "tests" / "test_migrations.py"
    source = path.read_text()
    start = source.index("def test_single_head(")
    end = source.find("\n\n\ndef ", start)
    path.write_text(source[:start] + SINGLE_HEAD + (source[end:] if end != -1 else ""))


# 2. Only the data test has rows in its database: autogenerate's add_column('headline',
#    ..., nullable=False) fails on them (NotNullViolation); nullable, the titles would be lost.
EXERCISE_2 = "test_data_survives"
