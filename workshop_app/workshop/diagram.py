"""The blog's schema as a Mermaid diagram, generated from the app's models."""

import os
import sys
from unittest import mock

from sqlalchemy import DefaultClause, Identity, MetaData, UniqueConstraint
from sqlalchemy.dialects import postgresql


def app_metadata() -> MetaData:
    """The finished app's tables. The app reads DATABASE_URL when imported; nothing connects."""
    if "workshop_app.models" not in sys.modules:
        with mock.patch.dict(os.environ, {"DATABASE_URL": "postgresql+psycopg:///not-used"}):
            import workshop_app.models  # noqa: F401
    return sys.modules["workshop_app.models"].Base.metadata


def mermaid_er(metadata: MetaData) -> str:
    lines = ["erDiagram"]
    for table in metadata.sorted_tables:
        lines.append(f"    {table.name} {{")
        unique = {c.name for con in table.constraints if isinstance(con, UniqueConstraint)
                  for c in con.columns}  # fmt: skip
        for col in table.columns:
            keys = [k for k, yes in (("PK", col.primary_key), ("FK", col.foreign_keys),
                                     ("UK", col.name in unique)) if yes]  # fmt: skip
            sql_type = str(col.type.compile(dialect=postgresql.dialect())).lower()
            kind = sql_type.split("(")[0].split()[0]
            notes = [sql_type, "null" if col.nullable else "not null"]
            if isinstance(col.server_default, Identity):
                notes.append("identity")
            elif isinstance(col.server_default, DefaultClause):
                notes.append(f"server default {col.server_default.arg}")
            lines.append(f'        {kind} {col.name} {",".join(keys)} "{", ".join(notes)}"'
                         .replace("  \"", ' "'))  # fmt: skip
        lines.append("    }")
    for table in metadata.sorted_tables:
        for fk in table.foreign_keys:
            lines.append(f'    {fk.column.table.name} ||--o{{ {table.name} : "{fk.parent.name}"')
    return "\n".join(lines)


def schema_diagram() -> object:
    """Display the blog's schema (a Markdown cell output with a Mermaid block)."""
    from IPython.display import Markdown

    return Markdown(f"```mermaid\n{mermaid_er(app_metadata())}\n```")
