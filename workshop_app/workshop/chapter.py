"""The chapter handle a notebook works with: its sandbox, its role, its databases, and a
look at what is in them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from workshop_app.workshop.backend import Backend
from workshop_app.workshop.urls import DbUrl

if TYPE_CHECKING:  # SQLAlchemy and pandas are imported when used: `workshop reset` starts faster
    import pandas as pd
    from sqlalchemy import Engine
    from sqlalchemy.engine import URL


@dataclass
class Chapter:
    number: str
    backend: Backend
    sandbox: Path
    role: str = ""
    password: str = ""
    databases: dict[str, str] = field(default_factory=dict)  # short -> full name

    @property
    def database(self) -> str:
        return self.databases["blog"]

    def url(self, which: str = "blog", *, admin: bool = False) -> URL:
        """A URL for one of the chapter's databases, as its app role (default) or as admin:
        SQLAlchemy's `URL`, as the notebooks use it."""
        return self.server_url(which, admin=admin).to_sqlalchemy()

    def server_url(self, which: str = "blog", *, admin: bool = False) -> DbUrl:
        """The same URL as the workshop's own `DbUrl` (no SQLAlchemy needed)."""
        name = self.databases.get(which, which)
        return self.backend.url(name) if admin else self.backend.url(name, self.role, self.password)

    def engine(self, which: str = "blog", *, admin: bool = False) -> Engine:
        from sqlalchemy import NullPool, create_engine

        return create_engine(self.url(which, admin=admin), poolclass=NullPool)

    def query(self, sql: str, which: str = "blog", **params: object) -> pd.DataFrame:
        """Run a query as admin on one of the chapter's databases; the rows as a table."""
        import pandas as pd
        from sqlalchemy import text

        engine = self.engine(which, admin=True)
        try:
            with engine.connect() as conn:
                result = conn.execute(text(sql), params)
                return pd.DataFrame(result.all(), columns=list(result.keys()))
        finally:
            engine.dispose()

    def tables(self, which: str = "blog") -> pd.DataFrame:
        """The tables in the public schema with their columns: the schema at a glance."""
        if not self.databases:
            import pandas as pd

            return pd.DataFrame()
        return self.query(TABLES_SQL, which).set_index("table")

    def columns(self, table: str, which: str = "blog") -> pd.DataFrame:
        return self.query(COLUMNS_SQL, which, table=table).set_index("column")


TABLES_SQL = """
SELECT c.relname AS table,
       string_agg(a.attname, ', ' ORDER BY a.attnum) AS columns
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind = 'r'
GROUP BY c.relname ORDER BY c.relname
"""

COLUMNS_SQL = """
SELECT column_name AS column, data_type AS type, is_nullable AS nullable,
       column_default AS server_default
FROM information_schema.columns
WHERE table_schema = 'public' AND table_name = :table
ORDER BY ordinal_position
"""
