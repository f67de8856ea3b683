"""add likes to posts

posts.likes is NOT NULL, so the rows that already exist need a value: server_default="0"
makes PostgreSQL fill in 0 for them (and for inserts that leave it out). With only the model's
Python `default=0` the upgrade fails on a table with rows ("column "likes" of relation "posts"
contains null values") and, DDL being transactional in PostgreSQL, changes nothing.
Since PostgreSQL 11 a constant default is stored in the catalog: no table rewrite.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:35:28.109126

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add likes; existing posts get 0."""
    op.add_column("posts", sa.Column("likes", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    """Drop likes: its values are lost (upgrading again gives every post 0)."""
    op.drop_column("posts", "likes")
