"""Print jobs belong to a station: only that station resumes them after a restart.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:40:59.537377
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("print_jobs", sa.Column("station", sa.String(length=100), nullable=True))
    op.create_index(op.f("ix_print_jobs_station"), "print_jobs", ["station"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_print_jobs_station"), table_name="print_jobs")
    op.drop_column("print_jobs", "station")
