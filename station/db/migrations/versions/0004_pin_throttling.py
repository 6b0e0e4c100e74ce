"""PIN throttling and the first supervisor: users count their wrong PINs and locks, every
refused PIN is audited in pin_failures (append-only), and a ledger that has users holds
the settings row `first_supervisor` (claimed with the first user, so two first runs at
once cannot both create one).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("failed_pins", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("lockouts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "pin_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("station", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "reason IN ('wrong_pin', 'unknown_user', 'locked')",
            name=op.f("ck_pin_failures_reason"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pin_failures")),
    )
    op.create_index(op.f("ix_pin_failures_user_name"), "pin_failures", ["user_name"], unique=False)
    _append_only("pin_failures")
    op.execute(
        "INSERT INTO settings (key, value)"
        " SELECT 'first_supervisor', name FROM users WHERE id = (SELECT min(id) FROM users)"
    )


def _append_only(table: str) -> None:
    """Refuse UPDATE and DELETE on an audit table, in the database itself (as 0001)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION station_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION station_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def downgrade() -> None:
    op.execute("DELETE FROM settings WHERE key = 'first_supervisor'")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS pin_failures_append_only ON pin_failures")
    else:
        op.execute("DROP TRIGGER IF EXISTS pin_failures_no_update")
        op.execute("DROP TRIGGER IF EXISTS pin_failures_no_delete")
    op.drop_index(op.f("ix_pin_failures_user_name"), table_name="pin_failures")
    op.drop_table("pin_failures")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("lockouts")
        batch.drop_column("failed_pins")
