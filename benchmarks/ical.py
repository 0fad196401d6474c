"""How long rendering a 1 000-event calendar feed takes (target: well under 100 ms).

Run: .venv/bin/python benchmarks/ical.py [--events 1000] [--repeat 20]

The objects are built in memory (no database), so this measures webapp.ical alone: what a
feed request costs on top of its queries. Prints the median and the worst wall-clock time of
the runs, and the median CPU time (what the render costs when other processes share the
machine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from scheduling.models import (
    Activity,
    ActivitySession,
    Audience,
    Booking,
    BookingStatus,
    Centre,
    Commune,
    Field,
    Person,
    Role,
    SessionStatus,
    User,
    Venue,
)
from webapp.ical import agenda_feed, bookings_feed


def _world(count: int) -> tuple[Centre, list[ActivitySession], list[Booking]]:
    centre = Centre(id=1, name="CRT de Bergerac", slug="crt-bergerac", timezone="Europe/Paris")
    commune = Commune(
        id=1, centre=centre, name="Lalinde", postcode="24150", insee="24229", lat=44.8, lon=0.7
    )
    venue = Venue(
        id=1, centre=centre, name="Salle des fêtes", address="Place de la mairie",
        commune=commune, lat=44.8368, lon=0.7378, step_free=True,
    )  # fmt: skip
    animator = User(
        id=1, centre=centre, username="sophie", password_hash="!", role=Role.animator,
        display_name="Sophie Lacoste", phone="05 53 11 22 33",
    )  # fmt: skip
    activity = Activity(
        id=1, centre=centre, title="Gym douce", description="Équilibre et souplesse.",
        field=Field.care_prevention, audience=Audience.older_people,
    )  # fmt: skip
    person = Person(id=1, centre=centre, first_name="Jeanne", last_name="Delmas", commune=commune)
    start = dt.datetime(2027, 1, 4, 14)
    sessions, bookings = [], []
    for n in range(count):
        begins = start + dt.timedelta(days=n // 4, hours=n % 4)
        session = ActivitySession(
            id=n + 1, centre_id=1, activity=activity, venue=venue, animator=animator,
            starts_at=begins, ends_at=begins + dt.timedelta(hours=1), seats=12,
            status=SessionStatus.cancelled if n % 10 == 0 else SessionStatus.scheduled,
            cancel_reason="Salle indisponible" if n % 10 == 0 else None,
            sequence=n % 3, updated_at=dt.datetime(2026, 11, 20, 9),
        )  # fmt: skip
        sessions.append(session)
        booking = Booking(
            id=n + 1, centre_id=1, session=session, person=person,
            status=BookingStatus.confirmed, transport_out=n % 2 == 0,
            pickup_address="3 rue des Tilleuls, 24150 Lalinde", sequence=0,
            created_at=dt.datetime(2026, 11, 20, 9), updated_at=None,
        )  # fmt: skip
        bookings.append(booking)
    return centre, sessions, bookings


def _time(render: object, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each run (CPU time ignores other processes)."""
    wall, cpu = [], []
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        render()  # type: ignore[operator]
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    return wall, cpu


def _http(count: int, repeat: int) -> None:
    """The whole request on a migrated SQLite file: queries + render, then a 304 poll."""
    import tempfile
    from pathlib import Path

    from alembic import command
    from alembic.config import Config

    from scheduling.db import make_engine, make_session_factory
    from webapp import create_app

    folder = Path(tempfile.mkdtemp(prefix="navette-ical-"))
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    config = Config(str(Path(__file__).resolve().parents[1] / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")
    centre, sessions, _ = _world(count)
    start = dt.datetime.now().replace(microsecond=0) + dt.timedelta(days=1)
    for n, session in enumerate(sessions):  # from tomorrow on, so the feed keeps them all
        session.starts_at = start + dt.timedelta(days=n // 4, hours=n % 4)
        session.ends_at = session.starts_at + dt.timedelta(hours=1)
    db = make_session_factory(make_engine(url))()
    db.add(centre)
    db.add_all(sessions)
    db.commit()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "SERVER_NAME": "bench.test"})
    client = app.test_client()
    path = f"/centres/{centre.slug}/agenda.ics"
    first = client.get(path)
    assert first.status_code == 200, first.status_code
    etag = first.headers["ETag"]
    full = _time(lambda: client.get(path), repeat)
    polls = _time(lambda: client.get(path, headers={"If-None-Match": etag}), repeat)
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    for name, (wall, cpu) in (("GET 200", full), ("GET 304 (poll)", polls)):
        print(
            f"HTTP {name}, {count} sessions on SQLite: wall median "
            f"{statistics.median(wall):.1f} ms, CPU median {statistics.median(cpu):.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--http", action="store_true", help="also time whole requests")
    args = parser.parse_args()
    centre, sessions, bookings = _world(args.events)
    now = dt.datetime(2026, 12, 1, 9)

    cases = {
        "public agenda": lambda: agenda_feed(sessions, centre=centre, now=now, name="Agenda"),
        "carer's bookings": lambda: bookings_feed(
            bookings, centre=centre, now=now, name="Réservations", pickups={}
        ),
    }
    for name, render in cases.items():
        size = len(render().body)  # warm-up, and the size of what clients download
        wall, cpu = _time(render, args.repeat)
        print(
            f"{name}: {args.events} events, {size / 1024:.0f} KiB; "
            f"wall median {statistics.median(wall):.1f} ms, worst {max(wall):.1f} ms; "
            f"CPU median {statistics.median(cpu):.1f} ms ({args.repeat} runs)"
        )

    if args.http:
        _http(args.events, args.repeat)


if __name__ == "__main__":
    main()
