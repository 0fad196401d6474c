"""Build a day's rounds straight from the models, as the planner would have saved them.

The drivers' tests must not depend on the solver: a round here is a plain list of stops, an
outbound pickup at each person's home then one drop-off per person at the venue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from scheduling.models import Booking, Driver, User, Vehicle, VehicleKind
from scheduling.transport_models import (
    DayStatus,
    Leg,
    Round,
    RoundStop,
    StopKind,
    TransportDay,
)


def make_driver(db: DbSession, user: User, phone: str = "06 12 34 56 78") -> Driver:
    driver = Driver(
        centre_id=user.centre_id,
        user_id=user.id,
        phone=phone,
        volunteer=False,
        available_from=dt.time(7),
        available_until=dt.time(19),
        weekdays=[0, 1, 2, 3, 4, 5, 6],
    )
    db.add(driver)
    db.commit()
    return driver


def make_vehicle(db: DbSession, centre_id: int, name: str = "Minibus 1") -> Vehicle:
    vehicle = Vehicle(
        centre_id=centre_id,
        name=name,
        kind=VehicleKind.minibus,
        seats=8,
        wheelchair_places=1,
        depot_address="1 rue de l'EHPAD, Bergerac",
        depot_lat=44.8519,
        depot_lon=0.4834,
        available_from=dt.time(7),
        available_until=dt.time(19),
    )
    db.add(vehicle)
    db.commit()
    return vehicle


def transport_day(
    db: DbSession, centre_id: int, date: dt.date, status: DayStatus = DayStatus.published
) -> TransportDay:
    day = db.scalar(
        select(TransportDay).where(TransportDay.centre_id == centre_id, TransportDay.date == date)
    )
    if day is None:
        day = TransportDay(centre_id=centre_id, date=date, status=status, summary={})
        db.add(day)
        db.flush()
    return day


def make_round(
    db: DbSession,
    *,
    bookings: Sequence[Booking],
    date: dt.date,
    driver: Driver | None,
    vehicle: Vehicle,
    status: DayStatus = DayStatus.published,
    first_pickup: dt.time = dt.time(13, 20),
    **_: Any,
) -> Round:
    """A round on ``date``: pickups in the order given, then every drop-off at the venue."""
    centre_id = vehicle.centre_id
    day = transport_day(db, centre_id, date, status)
    start = dt.datetime.combine(date, first_pickup)
    round_ = Round(
        centre_id=centre_id,
        day_id=day.id,
        vehicle_id=vehicle.id,
        driver_id=driver.id if driver is not None else None,
        status=status,
        starts_at=start - dt.timedelta(minutes=15),
        ends_at=start + dt.timedelta(minutes=15 * len(bookings) + 30),
        distance_km=23.4,
    )
    db.add(round_)
    db.flush()
    seq = 0
    for i, booking in enumerate(bookings):
        person = booking.person
        at = start + dt.timedelta(minutes=15 * i)
        db.add(
            RoundStop(
                round_id=round_.id,
                seq=seq,
                booking_id=booking.id,
                leg=Leg.outbound,
                kind=StopKind.pickup,
                address=f"{booking.pickup_address or person.address}, {person.commune.name}",
                lat=person.lat or person.commune.lat,
                lon=person.lon or person.commune.lon,
                planned_arrival=at,
                planned_begin=at,
                planned_departure=at + dt.timedelta(minutes=3),
                promised_from=at - dt.timedelta(minutes=7),
                promised_to=at + dt.timedelta(minutes=8),
            )
        )
        seq += 1
    arrival = start + dt.timedelta(minutes=15 * len(bookings))
    for booking in bookings:
        venue = booking.session.venue
        db.add(
            RoundStop(
                round_id=round_.id,
                seq=seq,
                booking_id=booking.id,
                leg=Leg.outbound,
                kind=StopKind.dropoff,
                address=f"{venue.address}, {venue.commune.name}",  # as the planner writes it
                lat=venue.lat,
                lon=venue.lon,
                planned_arrival=arrival,
                planned_begin=arrival,
                planned_departure=arrival + dt.timedelta(minutes=2),
            )
        )
        seq += 1
    db.commit()
    # Load what tests read, then end the transaction: on SQLite a transaction left open by a
    # lazy load would block the web app's next write.
    for stop in round_.stops:
        _ = (stop.booking.person.commune, stop.booking.session.activity, stop.round)
    _ = (round_.day, round_.vehicle, round_.driver)
    db.commit()
    return round_
