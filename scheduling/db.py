"""Database plumbing: the declarative base, engines and session factories.

The URL is always a parameter: only the web shell and Alembic's env read ``DATABASE_URL``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.orm import Session as DbSession

# Stable constraint names, so Alembic migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_SECONDS = 30

# Execution option (and `Session.info` key) of a transaction that only reads: see `begin_reading`.
READ_ONLY = "navette_read_only"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def normalize_url(url: str) -> str:
    """Route plain ``postgresql://`` (and Heroku-style ``postgres://``) URLs to psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``: SQLite file (default deployment) or PostgreSQL."""
    url = normalize_url(url)
    # Errors (and so the logs) never carry the query's values: names, addresses, password hashes.
    kwargs.setdefault("hide_parameters", True)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_SECONDS)
        connect_args.setdefault("check_same_thread", False)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    # SQLAlchemy's pysqlite recipe: take transaction control away from the sqlite3 module
    # (which would BEGIN lazily, in DEFERRED mode) and begin every transaction ourselves with
    # BEGIN IMMEDIATE. Two writers then queue on the write lock (busy_timeout) instead of
    # failing with "database is locked" when a read transaction tries to upgrade to a write.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN DEFERRED")  # a WAL reader: no lock to wait for
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[DbSession]:
    """Return a session factory; objects stay usable after commit (the shell renders them)."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    event.listen(factory, "before_flush", _refuse_writes_when_reading)
    event.listen(factory, "after_transaction_end", _end_reading)
    return factory


def begin_reading(db: DbSession) -> None:
    """Begin `db`'s transaction as one that only reads (a public page, a feed).

    On SQLite the transaction then begins DEFERRED instead of IMMEDIATE: in WAL mode readers
    never wait for the write lock, so two web workers showing pages no longer queue behind each
    other (nor behind a booking) for the whole request. A deferred transaction must not write: it
    could fail with "database is locked" when another writer got in first, so any flush in it
    raises at once. Nothing changes on PostgreSQL. Does nothing when `db` is already in a
    transaction (it keeps the kind it began with).
    """
    if db.in_transaction():
        return
    db.info[READ_ONLY] = True
    db.connection(execution_options={READ_ONLY: True})


def _end_reading(db: DbSession, transaction: Any) -> None:
    if transaction.parent is None:  # the next transaction begins as usual
        db.info.pop(READ_ONLY, None)


def _refuse_writes_when_reading(db: DbSession, _context: Any, _instances: Any) -> None:
    if db.info.get(READ_ONLY) and (db.new or db.dirty or db.deleted):
        raise RuntimeError("This transaction was begun to read only (begin_reading): no writes.")


def is_postgresql(db: DbSession) -> bool:
    """Tell whether ``db`` talks to PostgreSQL (row locks) rather than SQLite."""
    return db.get_bind().dialect.name == "postgresql"
