"""Alembic environment: migrates the database of DATABASE_URL (SQLite file by default)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.engine import make_url

import scheduling.audit  # the audit log
import scheduling.models  # registers every table on the metadata
import scheduling.transport_models  # noqa: F401  (the transport tables too)
from scheduling.db import Base, make_engine, normalize_url

DEFAULT_DATABASE_URL = "sqlite:///instance/navette.sqlite3"

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    """An explicit sqlalchemy.url (tests) wins, then DATABASE_URL, then the SQLite default."""
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(
        "DATABASE_URL", DEFAULT_DATABASE_URL
    )
    return normalize_url(url)


def configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: rebuild tables in batches instead.
        render_as_batch=True,
        compare_type=True,
        literal_binds=connection is None,
    )


def run_migrations_offline() -> None:
    configure(url=database_url())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # A caller (test, CLI command) may hand us an open connection to migrate.
    connection = config.attributes.get("connection")
    if connection is not None:
        configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return

    url = database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
