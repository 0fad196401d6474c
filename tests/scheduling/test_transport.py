"""Transport use-cases as plain rules: rides asked by bookings, promises, drivers, settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from scheduling.models import Driver, Mobility
from scheduling.transport import (
    PlannedRound,
    Point,
    assign_drivers,
    at_minutes,
    minutes_of,
    parse_request_id,
    promise_window,
    request_id,
    ride_requests,
    transport_settings,
)
from scheduling.transport_models import Leg

HOME = Point(44.86, 0.59, "1 route du Bourg, 24520 Mouleydier")


def test_settings_are_created_with_the_agreed_defaults_once(db: Any, centre: Any) -> None:
    settings = transport_settings(db, centre.id)
    assert (settings.outbound_earliest_min, settings.outbound_latest_min) == (30, 5)
    assert settings.return_latest_min == 20
    assert [settings.boarding_minutes(m) for m in Mobility] == [2, 4, 8]
    assert settings.promise_window_min == 15
    assert (settings.speed_kmh, settings.circuity, settings.osrm_url) == (45, 1.3, None)
    assert transport_settings(db, centre.id).id == settings.id


@pytest.mark.parametrize(("direct", "allowed"), [(5, 30), (20, 30), (30, 45), (60, 90), (80, 90)])
def test_max_ride_is_the_longer_of_the_floor_and_the_factor_capped(
    db: Any, centre: Any, direct: float, allowed: float
) -> None:
    assert transport_settings(db, centre.id).max_ride(direct) == allowed


def test_a_booking_asks_an_outbound_and_a_return_ride_with_their_windows(
    db: Any, centre: Any, make_session: Callable[..., Any], make_booking: Callable[..., Any]
) -> None:
    starts = dt.datetime(2026, 12, 8, 14, 30)
    session = make_session(starts_at=starts, ends_at=starts + dt.timedelta(hours=1, minutes=30))
    booking = make_booking(session, transport_out=True, transport_back=True, companions=2)
    out, back = ride_requests(booking, HOME, transport_settings(db, centre.id))
    assert (out.leg, back.leg) == (Leg.outbound, Leg.back)
    assert out.pickup == HOME and back.dropoff == HOME
    assert out.dropoff.lat == session.venue.lat
    assert out.dropoff_window == (14 * 60, 14 * 60 + 25)  # arrive 14:00-14:25 for 14:30
    assert back.pickup_window == (16 * 60, 16 * 60 + 20)  # picked up 16:00-16:20
    assert (out.seats, out.wheelchairs) == (3, 0)
    assert out.id == f"b{booking.id}-out" and back.id == f"b{booking.id}-back"


def test_only_the_legs_asked_for_are_requested(
    db: Any, centre: Any, make_session: Callable[..., Any], make_booking: Callable[..., Any]
) -> None:
    booking = make_booking(make_session(), transport_out=False, transport_back=True)
    rides = ride_requests(booking, HOME, transport_settings(db, centre.id))
    assert [r.leg for r in rides] == [Leg.back]


def test_a_wheelchair_user_takes_a_wheelchair_place_and_companions_seats(
    db: Any, centre: Any, make_session: Callable[..., Any], make_booking: Callable[..., Any]
) -> None:
    booking = make_booking(
        make_session(), transport_out=True, companions=1, mobility=Mobility.wheelchair
    )
    [ride] = ride_requests(booking, HOME, transport_settings(db, centre.id))
    assert (ride.seats, ride.wheelchairs) == (1, 1)
    assert ride.pickup_service == 8


def test_request_ids_round_trip() -> None:
    for leg in Leg:
        assert parse_request_id(request_id(42, leg)) == (42, leg)


def test_minutes_of_the_day_round_trip_to_the_second() -> None:
    moment = dt.datetime(2026, 12, 8, 13, 31, 30)
    assert minutes_of(moment) == 811.5
    assert at_minutes(moment.date(), 811.5) == moment


@pytest.mark.parametrize(
    ("planned", "expected"),
    [
        ("13:31", ("13:20", "13:35")),
        ("13:33", ("13:25", "13:40")),
        ("09:00", ("08:50", "09:05")),
    ],
)
def test_a_promise_is_a_round_window_around_the_planned_pickup(
    planned: str, expected: tuple[str, str]
) -> None:
    begin = dt.datetime.combine(dt.date(2026, 12, 8), dt.time.fromisoformat(planned))
    start, end = promise_window(begin, 15)
    assert (f"{start:%H:%M}", f"{end:%H:%M}") == expected
    assert start <= begin <= end


def _driver(driver_id: int, start: str, end: str, weekdays: list[int]) -> Driver:
    return Driver(
        id=driver_id,
        available_from=dt.time.fromisoformat(start),
        available_until=dt.time.fromisoformat(end),
        weekdays=weekdays,
    )


def _round(start: float, end: float) -> PlannedRound:
    return PlannedRound(vehicle_id=1, start=start, end=end, distance_km=1.0, stops=())


def test_drivers_are_given_rounds_within_their_days_and_hours_one_at_a_time() -> None:
    tuesday = dt.date(2026, 12, 8)
    morning_only = _driver(1, "08:00", "12:00", [1])
    all_day = _driver(2, "07:30", "18:30", [0, 1, 2, 3, 4])
    not_tuesday = _driver(3, "07:00", "20:00", [0])
    rounds = [_round(9 * 60, 11 * 60), _round(10 * 60, 17 * 60), _round(13 * 60, 16 * 60)]
    chosen = assign_drivers([not_tuesday, morning_only, all_day], tuesday, rounds)
    assert chosen == {0: 1, 1: 2, 2: None}  # the afternoon round overlaps all_day's


def test_a_days_summary_reads_as_french_words() -> None:
    from scheduling.transport import summary_words

    one = {"rounds": 1, "passengers": 1, "distance_km": 12.3, "unserved": []}
    assert summary_words(one) == "1 tournée, 1 passager, 12,3 km"
    many = {"rounds": 3, "passengers": 14, "distance_km": 150.9, "unserved": [{}, {}]}
    assert summary_words(many) == "3 tournées, 14 passagers, 150,9 km, 2 trajets non servis"
