"""Document numbers from PostgreSQL sequences: receipts (RCV-) and shipments (SHP-) take
their numbers with nextval, which never waits for another transaction, so postings of
different stations no longer queue on one counter row. Each sequence starts where the
counter row of serial_sequences ended, and the row goes (one source of truth). It is
OWNED BY the number column, so it goes with its table. SQLite keeps its counter rows
(one writer at a time anyway): nothing changes there.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09 10:00:00.000000
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: Counter name in serial_sequences -> (sequence, the table.column it numbers).
SEQUENCES = {
    "receipt": ("receipt_numbers", "receipts.number"),
    "shipment": ("shipment_numbers", "shipments.number"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (sequence, column) in SEQUENCES.items():
        op.execute(f"CREATE SEQUENCE {sequence} AS bigint START WITH 1 MINVALUE 1")
        op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {column}")
        op.execute(
            f"SELECT setval('{sequence}', last_value) FROM serial_sequences"
            f" WHERE name = '{name}' AND last_value > 0"
        )
        op.execute(f"DELETE FROM serial_sequences WHERE name = '{name}'")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (sequence, _column) in SEQUENCES.items():
        op.execute(
            "INSERT INTO serial_sequences (name, last_value)"
            f" SELECT '{name}', last_value FROM {sequence} WHERE is_called"
        )
        op.execute(f"DROP SEQUENCE {sequence}")
