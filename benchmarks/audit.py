"""What the audit log costs a booking: book + cancel through the use-cases, with and without it.

Run: .venv/bin/python benchmarks/audit.py [--bookings 300] [--rounds 2]
     .venv/bin/python benchmarks/audit.py --database-url postgresql://postgres@127.0.0.1/bench

Each round migrates a fresh SQLite file (or empties the scratch PostgreSQL database's tables
first), seeds one centre with a 1 000-seat session and `--bookings` persons, then books each
person and cancels the booking at once, one transaction each, as the web shell does: once with
plain sessions, once with the audit listener installed (two entries per pair). It prints the
wall time and this process's CPU time per book + cancel pair. On a shared machine compare the
two lines of the same round; CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy import Engine, func, select, text  # noqa: E402

from scheduling import audit  # noqa: E402
from scheduling.booking import book, cancel_booking  # noqa: E402
from scheduling.db import Base, make_engine, make_session_factory  # noqa: E402
from scheduling.models import (  # noqa: E402
    Activity,
    ActivitySession,
    Audience,
    Centre,
    Commune,
    Field,
    Person,
    Role,
    User,
    Venue,
)


def prepare(url: str, persons: int) -> tuple[Engine, int, int, list[int]]:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db = make_session_factory(engine)()
    centre = Centre(name="CRT de mesure", slug="mesure")
    db.add(centre)
    db.flush()
    town = Commune(
        centre_id=centre.id, insee="24037", name="Bergerac", postcode="24100", lat=44.85, lon=0.48
    )
    db.add(town)
    db.flush()
    venue = Venue(
        centre_id=centre.id, name="Salle", address="Place", commune_id=town.id, lat=44.85, lon=0.48
    )
    activity = Activity(
        centre_id=centre.id, title="Gym", field=Field.isolation, audience=Audience.older_people
    )
    db.add_all([venue, activity])
    db.flush()
    start = dt.datetime.now().replace(second=0, microsecond=0) + dt.timedelta(days=3)
    session = ActivitySession(
        centre_id=centre.id,
        activity_id=activity.id,
        venue_id=venue.id,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        seats=1000,
    )
    staff = User(
        centre_id=centre.id,
        username="mesure",
        password_hash="!",
        role=Role.coordinator,
        display_name="Paul Mesure",
    )
    people = [
        Person(centre_id=centre.id, first_name="P", last_name=str(n), commune_id=town.id)
        for n in range(persons)
    ]
    db.add_all([session, staff, *people])
    db.commit()
    ids = (session.id, staff.id, [p.id for p in people])
    db.close()
    return engine, *ids


def measure(url: str, persons: int, audited: bool) -> tuple[float, float, int]:
    engine, session_id, staff_id, person_ids = prepare(url, persons)
    factory = make_session_factory(engine)
    if audited:
        audit.install(factory)
    wall, cpu = time.perf_counter(), time.process_time()
    for person_id in person_ids:
        db = factory()
        staff = db.get(User, staff_id)
        assert staff is not None
        if audited:
            audit.set_actor(db, audit.Actor.of(staff))
        now = dt.datetime.now()
        outcome = book(db, session_id=session_id, person_id=person_id, actor=staff, now=now)
        db.commit()
        assert outcome.booking is not None
        cancel_booking(db, booking_id=outcome.booking.id, actor=staff, now=now)
        db.commit()
        db.close()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    with engine.connect() as conn:
        entries = int(conn.scalar(select(func.count(audit.AuditEntry.id))) or 0)
    engine.dispose()
    return wall / persons * 1000, cpu / persons * 1000, entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (emptied)")
    args = parser.parse_args()
    for round_ in range(1, args.rounds + 1):
        for audited in (False, True):
            with tempfile.TemporaryDirectory() as folder:
                url = args.database_url or f"sqlite:///{folder}/mesure.sqlite3"
                wall, cpu, entries = measure(url, args.bookings, audited)
            label = "with the audit log   " if audited else "without the audit log"
            print(
                f"round {round_}, {label}: {wall:.1f} ms wall, {cpu:.1f} ms CPU "
                f"per book + cancel ({entries} entries)",
                flush=True,
            )


if __name__ == "__main__":
    main()
