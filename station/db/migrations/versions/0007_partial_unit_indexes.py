"""A unit's links to documents after its arrival (order line, shipment, RMA, RTV, the
unit it relabels, adjustment) are NULL on most units: their indexes become partial
(`WHERE column IS NOT NULL`), so a receipt's new units write six index entries fewer
each, a shipment's updated units four fewer, and a ledger of 10,000,000 units keeps no
index entries for links it does not have. Queries by these columns (`= x`, `IN (...)`,
joins) imply IS NOT NULL and use the partial index on both databases.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-11 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = ("order_line_id", "shipment_id", "rma_id", "rtv_id", "relabels_id", "adjustment_id")


def upgrade() -> None:
    for column in COLUMNS:
        where = sa.text(f"{column} IS NOT NULL")
        op.drop_index(f"ix_units_{column}", table_name="units")
        op.create_index(
            f"ix_units_{column}",
            "units",
            [column],
            postgresql_where=where,
            sqlite_where=where,
        )


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_units_{column}", table_name="units")
        op.create_index(f"ix_units_{column}", "units", [column])
