"""What the benchmark scripts share: timing a step, and printing a markdown table."""

import time
from collections.abc import Callable, Sequence


def timed(fn: Callable[[], object]) -> float:
    """Seconds `fn()` takes (wall clock)."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A markdown table; floats with two decimals, the first column left-aligned."""
    cells = [[f"{v:.2f}" if isinstance(v, float) else str(v) for v in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]

    def line(values: Sequence[str]) -> str:
        first, *rest = (
            v.ljust(w) if i == 0 else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )
        return "| " + " | ".join([first, *rest]) + " |"

    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print(line(row))
