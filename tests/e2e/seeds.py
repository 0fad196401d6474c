"""Building blocks for the browser tests' data, written once.

The browser tests share one database per run; each flow seeds what it needs (often a centre of
its own) with these helpers rather than with its own copy of the same rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from scheduling.booking import default_pickup_address
from scheduling.db import make_engine, make_session_factory
from scheduling.models import (
    Activity,
    ActivitySession,
    Audience,
    Booking,
    BookingStatus,
    Centre,
    Commune,
    Driver,
    Field,
    Mobility,
    Person,
    Role,
    User,
    Vehicle,
    VehicleKind,
    Venue,
)
from scheduling.transport_models import DayStatus, Leg, Round, RoundStop, StopKind, TransportDay

PASSWORD = "mot-de-passe-demo"


@contextmanager
def database(url: str) -> Iterator[Any]:
    """A session on the browser tests' database, closed (and its engine disposed) after use."""
    engine = make_engine(url)
    db = make_session_factory(engine)()
    try:
        yield db
    finally:
        db.close()
        engine.dispose()


def add_user(db: Any, centre: Centre, username: str, role: Role, name: str, **extra: Any) -> User:
    """An account that signs in with PASSWORD."""
    user = User(
        centre_id=centre.id,
        username=username,
        password_hash=generate_password_hash(PASSWORD),
        role=role,
        display_name=name,
        **extra,
    )
    db.add(user)
    return user


def add_centre(db: Any, slug: str, name: str) -> Centre:
    """A centre of its own, at Bergerac: what a flow counts or publishes stays in it."""
    centre = Centre(name=name, slug=slug, lat=44.85, lon=0.48)
    db.add(centre)
    db.flush()
    return centre


def add_bergerac(db: Any, centre: Centre) -> Commune:
    town = Commune(
        centre_id=centre.id, insee="24037", name="Bergerac", postcode="24100", lat=44.85, lon=0.48
    )
    db.add(town)
    db.flush()
    return town


def add_lalinde_hall(db: Any, centre: Centre, lalinde: Commune, **extra: Any) -> Venue:
    """The village hall of Lalinde (where the activities of most flows take place)."""
    hall = Venue(
        centre_id=centre.id,
        name="Salle des fêtes de Lalinde",
        address="Place de la mairie",
        commune_id=lalinde.id,
        lat=44.837,
        lon=0.738,
        **extra,
    )
    db.add(hall)
    return hall


def add_lalinde_and_eymet(db: Any, centre: Centre) -> tuple[Commune, Commune]:
    """Two villages of the Bergeracois, with their real coordinates."""
    lalinde = Commune(
        centre_id=centre.id,
        insee="24229",
        name="Lalinde",
        postcode="24150",
        lat=44.8368,
        lon=0.7378,
    )
    eymet = Commune(
        centre_id=centre.id,
        insee="24167",
        name="Eymet",
        postcode="24500",
        lat=44.6686,
        lon=0.3989,
    )
    db.add_all([lalinde, eymet])
    db.flush()
    return lalinde, eymet


def add_van(db: Any, centre: Centre, name: str = "Minibus adapté") -> Vehicle:
    """An adapted van (8 seats, 2 wheelchairs) at the Bergerac depot, 8 h – 18 h."""
    van = Vehicle(
        centre_id=centre.id,
        name=name,
        kind=VehicleKind.adapted_van,
        seats=8,
        wheelchair_places=2,
        depot_address="EHPAD de Bergerac",
        depot_lat=44.8519,
        depot_lon=0.4834,
        available_from=dt.time(8),
        available_until=dt.time(18),
    )
    db.add(van)
    return van


def add_driver(db: Any, centre: Centre, username: str, name: str, phone: str) -> Driver:
    """A driver's account and their availability (weekdays, 8 h – 18 h)."""
    user = add_user(db, centre, username, Role.driver, name)
    db.flush()
    driver = Driver(
        centre_id=centre.id,
        user_id=user.id,
        phone=phone,
        available_from=dt.time(8),
        available_until=dt.time(18),
    )
    db.add(driver)
    return driver


def add_activity_session(
    db: Any,
    centre: Centre,
    title: str,
    *,
    venue_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    seats: int,
    wheelchair_places: int = 0,
    transport_offered: bool = False,
    field: Field = Field.care_prevention,
    audience: Audience = Audience.older_people,
    description: str = "",
) -> ActivitySession:
    """An activity of its own with one session, both flushed (their ids are known)."""
    activity = Activity(
        centre_id=centre.id,
        title=title,
        description=description,
        field=field,
        audience=audience,
    )
    db.add(activity)
    db.flush()
    session = ActivitySession(
        centre_id=centre.id,
        activity_id=activity.id,
        venue_id=venue_id,
        starts_at=starts_at,
        ends_at=ends_at,
        seats=seats,
        wheelchair_places=wheelchair_places,
        transport_offered=transport_offered,
    )
    db.add(session)
    db.flush()
    return session


def centre_today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Europe/Paris")).date()


def book_ride(
    db: Any, session: Any, person: Person, *, companions: int = 0, back: bool = False
) -> Booking:
    """A confirmed booking, made three days before, with a ride there (and back if asked)."""
    booking = Booking(
        centre_id=session.centre_id,
        session_id=session.id,
        person_id=person.id,
        status=BookingStatus.confirmed,
        companions=companions,
        transport_out=True,
        transport_back=back,
        pickup_address=default_pickup_address(person),
        mobility=person.mobility,
        created_at=session.starts_at - dt.timedelta(days=3),
    )
    db.add(booking)
    return booking


