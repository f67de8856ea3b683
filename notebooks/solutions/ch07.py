"""Solutions for chapter 07. Try the exercises first: the notebook's check gives hints."""

# 1. The CI guard that fails when the models changed and no migration was written.
EXERCISE_1 = "alembic check"

# 2. The two heads that `alembic merge heads` joined (the two branches' revisions).
EXERCISE_2 = {"0004", "0005"}
