"""The blog's schema as a diagram (SVG), generated from the app's models."""

import os
import sys
from dataclasses import dataclass
from unittest import mock

from sqlalchemy import DefaultClause, MetaData, Table, UniqueConstraint
from sqlalchemy.dialects import postgresql


def app_metadata() -> MetaData:
    """The finished app's tables. The app reads DATABASE_URL when imported; nothing connects."""
    if "workshop_app.models" not in sys.modules:
        with mock.patch.dict(os.environ, {"DATABASE_URL": "postgresql+psycopg:///not-used"}):
            import workshop_app.models  # noqa: F401
    return sys.modules["workshop_app.models"].Base.metadata


@dataclass(frozen=True)
class Row:
    name: str
    sql_type: str
    keys: str


def rows(table: Table) -> list[Row]:
    unique = {
        c.name
        for con in table.constraints
        if isinstance(con, UniqueConstraint)
        for c in con.columns
    }
    out = []
    for col in table.columns:
        keys = [
            k
            for k, yes in (
                ("PK", col.primary_key),
                ("FK", col.foreign_keys),
                ("UK", col.name in unique),
            )
            if yes
        ]
        sql_type = str(col.type.compile(dialect=postgresql.dialect())).lower()
        sql_type = sql_type.replace("timestamp with time zone", "timestamptz")
        if not col.nullable:
            sql_type += " not null"
        if isinstance(col.server_default, DefaultClause):
            sql_type += f" default {col.server_default.arg}"
        out.append(Row(col.name, sql_type, " ".join(keys)))
    return out


CHAR_W, ROW_H, PAD, GAP = 7.2, 22, 10, 90


def svg_er(metadata: MetaData) -> str:
    """Tables as boxes, left to right in dependency order, foreign keys as lines."""
    parts, boxes, x = [], {}, 10.0
    for table in metadata.sorted_tables:
        table_rows = rows(table)
        name_w = max(len(r.name) for r in table_rows) * CHAR_W + 2 * PAD
        type_w = max(len(f"{r.sql_type}  {r.keys}") for r in table_rows) * CHAR_W + PAD
        width, height = name_w + type_w, ROW_H * (len(table_rows) + 1)
        boxes[table.name] = (x, width, [r.name for r in table_rows])
        parts.append(f'<rect x="{x}" y="10" width="{width}" height="{height}" class="box"/>')
        parts.append(f'<rect x="{x}" y="10" width="{width}" height="{ROW_H}" class="head"/>')
        parts.append(f'<text x="{x + PAD}" y="{10 + 15}" class="title">{table.name}</text>')
        for i, r in enumerate(table_rows, start=1):
            y = 10 + ROW_H * i + 15
            parts.append(f'<text x="{x + PAD}" y="{y}">{r.name}</text>')
            parts.append(
                f'<text x="{x + name_w}" y="{y}" class="type">{r.sql_type}'
                f'<tspan class="keys"> {r.keys}</tspan></text>'
            )
        x += width + GAP
    for table in metadata.sorted_tables:
        for fk in table.foreign_keys:
            tx, tw, tcols = boxes[fk.column.table.name]
            sx, _, scols = boxes[table.name]
            y1 = 10 + ROW_H * (tcols.index(fk.column.name) + 1) + ROW_H / 2
            y2 = 10 + ROW_H * (scols.index(fk.parent.name) + 1) + ROW_H / 2
            parts.append(
                f'<path d="M{tx + tw},{y1} C{tx + tw + GAP / 2},{y1} '
                f'{sx - GAP / 2},{y2} {sx},{y2}" class="fk"/>'
            )
            parts.append(f'<text x="{tx + tw + 4}" y="{y1 - 4}" class="card">1</text>')
            parts.append(f'<text x="{sx - 12}" y="{y2 - 4}" class="card">n</text>')
    height = 20 + ROW_H * (max(len(t.columns) for t in metadata.sorted_tables) + 1)
    style = (
        "text{font:12px monospace;fill:#222}.title{font-weight:bold}.type{fill:#555}"
        ".keys{fill:#a33;font-weight:bold}.box{fill:#fff;stroke:#555}.head{fill:#dde6f0;"
        "stroke:#555}.fk{fill:none;stroke:#a33;stroke-width:1.5}.card{fill:#a33}"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{x - GAP + 10:.0f}" height="{height}">'
        f"<style>{style}</style>{''.join(parts)}</svg>"
    )


def schema_diagram() -> object:
    """Display the blog's schema, drawn from the models (an SVG: no JavaScript needed)."""
    from IPython.display import SVG

    return SVG(svg_er(app_metadata()))
