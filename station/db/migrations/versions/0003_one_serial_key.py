"""One serial key: every stored serial key recomputed with today's `serial_key` (NFKC,
case-folded, whitespace collapsed); units that would now read as another unit's serial
keep their old key and are listed in serial_key_conflicts (never merged).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 11:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from station.db.rekey import rekey

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "serial_key_conflicts",
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("old_key", sa.String(length=64), nullable=False),
        sa.Column("new_key", sa.Text(), nullable=False),
        sa.Column(
            "other_unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_serial_key_conflicts_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_serial_key_conflicts")),
    )
    rekey(op.get_bind())


def downgrade() -> None:
    # The keys stay as they are: for printable ASCII without whitespace runs they are
    # what 0002's code computes.
    op.drop_table("serial_key_conflicts")
