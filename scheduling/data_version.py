"""A counter of committed changes, for caches of what the pages show (webapp/page_cache.py).

One row, ``data_version.version``, is increased in the same transaction as any change made
through a SQLAlchemy session: a flush that writes a mapped object, or an ORM-enabled bulk
``insert``/``update``/``delete`` (``session.execute``). The listeners are on the `Session`
CLASS, so every session counts (the web's, the jobs', the commands', the tests' factories).

The increase is the transaction's last statement (``before_commit``, after a final flush): the
row lock it takes on PostgreSQL is held only while committing, and no writer waits for another
lock while holding it, so it adds no deadlock. A reader that sees version N sees every change
committed with N (the counter and the data commit together); a page rendered after reading N
shows data at least as new as N.

Not counted: SQL sent on a bare connection (``engine.begin()``, ``session.connection()``):
Navette writes its data through sessions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Engine, Integer, event, text
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from scheduling.db import Base

_WROTE = "navette_data_written"

# An upsert: works even when the row is missing (a truncated test database), on SQLite and
# PostgreSQL alike.
_BUMP = text(
    "INSERT INTO data_version (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = data_version.version + 1"
)
_READ = "SELECT version FROM data_version WHERE id = 1"


class DataVersion(Base):
    """The one row of the change counter."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


def read_version_raw(engine: Engine) -> int:
    """The counter as committed now (0 when the row is missing), read on a pooled DBAPI
    connection: SQLAlchemy's Connection cost a third of a cached page. On SQLite the connection
    is in autocommit mode (scheduling.db): the SELECT takes no lock and sees the last commit.
    On PostgreSQL the SELECT runs in autocommit too (psycopg switches it without a round trip),
    so no transaction is left for the pool to roll back: one round trip instead of two."""
    raw = engine.raw_connection()
    driver: Any = raw.driver_connection
    postgresql = engine.dialect.name == "postgresql"
    try:
        if postgresql:
            driver.autocommit = True
        cursor = raw.cursor()
        try:
            cursor.execute(_READ)
            row = cursor.fetchone()
        finally:
            cursor.close()
    finally:
        try:
            if postgresql:
                driver.autocommit = False
        finally:
            raw.close()
    return int(row[0] or 0) if row else 0


def _ours(obj: object) -> bool:
    return isinstance(obj, Base) and not isinstance(obj, DataVersion)


def _after_flush(db: Session, _context: Any) -> None:
    # `dirty` also holds objects whose attributes were set to the values they had: not a change.
    changed = [obj for obj in db.dirty if db.is_modified(obj)]
    if any(_ours(obj) for obj in (*db.new, *changed, *db.deleted)):
        db.info[_WROTE] = True


def _on_orm_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        mapper = state.bind_mapper
        if mapper is None or issubclass(mapper.class_, Base):
            state.session.info[_WROTE] = True


def _before_commit(db: Session) -> None:
    db.flush()  # what is still pending is written now, so it is counted
    if db.info.pop(_WROTE, False):
        db.connection().execute(_BUMP)


def _after_transaction_end(db: Session, transaction: Any) -> None:
    if transaction.parent is None and not db.in_transaction():
        db.info.pop(_WROTE, None)  # rolled back: nothing to count


def install() -> None:
    """Listen on every session (idempotent; done when this module is imported)."""
    for name, listener in (
        ("after_flush", _after_flush),
        ("do_orm_execute", _on_orm_execute),
        ("before_commit", _before_commit),
        ("after_transaction_end", _after_transaction_end),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


install()
