"""Transport figures of a period, from rounds with known kilometres, times and marks.

March 2026, seen on 20 March at noon.

    5 Mar  published, 42.5 km, 12:30–17:30   Alice out (25 min, picked up, dropped off)
                                             Gaston out (20 min, no-show)
                                             Alice back (40 min, picked up)
                                             3 requests unserved (2 for one reason, 1 another)
    10 Mar published, 10 km, 13:00–14:30     Bruno out (30 min, picked up, dropped off)
                                             Chloé out (50 min, nobody answered: an alert)
    12 Mar draft (never published)           not counted
    25 Mar published, after "now"            not counted
    another centre's published day          not counted
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from scheduling.models import BookingStatus, Vehicle, VehicleKind
from scheduling.reports import Period, ReasonLine, TransportMonth, transport_report
from scheduling.transport_models import (
    DayStatus,
    Leg,
    Round,
    RoundStop,
    StopKind,
    StopStatus,
    TransportDay,
    WelfareAlert,
)

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
NOW = dt.datetime(2026, 3, 20, 12, 0)
NO_WHEELCHAIR = "Aucun véhicule libre n'a de place pour un fauteuil"
TOO_LONG = "Le trajet dépasserait la durée maximale"


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute)


def add_vehicle(db: Any, centre: Any) -> Vehicle:
    vehicle = Vehicle(
        centre_id=centre.id,
        name="Minibus",
        kind=VehicleKind.minibus,
        seats=8,
        wheelchair_places=1,
        depot_lat=44.85,
        depot_lon=0.48,
        available_from=dt.time(8),
        available_until=dt.time(19),
    )
    db.add(vehicle)
    db.flush()
    return vehicle


def add_day(
    db: Any,
    centre: Any,
    vehicle: Vehicle,
    day: int,
    *,
    km: float,
    hours: tuple[dt.datetime, dt.datetime],
    status: DayStatus = DayStatus.published,
    unserved: tuple[str, ...] = (),
) -> Round:
    transport_day = TransportDay(
        centre_id=centre.id,
        date=dt.date(2026, 3, day),
        status=status,
        summary={"unserved": [{"booking_id": 0, "leg": "outbound", "reason": r} for r in unserved]},
    )
    round_ = Round(
        centre_id=centre.id,
        vehicle_id=vehicle.id,
        status=status,
        starts_at=hours[0],
        ends_at=hours[1],
        distance_km=km,
    )
    transport_day.rounds.append(round_)
    db.add(transport_day)
    db.flush()
    return round_


def add_leg(
    db: Any,
    round_: Round,
    booking: Any,
    leg: Leg,
    *,
    leaves: dt.datetime,
    ride_min: int,
    pickup: StopStatus = StopStatus.planned,
    dropoff: StopStatus = StopStatus.planned,
) -> RoundStop:
    arrives = leaves + dt.timedelta(minutes=ride_min)
    stops = [
        RoundStop(
            seq=len(round_.stops) + 1,
            booking_id=booking.id,
            leg=leg,
            kind=StopKind.pickup,
            lat=44.8,
            lon=0.5,
            planned_arrival=leaves - dt.timedelta(minutes=3),
            planned_begin=leaves - dt.timedelta(minutes=3),
            planned_departure=leaves,
            status=pickup,
        ),
        RoundStop(
            seq=len(round_.stops) + 2,
            booking_id=booking.id,
            leg=leg,
            kind=StopKind.dropoff,
            lat=44.9,
            lon=0.6,
            planned_arrival=arrives,
            planned_begin=arrives,
            planned_departure=arrives + dt.timedelta(minutes=2),
            status=dropoff,
        ),
    ]
    round_.stops.extend(stops)
    db.flush()
    return stops[0]


@pytest.fixture
def rounds(
    db: Any,
    centre: Any,
    make_centre: Callable[..., Any],
    make_session: Callable[..., Any],
    make_booking: Callable[..., Any],
) -> Any:
    workshop = make_session(starts_at=at(5, 14))
    alice = make_booking(workshop, status=BookingStatus.attended, transport_out=True)
    gaston = make_booking(workshop, status=BookingStatus.no_show, transport_out=True)
    talk = make_session(starts_at=at(10, 14))
    bruno = make_booking(talk, status=BookingStatus.attended, transport_out=True)
    chloe = make_booking(talk, status=BookingStatus.excused, transport_out=True)
    vehicle = add_vehicle(db, centre)

    first = add_day(
        db,
        centre,
        vehicle,
        5,
        km=42.5,
        hours=(at(5, 12, 30), at(5, 17, 30)),
        unserved=(NO_WHEELCHAIR, TOO_LONG, NO_WHEELCHAIR),
    )
    add_leg(
        db,
        first,
        alice,
        Leg.outbound,
        leaves=at(5, 13),
        ride_min=25,
        pickup=StopStatus.picked_up,
        dropoff=StopStatus.dropped_off,
    )
    add_leg(
        db,
        first,
        gaston,
        Leg.outbound,
        leaves=at(5, 13, 10),
        ride_min=20,
        pickup=StopStatus.no_show,
    )
    add_leg(
        db, first, alice, Leg.back, leaves=at(5, 16, 10), ride_min=40, pickup=StopStatus.picked_up
    )
    second = add_day(db, centre, vehicle, 10, km=10.0, hours=(at(10, 13), at(10, 14, 30)))
    add_leg(
        db,
        second,
        bruno,
        Leg.outbound,
        leaves=at(10, 13, 20),
        ride_min=30,
        pickup=StopStatus.picked_up,
        dropoff=StopStatus.dropped_off,
    )
    door = add_leg(
        db,
        second,
        chloe,
        Leg.outbound,
        leaves=at(10, 13, 5),
        ride_min=50,
        pickup=StopStatus.nobody_answered,
    )
    db.add(WelfareAlert(centre_id=centre.id, stop_id=door.id, raised_at=at(10, 13, 6)))

    draft = add_day(
        db,
        centre,
        vehicle,
        12,
        km=99.0,
        hours=(at(12, 9), at(12, 17)),
        status=DayStatus.draft,
        unserved=(TOO_LONG,),
    )
    add_leg(db, draft, bruno, Leg.back, leaves=at(12, 16), ride_min=60)
    later = add_day(db, centre, vehicle, 25, km=7.0, hours=(at(25, 9), at(25, 10)))
    add_leg(db, later, bruno, Leg.back, leaves=at(25, 9, 30), ride_min=10)

    elsewhere = make_centre()
    foreign = add_day(
        db, elsewhere, add_vehicle(db, elsewhere), 5, km=1000.0, hours=(at(5, 8), at(5, 18))
    )
    foreign_session = make_session(centre=elsewhere, starts_at=at(5, 14))
    stranger = make_booking(foreign_session, status=BookingStatus.attended, transport_out=True)
    stop = add_leg(
        db,
        foreign,
        stranger,
        Leg.outbound,
        leaves=at(5, 9),
        ride_min=80,
        pickup=StopStatus.nobody_answered,
    )
    db.add(WelfareAlert(centre_id=elsewhere.id, stop_id=stop.id, raised_at=at(5, 9)))
    db.commit()
    return centre


def test_transport_figures_of_the_period(db: Any, rounds: Any) -> None:
    report = transport_report(db, centre_id=rounds.id, period=MARCH, now=NOW)

    assert report is not None
    assert report.days == 2
    assert report.rounds == 2
    assert report.requests_served == 5
    assert report.requests_unserved == 3
    assert report.unserved_reasons == (ReasonLine(NO_WHEELCHAIR, 2), ReasonLine(TOO_LONG, 1))
    assert report.passengers_carried == 3  # Alice twice, Bruno once
    assert report.distance_km == 52.5
    assert report.vehicle_hours == 6.5
    assert report.average_ride_min == 33.0  # (25 + 20 + 40 + 30 + 50) / 5
    assert report.longest_ride_min == 50.0
    assert report.no_shows == 1  # Gaston
    assert report.nobody_answered == 1  # Chloé
    assert report.welfare_alerts == 1
    assert report.persons_thanks_to_transport == 2  # Alice and Bruno came; Chloé and Gaston not


def test_transport_month_by_month(db: Any, rounds: Any) -> None:
    winter = Period(dt.date(2026, 2, 1), dt.date(2026, 3, 31))
    report = transport_report(db, centre_id=rounds.id, period=winter, now=NOW)

    assert report is not None
    assert report.by_month == (
        TransportMonth(2026, 2, rounds=0, requests_served=0, passengers_carried=0, distance_km=0),
        TransportMonth(
            2026, 3, rounds=2, requests_served=5, passengers_carried=3, distance_km=52.5
        ),
    )
    assert [m.label for m in report.by_month] == ["février 2026", "mars 2026"]


def test_later_in_the_year_the_days_after_now_count_too(db: Any, rounds: Any) -> None:
    report = transport_report(db, centre_id=rounds.id, period=MARCH, now=at(31, 18))

    assert report is not None
    assert report.days == 3
    assert report.distance_km == 59.5
    assert report.requests_served == 6


def test_no_published_round_in_the_period_gives_no_transport_section(db: Any, rounds: Any) -> None:
    february = Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert transport_report(db, centre_id=rounds.id, period=february, now=NOW) is None
    only_the_draft = Period(dt.date(2026, 3, 12), dt.date(2026, 3, 12))
    assert transport_report(db, centre_id=rounds.id, period=only_the_draft, now=NOW) is None
