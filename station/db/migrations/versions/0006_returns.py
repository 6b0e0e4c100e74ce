"""Returns (SPEC §3.3): customer returns (`rmas`, RMA-000001) against the order the units
shipped on or free, supplier returns (`rtvs`, RTV-000001) to one vendor; order lines
keep a returned quantity (never more than shipped); units may be `quarantined`, name
the return that last moved them and, when made for a unit whose label was lost, the
unit they replace. Adjustments (`adjustments`, ADJ-000001: scrapping units, releasing
quarantined ones to stock) always carry their reason; units name the adjustment that last
moved them. On PostgreSQL the new numberings are sequences (as 0005).

SQLite cannot change a CHECK constraint in place: the units and order_lines tables are
rebuilt (batch mode), with foreign keys off for the rebuild (station.db.engine.upgrade).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OLD_STATUSES = "status IN ('in_stock', 'shipped', 'returned_to_vendor', 'not_found', 'scrapped')"
NEW_STATUSES = (
    "status IN ('in_stock', 'quarantined', 'shipped', 'returned_to_vendor', 'not_found',"
    " 'scrapped')"
)
SEQUENCES = {
    "rma_numbers": "rmas.number",
    "rtv_numbers": "rtvs.number",
    "adjustment_numbers": "adjustments.number",
}


def _header(name: str, party: str, referred: str, *, nullable: bool) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column(party, sa.Integer(), nullable=nullable),
        sa.Column("station", sa.String(length=100), nullable=False),
        sa.Column("user_name", sa.String(length=100), nullable=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            [party], [f"{referred}.id"], name=op.f(f"fk_{name}_{party}_{referred}")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("number", name=op.f(f"uq_{name}_number")),
        sa.UniqueConstraint("session_id", name=op.f(f"uq_{name}_session_id")),
    )
    op.create_index(op.f(f"ix_{name}_{party}"), name, [party], unique=False)


def upgrade() -> None:
    _header("rmas", "order_id", "sales_orders", nullable=True)
    _header("rtvs", "vendor_id", "vendors", nullable=False)
    _header("adjustments", "warehouse_id", "warehouses", nullable=False)
    with op.batch_alter_table("adjustments") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False))
        batch.add_column(sa.Column("reason", sa.Text(), nullable=False))
        batch.add_column(sa.Column("bin", sa.String(length=64), nullable=True))
        batch.create_check_constraint("kind", "kind IN ('scrap', 'release', 'add')")
        batch.create_check_constraint("reason", "length(trim(reason)) > 0")
    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(
            sa.Column("qty_returned", sa.Integer(), server_default="0", nullable=False)
        )
        batch.create_check_constraint("qty_returned", "qty_returned >= 0")
        batch.create_check_constraint("returned_shipped", "qty_returned <= qty_shipped")
    with op.batch_alter_table("units") as batch:
        batch.drop_constraint("status", type_="check")
        batch.create_check_constraint("status", NEW_STATUSES)
        batch.add_column(sa.Column("rma_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rtv_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("relabels_id", BigId, nullable=True))
        batch.add_column(sa.Column("adjustment_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_units_rma_id_rmas"), "rmas", ["rma_id"], ["id"])
        batch.create_foreign_key(op.f("fk_units_rtv_id_rtvs"), "rtvs", ["rtv_id"], ["id"])
        batch.create_foreign_key(
            op.f("fk_units_relabels_id_units"), "units", ["relabels_id"], ["id"]
        )
        batch.create_index(op.f("ix_units_rma_id"), ["rma_id"], unique=False)
        batch.create_index(op.f("ix_units_rtv_id"), ["rtv_id"], unique=False)
        batch.create_index(op.f("ix_units_relabels_id"), ["relabels_id"], unique=False)
        batch.create_foreign_key(
            op.f("fk_units_adjustment_id_adjustments"), "adjustments", ["adjustment_id"], ["id"]
        )
        batch.create_index(op.f("ix_units_adjustment_id"), ["adjustment_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for sequence, column in SEQUENCES.items():
            op.execute(f"CREATE SEQUENCE {sequence} AS bigint START WITH 1 MINVALUE 1")
            op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {column}")


def downgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.drop_index(op.f("ix_units_adjustment_id"))
        batch.drop_constraint(op.f("fk_units_adjustment_id_adjustments"), type_="foreignkey")
        batch.drop_column("adjustment_id")
        batch.drop_index(op.f("ix_units_relabels_id"))
        batch.drop_index(op.f("ix_units_rtv_id"))
        batch.drop_index(op.f("ix_units_rma_id"))
        batch.drop_constraint(op.f("fk_units_relabels_id_units"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_units_rtv_id_rtvs"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_units_rma_id_rmas"), type_="foreignkey")
        batch.drop_column("relabels_id")
        batch.drop_column("rtv_id")
        batch.drop_column("rma_id")
        batch.drop_constraint("status", type_="check")
        batch.create_check_constraint("status", OLD_STATUSES)
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_constraint("returned_shipped", type_="check")
        batch.drop_constraint("qty_returned", type_="check")
        batch.drop_column("qty_returned")
    op.drop_table("adjustments")
    op.drop_table("rtvs")  # the sequences are OWNED BY their columns: they go too
    op.drop_table("rmas")
