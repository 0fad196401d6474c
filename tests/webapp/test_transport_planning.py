"""From bookings to a routing problem, and from its solution to saved rounds."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from routing.check import check
from routing.solver import solve
from scheduling.models import Mobility
from scheduling.transport import get_or_create_day, pin_request, publish_day
from scheduling.transport_models import (
    DayStatus,
    GeocodeEntry,
    GeocodeSource,
    Leg,
    Round,
    RoundStop,
    StopKind,
    TransportDay,
)
from tests.webapp import transport_fixtures
from tests.webapp.conftest import read
from tests.webapp.transport_fixtures import FakeGeocoder, TransportWorld
from webapp.db import session_scope
from webapp.jobs import run_build
from webapp.planning import build_problem, gather

TIME_LIMIT = 1

transport_world = transport_fixtures.transport_world
transport_app = transport_fixtures.transport_app
fake_geocoder = transport_fixtures.fake_geocoder


def _book(make_booking: Callable[..., Any], world: TransportWorld, person: Any, **kw: Any) -> Any:
    values = {"transport_out": True, "transport_back": True, "person": person}
    values.update(kw)
    return make_booking(world.session, **values)


def _build(app: Any, world: TransportWorld) -> dict[str, Any]:
    return run_build(app, world.centre.id, world.day, None, TIME_LIMIT)


def test_rides_carry_windows_loads_boarding_and_max_ride(
    transport_app: Any,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    fake_geocoder: FakeGeocoder,
    now: dt.datetime,
) -> None:
    world = transport_world
    walker = world.persons[3]  # Saint-Capraise, a short trip from Lalinde
    wheelchair = world.persons[0]  # Mouleydier, about 20 minutes away
    walker.mobility = Mobility.walker
    wheelchair.mobility = Mobility.wheelchair
    b_walker = _book(make_booking, world, walker, companions=1, mobility=Mobility.walker)
    b_chair = _book(
        make_booking,
        world,
        wheelchair,
        companions=1,
        mobility=Mobility.wheelchair,
        transport_back=False,
    )
    with transport_app.app_context(), session_scope(transport_app) as db:
        rides = gather(db, get_or_create_day(db, world.centre.id, world.day), fake_geocoder, now)
        built = build_problem(rides)
    requests = {r.id: r for r in built.problem.requests}
    assert set(requests) == {f"b{b_walker.id}-out", f"b{b_walker.id}-back", f"b{b_chair.id}-out"}

    out = requests[f"b{b_walker.id}-out"]
    # Arrive between 13:30 and 13:55 for a 14:00 start; no constraint on the pickup itself.
    assert out.dropoff_window == (13 * 60 + 30, 13 * 60 + 55)
    assert out.pickup_window is None
    assert out.load == {"seats": 2, "wheelchairs": 0}  # the person and a companion
    assert out.pickup_service == 4  # walker
    back = requests[f"b{b_walker.id}-back"]
    assert back.pickup_window == (16 * 60, 16 * 60 + 20)
    assert back.dropoff_window is None

    chair = requests[f"b{b_chair.id}-out"]
    assert chair.load == {"seats": 1, "wheelchairs": 1}  # companion seated, person in chair
    assert chair.pickup_service == 8
    # The rule is max(30, 1.5 × direct) capped at 90: short trips get the 30 min floor.
    assert out.max_ride == 30
    assert chair.max_ride is not None and 30 < chair.max_ride < 45
    # Homes with typed coordinates are not looked up.
    assert fake_geocoder.asked == []


def test_max_ride_grows_with_a_long_direct_trip_and_is_capped(
    transport_app: Any,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    make_person: Callable[..., Any],
    make_commune: Callable[..., Any],
    fake_geocoder: FakeGeocoder,
    now: dt.datetime,
) -> None:
    world = transport_world
    # Bergerac -> Lalinde is 20.2 km by the geodesic: 35 min at 45 km/h × 1.3, so 52.5 allowed.
    # Périgueux is about 38 km away: 1.5 × 66 min would exceed the 90 min cap.
    far = make_commune(name="Périgueux", insee="24322", postcode="24000", lat=45.184, lon=0.7218)
    bergerac = world.communes["Bergerac"]
    near = _book(make_booking, world, make_person(commune=bergerac), transport_back=False)
    very_far = _book(make_booking, world, make_person(commune=far), transport_back=False)
    with transport_app.app_context(), session_scope(transport_app) as db:
        rides = gather(db, get_or_create_day(db, world.centre.id, world.day), fake_geocoder, now)
        built = build_problem(rides)
    requests = {r.id: r for r in built.problem.requests}
    assert requests[f"b{near.id}-out"].max_ride == pytest.approx(52.5, abs=0.5)
    assert requests[f"b{very_far.id}-out"].max_ride == 90


def test_a_wheelchair_nobody_can_carry_is_unserved_with_its_reason_not_an_error(
    transport_app: Any,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    db: Any,
) -> None:
    world = transport_world
    world.minibus.wheelchair_places = 0
    db.commit()
    chair = _book(make_booking, world, world.persons[1], mobility=Mobility.wheelchair)
    _book(make_booking, world, world.persons[0])
    summary = _build(transport_app, world)
    reasons = {(u["booking_id"], u["leg"]): u["reason"] for u in summary["unserved"]}
    assert reasons[(chair.id, "outbound")] == "aucun véhicule n'a de place pour un fauteuil roulant"
    assert summary["passengers"] == 1


def test_a_build_saves_draft_rounds_whose_times_respect_the_windows(
    transport_app: Any, transport_world: TransportWorld, make_booking: Callable[..., Any], db: Any
) -> None:
    world = transport_world
    bookings = [_book(make_booking, world, person) for person in world.persons]
    summary = _build(transport_app, world)
    assert summary["unserved"] == []
    assert summary["passengers"] == 4
    assert summary["distance_km"] > 0
    driver_id, centre_id = world.driver.id, world.centre.id
    rounds = read(db, select(Round).where(Round.centre_id == centre_id))
    assert rounds and all(r.status is DayStatus.draft for r in rounds)
    assert {r.driver_id for r in rounds} <= {driver_id, None}
    stops = read(db, select(RoundStop).join(Round).where(Round.centre_id == centre_id))
    assert {s.booking_id for s in stops} == {b.id for b in bookings}
    for stop in stops:
        if stop.leg is Leg.outbound and stop.kind is StopKind.dropoff:
            assert dt.time(13, 30) <= stop.planned_begin.time() <= dt.time(13, 55)
        if stop.leg is Leg.back and stop.kind is StopKind.pickup:
            assert dt.time(16) <= stop.planned_begin.time() <= dt.time(16, 20)
        assert stop.promised_from is None  # nothing is promised before publication


def test_an_address_not_found_is_flagged_and_planned_at_the_commune(
    transport_app: Any,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    make_person: Callable[..., Any],
    fake_geocoder: FakeGeocoder,
    db: Any,
) -> None:
    world = transport_world
    creysse = world.communes["Creysse"]
    centre_id, commune_point = world.centre.id, (creysse.lat, creysse.lon)
    lost = make_person(commune=creysse, lat=None, lon=None, first_name="Rose")
    found = make_person(commune=creysse, lat=None, lon=None, first_name="Lucie")
    fake_geocoder.known[f"{found.address}, 24100 Creysse"] = (44.86, 0.57)
    b_lost = _book(make_booking, world, lost, pickup_address=f"{lost.address}, 24100 Creysse")
    _book(make_booking, world, found, pickup_address=f"{found.address}, 24100 Creysse")
    db.commit()  # reading the addresses began a transaction: end it before the app writes
    summary = _build(transport_app, world)
    assert [u["booking_id"] for u in summary["unlocated"]] == [b_lost.id]
    assert "adresse introuvable" in summary["unlocated"][0]["message"]
    stops = read(db, select(RoundStop).where(RoundStop.booking_id == b_lost.id))
    pickup = next(s for s in stops if s.kind is StopKind.pickup and s.leg is Leg.outbound)
    assert (pickup.lat, pickup.lon) == commune_point  # planned, not dropped
    # The found address is cached: a second build does not ask again.
    entries = read(db, select(GeocodeEntry).where(GeocodeEntry.centre_id == centre_id))
    assert {(e.source, e.lat) for e in entries} == {
        (GeocodeSource.ban, 44.86),
        (GeocodeSource.ban, None),
    }
    asked = len(fake_geocoder.asked)
    run_build(transport_app, centre_id, world.day, None, TIME_LIMIT)
    assert len(fake_geocoder.asked) == asked


def test_a_pinned_passenger_rides_in_the_pinned_vehicle(
    transport_app: Any, transport_world: TransportWorld, make_booking: Callable[..., Any], db: Any
) -> None:
    world = transport_world
    booking_ids = [_book(make_booking, world, person).id for person in world.persons[:2]]
    centre_id, car_id, minibus_id = world.centre.id, world.car.id, world.minibus.id
    db.commit()
    for vehicle_id in (car_id, minibus_id):
        with transport_app.app_context(), session_scope(transport_app) as session:
            day = get_or_create_day(session, centre_id, world.day)
            for booking_id in booking_ids:
                for leg in Leg:
                    pin_request(session, day, booking_id, leg, vehicle_id)
        run_build(transport_app, centre_id, world.day, None, TIME_LIMIT)
        rounds = read(db, select(Round).where(Round.centre_id == centre_id))
        assert {r.vehicle_id for r in rounds} == {vehicle_id}
        stops = read(db, select(RoundStop).join(Round).where(Round.centre_id == centre_id))
        assert len(stops) == 8 and all(s.pinned for s in stops)


def test_publishing_promises_a_window_around_each_pickup_and_tells_the_carer(
    transport_app: Any,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    db: Any,
    now: dt.datetime,
) -> None:
    world = transport_world
    booking = _book(make_booking, world, world.persons[0])
    _build(transport_app, world)
    with transport_app.app_context(), session_scope(transport_app) as session:
        day = get_or_create_day(session, world.centre.id, world.day)
        notes = publish_day(session, day, now)
        assert [n.recipient for n in notes] == ["marie@example.org", "marie@example.org"]
        assert "prise en charge entre" in notes[0].body
    stops = read(db, select(RoundStop).where(RoundStop.booking_id == booking.id))
    pickups = [s for s in stops if s.kind is StopKind.pickup]
    assert len(pickups) == 2
    for stop in pickups:
        assert stop.promised_from is not None and stop.promised_to is not None
        assert stop.promised_to - stop.promised_from == dt.timedelta(minutes=15)
        assert stop.promised_from <= stop.planned_begin <= stop.promised_to
        assert stop.promised_from.minute % 5 == 0
    day = read(db, select(TransportDay).where(TransportDay.centre_id == world.centre.id))[0]
    assert day.status is DayStatus.published


def test_the_solution_passes_the_independent_check(
    transport_app: Any,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    fake_geocoder: FakeGeocoder,
    now: dt.datetime,
) -> None:
    world = transport_world
    for person in world.persons:
        _book(make_booking, world, person)
    with transport_app.app_context(), session_scope(transport_app) as db:
        rides = gather(db, get_or_create_day(db, world.centre.id, world.day), fake_geocoder, now)
        built = build_problem(rides)
    solution = solve(built.problem, time_limit=TIME_LIMIT)
    assert check(built.problem, solution) == []
    assert solution.unserved == ()


class _OsrmStandIn(BaseHTTPRequestHandler):
    """Answers OSRM's table service with 1 km and 2 minutes between any two places."""

    def do_GET(self) -> None:
        places = self.path.split("/table/v1/driving/")[1].split("?")[0].split(";")
        size = len(places)
        table = {
            "code": "Ok",
            "distances": [[0 if i == j else 1000 for j in range(size)] for i in range(size)],
            "durations": [[0 if i == j else 120 for j in range(size)] for i in range(size)],
        }
        data = json.dumps(table).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def test_an_osrm_server_gives_the_travel_times_when_the_centre_has_one(
    transport_app: Any,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    fake_geocoder: FakeGeocoder,
    db: Any,
    now: dt.datetime,
) -> None:
    world = transport_world
    _book(make_booking, world, world.persons[0])
    server = HTTPServer(("127.0.0.1", 0), _OsrmStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        from scheduling.transport import transport_settings

        transport_settings(db, world.centre.id).osrm_url = f"http://127.0.0.1:{server.server_port}"
        db.commit()
        with transport_app.app_context(), session_scope(transport_app) as session:
            day = get_or_create_day(session, world.centre.id, world.day)
            built = build_problem(gather(session, day, fake_geocoder, now))
    finally:
        server.shutdown()
    assert built.problem.travel.kind == "matrix"
    assert built.problem.travel.durations is not None
    assert built.problem.travel.durations[0][1] == 2.0  # 120 s from the server, in minutes
    assert built.notes == ()


def test_an_unreachable_osrm_server_falls_back_to_estimates_and_says_so(
    transport_app: Any, transport_world: TransportWorld, make_booking: Callable[..., Any], db: Any
) -> None:
    world = transport_world
    _book(make_booking, world, world.persons[0])
    from scheduling.transport import transport_settings

    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    transport_settings(db, world.centre.id).osrm_url = f"http://127.0.0.1:{port}"
    centre_id = world.centre.id
    db.commit()
    summary = run_build(transport_app, centre_id, world.day, None, TIME_LIMIT)
    assert summary["passengers"] == 1
    assert len(summary["notes"]) == 1
    assert "OSRM injoignable" in summary["notes"][0]
    assert "estimés à vol d'oiseau" in summary["notes"][0]