@dataclass(frozen=True)
class PlannedStop:
    booking: Booking
    kind: StopKind
    minutes: int  # after the round's first pickup
    address: str
    lat: float
    lon: float


def add_published_round(
    db: Any,
    *,
    vehicle: Vehicle,
    driver: Driver,
    first_pickup: dt.datetime,
    stops: Sequence[PlannedStop],
    distance_km: float,
    stay_minutes: int = 5,
) -> Round:
    """The day of `first_pickup`, published, with one outbound round along `stops`; pickups at
    home get a promised window of 15 minutes around their time."""
    day = TransportDay(
        centre_id=vehicle.centre_id,
        date=first_pickup.date(),
        status=DayStatus.published,
        summary={},
    )
    db.add(day)
    db.flush()
    last = first_pickup + dt.timedelta(minutes=max(s.minutes for s in stops))
    round_ = Round(
        centre_id=vehicle.centre_id,
        day_id=day.id,
        vehicle_id=vehicle.id,
        driver_id=driver.id,
        status=DayStatus.published,
        starts_at=first_pickup - dt.timedelta(minutes=25),
        ends_at=last + dt.timedelta(minutes=25),
        distance_km=distance_km,
    )
    db.add(round_)
    db.flush()
    for seq, stop in enumerate(stops):
        when = first_pickup + dt.timedelta(minutes=stop.minutes)
        home = stop.kind is StopKind.pickup
        db.add(
            RoundStop(
                round_id=round_.id,
                seq=seq,
                booking_id=stop.booking.id,
                leg=Leg.outbound,
                kind=stop.kind,
                address=stop.address,
                lat=stop.lat,
                lon=stop.lon,
                planned_arrival=when,
                planned_begin=when,
                planned_departure=when + dt.timedelta(minutes=stay_minutes),
                promised_from=when - dt.timedelta(minutes=7) if home else None,
                promised_to=when + dt.timedelta(minutes=8) if home else None,
            )
        )
    return round_


def seed_a_round_today(
    db: Any, slug: str = "e2e-accessibilite", driver: str = "a11y.chauffeur.tournee"
) -> None:
    """A driver with today's published round (one pickup, one drop-off), in a centre of its
    own: a published day in the shared centre would change what the other flows book."""
    if db.scalar(select(Centre).where(Centre.slug == slug)) is not None:
        return  # seeded already by the other module that needs it
    centre = add_centre(db, slug, f"CRT d'essai {slug}")
    town = add_bergerac(db, centre)
    hall = Venue(
        centre_id=centre.id,
        name="Salle Anatole France",
        address="Rue Anatole France",
        commune_id=town.id,
        lat=44.852,
        lon=0.483,
    )
    rose = Person(
        centre_id=centre.id,
        first_name="Rose",
        last_name="Peyrot",
        phone="05 53 57 11 22",
        address="4 impasse des Acacias",
        commune_id=town.id,
        lat=44.86,
        lon=0.49,
        mobility=Mobility.wheelchair,
        driver_notes="Sonner deux fois.",
    )
    vehicle = add_van(db, centre, "Minibus")
    driver_ = add_driver(db, centre, driver, "Jean Chauffeur", "06 00 00 00 01")
    db.add_all([hall, rose])
    db.flush()
    today = centre_today()
    at = dt.datetime.combine(today, dt.time(13, 30))
    session = add_activity_session(
        db,
        centre,
        "Atelier équilibre",
        venue_id=hall.id,
        starts_at=at + dt.timedelta(hours=1),
        ends_at=at + dt.timedelta(hours=2),
        seats=10,
        wheelchair_places=2,
        transport_offered=True,
    )
    booking = book_ride(db, session, rose)
    db.flush()
    add_published_round(
        db,
        vehicle=vehicle,
        driver=driver_,
        first_pickup=at,
        distance_km=12.0,
        stops=[
            PlannedStop(booking, StopKind.pickup, 0, rose.address, rose.lat, rose.lon),
            PlannedStop(booking, StopKind.dropoff, 20, hall.address, hall.lat, hall.lon),
        ],
    )
    db.commit()


def add_session_today_with_one_booking(
    db: Any, centre_slug: str, title: str, first_name: str, last_name: str
) -> int:
    """A session that started today (attendance is taken on the day), one person booked; its
    own activity and person, and a start in the past: the carers' flows never see them."""
    centre = db.scalars(select(Centre).where(Centre.slug == centre_slug)).one()
    venue = db.scalars(select(Venue).where(Venue.centre_id == centre.id)).first()
    person = Person(
        centre_id=centre.id,
        first_name=first_name,
        last_name=last_name,
        phone="05 53 24 00 03",
        commune_id=venue.commune_id,
    )
    db.add(person)
    today = centre_today()
    session = add_activity_session(
        db,
        centre,
        title,
        venue_id=venue.id,
        starts_at=dt.datetime.combine(today, dt.time(0, 1)),
        ends_at=dt.datetime.combine(today, dt.time(0, 2)),
        seats=6,
    )
    db.add(
        Booking(
            centre_id=centre.id,
            session_id=session.id,
            person_id=person.id,
            status=BookingStatus.confirmed,
            mobility=person.mobility,
            created_at=session.starts_at - dt.timedelta(days=2),
        )
    )
    db.commit()
    return int(session.id)
