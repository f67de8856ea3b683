"""What a chapter's notebook imports: `ch = setup("03")`, and the few helpers its cells use.

`setup` gives the chapter its own sandbox folder (notebooks/sandbox/chNN, ignored by git) and,
on the configured PostgreSQL, its own role and databases, in the chapter's starting state.
Running it again starts the chapter over. It also keeps the notebook's output stable (no
absolute paths of your machine). The helpers live in modules named for what they do.
"""

import os
import sys

from workshop_app.workshop.chapter import Chapter
from workshop_app.workshop.chapters import STARTS
from workshop_app.workshop.compare import compare_with_reference, schema_of, show_diff
from workshop_app.workshop.errors import error_line, expect_error
from workshop_app.workshop.kernel import (
    forget,
    no_cached_bytecode,
    use_this_python_first,
    watch_for_outside_reset,
)
from workshop_app.workshop.output import stable_output, volatile_paths
from workshop_app.workshop.reset import reset
from workshop_app.workshop.urls import libpq_url

__all__ = [
    "Chapter",
    "compare_with_reference",
    "error_line",
    "expect_error",
    "forget",
    "libpq_url",
    "schema_of",
    "setup",
    "show_diff",
]


def setup(number: str) -> Chapter:
    """Put chapter `number` in its starting state and make this notebook run inside it."""
    ch, _, _ = reset(number)
    # Run like a learner's terminal in the sandbox: the app reads its URL from ./.env there,
    # not from a DATABASE_URL this process was started with (the old name of the workshop's
    # WORKSHOP_DATABASE_URL, or a leftover of another project).
    os.environ.pop("DATABASE_URL", None)
    use_this_python_first()
    no_cached_bytecode()
    os.chdir(ch.sandbox)
    if str(ch.sandbox) not in sys.path:
        sys.path.insert(0, str(ch.sandbox))
    forget("blog")
    for module in ("main", "database", "config", "models"):  # they read the URL once, on import
        forget(f"workshop_app.{module}")
    stable_output(volatile_paths(ch))
    watch_for_outside_reset(ch)
    made = ", ".join(ch.databases.values()) if STARTS[number].create else ""
    print(
        f"Chapter {number} is ready. Sandbox: ./sandbox/ch{number}"
        + (f". Databases: {made}" if made else "")
    )
    return ch
