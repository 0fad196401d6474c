"""Shared database fixtures for every test folder.

- ``db_url``: a migrated, empty database, once on SQLite (a temp file) and once on PostgreSQL
  (a database ``navette_<hex>`` of its own per test session, next to the server database of
  ``DATABASE_URL_TEST``, default ``postgresql://postgres@127.0.0.1:5432/test``; emptied after
  each test, dropped at the end). To run a test on SQLite only:
  ``@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)``.
- ``engine`` / ``db``: an engine and an ORM session on that database.
- ``make_*``: factories returning callables with overrides (``make_person(last_name="Roux")``).
  They COMMIT, so other connections (the web app, threads) see the rows, and no write
  transaction is left open to block them on SQLite.

The schema always comes from the real Alembic migrations, never from ``create_all``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session as DbSession

from scheduling.db import Base, make_engine, make_session_factory, normalize_url
from scheduling.models import (
    Activity,
    ActivitySession,
    Audience,
    Booking,
    BookingStatus,
    Centre,
    Commune,
    Field,
    Mobility,
    Person,
    Role,
    SessionStatus,
    User,
    Venue,
    VenueKind,
)

ROOT = Path(__file__).resolve().parent.parent
# The server's maintenance database; each test session creates (and drops) its own beside it.
PG_ADMIN_URL = make_url(
    normalize_url(
        os.environ.get("DATABASE_URL_TEST", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
)


def alembic_config(url: str) -> Config:
    """An Alembic config for the repository's migrations, pointed at ``url``."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade_to_head(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: database tests must run)")
    pytest.skip(reason)


