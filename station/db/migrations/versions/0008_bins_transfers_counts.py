"""Known bins, transfers and counts (SPEC §3.3): `bins` holds the locations of each
warehouse a location barcode may name (an unknown one is refused, BIN_UNKNOWN, until a
supervisor makes it); it starts with every bin that holds a unit today. `transfers` are
the posted bin moves and warehouse transfers (TRF-000001), `counts` the posted cycle
counts of a bin (CNT-000001); each numbered by a sequence on PostgreSQL.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-12 10:00:00.000000
"""

import unicodedata
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_bins_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bins")),
        sa.UniqueConstraint("warehouse_id", "key", name=op.f("uq_bins_warehouse_id_key")),
    )
    _known_bins()
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("to_warehouse_id", sa.Integer(), nullable=False),
        sa.Column("to_bin", sa.String(length=64), nullable=False),
        sa.Column("station", sa.String(length=100), nullable=False),
        sa.Column("user_name", sa.String(length=100), nullable=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_transfers_warehouse_id_warehouses")
        ),
        sa.ForeignKeyConstraint(
            ["to_warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_transfers_to_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        sa.UniqueConstraint("number", name=op.f("uq_transfers_number")),
        sa.UniqueConstraint("session_id", name=op.f("uq_transfers_session_id")),
    )
    op.create_index(op.f("ix_transfers_warehouse_id"), "transfers", ["warehouse_id"])
    op.create_index(op.f("ix_transfers_to_warehouse_id"), "transfers", ["to_warehouse_id"])
    op.create_table(
        "counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("bin", sa.String(length=64), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("misplaced", sa.Integer(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("station", sa.String(length=100), nullable=False),
        sa.Column("user_name", sa.String(length=100), nullable=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_counts_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counts")),
        sa.UniqueConstraint("number", name=op.f("uq_counts_number")),
        sa.UniqueConstraint("session_id", name=op.f("uq_counts_session_id")),
    )
    op.create_index(op.f("ix_counts_warehouse_id"), "counts", ["warehouse_id"])
    if op.get_bind().dialect.name == "postgresql":
        for sequence, column in (("transfer_numbers", "transfers"), ("count_numbers", "counts")):
            op.execute(f"CREATE SEQUENCE {sequence} AS bigint START WITH 1 MINVALUE 1")
            op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {column}.number")


def _serial_key(text: str) -> str:
    """station.scanning.serial_key as of this revision (a migration keeps its own)."""
    if text.isascii():
        return " ".join(text.upper().split())
    folded = unicodedata.normalize("NFKC", text).casefold().upper()
    return " ".join(unicodedata.normalize("NFKC", folded).split())[:64]


def _known_bins() -> None:
    """Every bin that holds a unit today is known (the first spelling of each key)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT warehouse_id, bin FROM units GROUP BY warehouse_id, bin ORDER BY 1, 2")
    ).all()
    known: dict[tuple[int, str], str] = {}
    for warehouse_id, code in rows:
        key = _serial_key(code)
        if key:
            known.setdefault((warehouse_id, key), code)
    bins = sa.table(
        "bins",
        sa.column("warehouse_id", sa.Integer()),
        sa.column("code", sa.String()),
        sa.column("key", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    values = [
        {"warehouse_id": warehouse_id, "code": code, "key": key, "created_at": now}
        for (warehouse_id, key), code in known.items()
    ]
    for start in range(0, len(values), 5000):
        bind.execute(sa.insert(bins), values[start : start + 5000])


def downgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.drop_column("version")
    op.drop_index(op.f("ix_counts_warehouse_id"), table_name="counts")
    op.drop_table("counts")
    op.drop_index(op.f("ix_transfers_to_warehouse_id"), table_name="transfers")
    op.drop_index(op.f("ix_transfers_warehouse_id"), table_name="transfers")
    op.drop_table("transfers")
    op.drop_table("bins")
