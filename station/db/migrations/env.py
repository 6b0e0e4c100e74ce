"""Alembic environment: runs on the connection Station hands it (see station.db.engine)."""

from alembic import context

from station.db.models import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # `alembic` run by hand: use the URL from the ini file
    from sqlalchemy import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata)
        context.run_migrations()
else:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