# --- databases ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per test session; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    url = f"sqlite:///{path}"
    upgrade_to_head(url)
    # Fold the WAL back into the main file so a plain file copy carries the whole schema.
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def _postgresql_database() -> Iterator[str]:
    """A database of this test session's own on the shared server, migrated once, dropped after."""
    admin_url = _libpq_url(PG_ADMIN_URL.render_as_string(hide_password=False))
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        _unavailable(f"PostgreSQL injoignable sur {admin_url} : {error}".strip())
    name = f"navette_{secrets.token_hex(6)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _empty_postgresql(url: str) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with psycopg.connect(_libpq_url(url), autocommit=True) as conn:
        conn.execute("SET lock_timeout = '20s'")
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a migrated, empty database (SQLite file or PostgreSQL)."""
    if request.param == "sqlite":
        path = tmp_path / "navette.sqlite3"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("_postgresql_database")
    yield url
    _empty_postgresql(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> Callable[[], DbSession]:
    return make_session_factory(engine)


@pytest.fixture
def db(session_factory: Callable[[], DbSession]) -> Iterator[DbSession]:
    session = session_factory()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def now() -> dt.datetime:
    """The clock handed to use-cases: the current local wall time, to the minute."""
    return dt.datetime.now().replace(second=0, microsecond=0)


# --- factories -----------------------------------------------------------------------------

_serial = itertools.count(1)


def _save(db: DbSession, obj: Any) -> Any:
    db.add(obj)
    db.commit()
    return obj


@pytest.fixture
def make_centre(db: DbSession) -> Callable[..., Centre]:
    def factory(**overrides: Any) -> Centre:
        n = next(_serial)
        values: dict[str, Any] = {
            "name": f"CRT de test {n}",
            "slug": f"crt-{n}",
            "address": "1 rue de l'EHPAD, 24100 Bergerac",
            "lat": 44.8519,
            "lon": 0.4834,
        }
        values.update(overrides)
        return _save(db, Centre(**values))

    return factory


@pytest.fixture
def centre(make_centre: Callable[..., Centre]) -> Centre:
    return make_centre()


@pytest.fixture
def make_commune(db: DbSession, centre: Centre) -> Callable[..., Commune]:
    def factory(**overrides: Any) -> Commune:
        centre_id = _centre_id(overrides, centre)
        n = next(_serial)
        values: dict[str, Any] = {
            "centre_id": centre_id,
            # 99xxx is never a Dordogne code, so generated communes cannot clash with the real
            # ones (24xxx) that some fixtures create by name.
            "insee": f"99{n % 1000:03d}",
            "name": f"Commune {n}",
            "postcode": "24100",
            "lat": 44.85,
            "lon": 0.48,
        }
        values.update(overrides)
        return _save(db, Commune(**values))

    return factory


def _centre_id(overrides: dict[str, Any], default: Centre) -> int:
    centre = overrides.pop("centre", None) or default
    return int(centre.id)


@pytest.fixture
def make_venue(
    db: DbSession, centre: Centre, make_commune: Callable[..., Commune]
) -> Callable[..., Venue]:
    def factory(**overrides: Any) -> Venue:
        centre_id = _centre_id(overrides, centre)
        commune = overrides.pop("commune", None) or make_commune(centre_id=centre_id)
        values: dict[str, Any] = {
            "centre_id": centre_id,
            "name": f"Salle {next(_serial)}",
            "address": "Place de la mairie",
            "commune_id": commune.id,
            "lat": commune.lat,
            "lon": commune.lon,
            "step_free": True,
            "kind": VenueKind.hall,
        }
        values.update(overrides)
        return _save(db, Venue(**values))

    return factory


@pytest.fixture
def make_person(
    db: DbSession, centre: Centre, make_commune: Callable[..., Commune]
) -> Callable[..., Person]:
    def factory(**overrides: Any) -> Person:
        centre_id = _centre_id(overrides, centre)
        commune = overrides.pop("commune", None) or make_commune(centre_id=centre_id)
        n = next(_serial)
        values: dict[str, Any] = {
            "centre_id": centre_id,
            "first_name": "Jeanne",
            "last_name": f"Martin{n}",
            "phone": f"05 53 00 {n // 100 % 100:02d} {n % 100:02d}",
            "email": None,
            "address": f"{n} route du Bourg",
            "commune_id": commune.id,
            "lat": commune.lat,
            "lon": commune.lon,
            "mobility": Mobility.walks,
            "companion_needed": False,
            "driver_notes": "",
        }
        values.update(overrides)
        return _save(db, Person(**values))

    return factory


@pytest.fixture
def make_user(db: DbSession, centre: Centre) -> Callable[..., User]:
    def factory(**overrides: Any) -> User:
        centre_id = _centre_id(overrides, centre)
        helped = overrides.pop("helped_persons", [])
        password = overrides.pop("password", None)
        n = next(_serial)
        values: dict[str, Any] = {
            "centre_id": centre_id,
            "username": f"user{n}",
            # "!" matches no password; pass password="..." to get a real (werkzeug) hash.
            "password_hash": "!",
            "role": Role.carer,
            "display_name": f"Utilisateur {n}",
            "email": f"user{n}@example.org",
            "active": True,
        }
        if password is not None:
            from werkzeug.security import generate_password_hash

            values["password_hash"] = generate_password_hash(password)
        values.update(overrides)
        user = User(**values)
        user.helped_persons = list(helped)
        return _save(db, user)

    return factory


@pytest.fixture
def make_activity(db: DbSession, centre: Centre) -> Callable[..., Activity]:
    def factory(**overrides: Any) -> Activity:
        centre_id = _centre_id(overrides, centre)
        values: dict[str, Any] = {
            "centre_id": centre_id,
            "title": f"Atelier équilibre {next(_serial)}",
            "description": "Prévenir les chutes en douceur.",
            "field": Field.care_prevention,
            "audience": Audience.older_people,
            "active": True,
        }
        values.update(overrides)
        return _save(db, Activity(**values))

    return factory


@pytest.fixture
def make_session(
    db: DbSession,
    centre: Centre,
    now: dt.datetime,
    make_activity: Callable[..., Activity],
    make_venue: Callable[..., Venue],
) -> Callable[..., ActivitySession]:
    def factory(**overrides: Any) -> ActivitySession:
        centre_id = _centre_id(overrides, centre)
        activity = overrides.pop("activity", None) or make_activity(centre_id=centre_id)
        venue = overrides.pop("venue", None) or make_venue(centre_id=centre_id)
        starts_at = overrides.pop(
            "starts_at", dt.datetime.combine(now.date() + dt.timedelta(days=7), dt.time(14))
        )
        values: dict[str, Any] = {
            "centre_id": centre_id,
            "activity_id": activity.id,
            "venue_id": venue.id,
            "starts_at": starts_at,
            "ends_at": starts_at + dt.timedelta(hours=2),
            "seats": 10,
            "wheelchair_places": 1,
            "booking_deadline": None,
            "transport_offered": True,
            "status": SessionStatus.scheduled,
        }
        values.update(overrides)
        return _save(db, ActivitySession(**values))

    return factory


@pytest.fixture
def make_booking(
    db: DbSession, now: dt.datetime, make_person: Callable[..., Person]
) -> Callable[..., Booking]:
    """Insert a booking row directly (no rules applied): for setting up a situation."""

    def factory(session: ActivitySession, **overrides: Any) -> Booking:
        person = overrides.pop("person", None) or make_person(centre_id=session.centre_id)
        values: dict[str, Any] = {
            "centre_id": session.centre_id,
            "session_id": session.id,
            "person_id": person.id,
            "status": BookingStatus.confirmed,
            "companions": 0,
            "transport_out": False,
            "transport_back": False,
            "pickup_address": person.address,
            "mobility": person.mobility,
            "created_at": now,
        }
        values.update(overrides)
        return _save(db, Booking(**values))

    return factory
