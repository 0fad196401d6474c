"""The only bridge between bookings and `routing`: a day's rides -> Problem -> Solution -> rounds.

Rules that are not the solver's business are expressed in its contract's own terms:
- a pin ("this passenger rides in that vehicle") is a capacity dimension only that vehicle has;
- a promised pickup window is the request's pickup window, so the solver must keep it;
- a ride no vehicle could ever carry (e.g. a wheelchair and no adapted vehicle) is reported as
  unserved with its reason before solving, instead of making the whole problem invalid.
"""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from routing.check import check
from routing.problem import Location, Problem, Request, Travel
from routing.problem import Vehicle as RoutingVehicle
from routing.solution import Route, Solution, Stop
from routing.solver import solve
from routing.travel import FloatMatrix, OsrmError, OsrmTable, travel_matrices
from scheduling.models import (
    Booking,
    BookingStatus,
    Notification,
    NotificationKind,
    Vehicle,
)
from scheduling.round_drivers import notify_driver, remember_published
from scheduling.transport import (
    Change,
    Plan,
    PlannedRound,
    PlannedStop,
    Point,
    RideRequest,
    Unserved,
    diff_pickups,
    find_day,
    minutes_of,
    notify_pickup,
    parse_request_id,
    pins_of,
    planned_stops,
    promises_of,
    publish_day,
    request_id,
    ride_requests,
    save_plan,
    snapshot,
    transport_bookings,
    transport_settings,
    vehicles_of,
)
from scheduling.transport_models import (
    DayStatus,
    Leg,
    RoundStop,
    StopKind,
    TransportDay,
    TransportSettings,
)
from webapp.geocoding import Geocoder, locate_booking

Progress = Callable[[str], None]
OSRM_TIMEOUT_SECONDS = 10
# Planned times are stored to the second: a kept time may precede its arrival by that much.
SECONDS_ROUNDING_MIN = 2 / 60


@dataclass
class DayRides:
    """Everything the solver needs for one day, gathered from the database."""

    day: dt.date
    settings: TransportSettings
    vehicles: list[Vehicle]
    bookings: dict[int, Booking]
    rides: list[RideRequest]
    unlocated: list[int] = field(default_factory=list)


def gather(
    db: Session,
    day: TransportDay,
    geocoder: Geocoder,
    now: dt.datetime,
    *,
    extra_pins: dict[tuple[int, Leg], int] | None = None,
) -> DayRides:
    """The day's rides with their places, pins (coordinator's and `extra_pins`) and promises."""
    settings = transport_settings(db, day.centre_id)
    bookings = transport_bookings(db, day.centre_id, day.date)
    pins = {**pins_of(day), **(extra_pins or {})}
    promises = promises_of(day)
    rides: list[RideRequest] = []
    unlocated: list[int] = []
    for booking in bookings:
        place = locate_booking(db, geocoder, booking, now)
        if not place.located:
            unlocated.append(booking.id)
        home = Point(place.lat, place.lon, booking.pickup_address)
        for ride in ride_requests(booking, home, settings):
            key = (ride.booking_id, ride.leg)
            rides.append(replace(ride, vehicle_id=pins.get(key), promised=promises.get(key)))
    return DayRides(
        day=day.date,
        settings=settings,
        vehicles=vehicles_of(db, day.centre_id),
        bookings={b.id: b for b in bookings},
        rides=rides,
        unlocated=unlocated,
    )


# --- Problem ---------------------------------------------------------------------------------


def _place_id(point: Point) -> str:
    return f"p{point.lat:.6f},{point.lon:.6f}"


def _vehicle_id(vehicle_id: int) -> str:
    return f"v{vehicle_id}"


def _pin_dimension(vehicle_id: int) -> str:
    return f"seul-{vehicle_id}"


@dataclass(frozen=True)
class Built:
    problem: Problem
    points: dict[str, Point]  # location id -> point
    refused: tuple[Unserved, ...]  # rides no vehicle can ever take, with the reason
    notes: tuple[str, ...] = ()  # what the coordinator should know about this build


def build_problem(rides: DayRides, *, progress: Progress | None = None) -> Built:
    """The routing Problem of the day (plus the rides refused before solving)."""
    say = progress or (lambda _m: None)
    settings = rides.settings
    points: dict[str, Point] = {}
    for vehicle in rides.vehicles:
        depot = Point(vehicle.depot_lat, vehicle.depot_lon, vehicle.depot_address)
        points[f"depot-{vehicle.id}"] = depot
    keep: list[RideRequest] = []
    refused: list[Unserved] = []
    for ride in rides.rides:
        reason = _never_fits(ride, rides.vehicles)
        if reason:
            refused.append(Unserved(ride.booking_id, ride.leg, reason))
            continue
        keep.append(ride)
        points.setdefault(_place_id(ride.pickup), ride.pickup)
        points.setdefault(_place_id(ride.dropoff), ride.dropoff)
    locations = [Location(id=key, lat=p.lat, lon=p.lon) for key, p in points.items()]
    notes: list[str] = []
    travel = _travel(settings, locations, say, notes)
    vehicles = tuple(_routing_vehicle(v, keep) for v in rides.vehicles)
    without_requests = Problem(f"navette-{rides.day}", travel, tuple(locations), vehicles, ())
    _, durations = travel_matrices(without_requests)
    index = {location.id: i for i, location in enumerate(locations)}

    def direct(ride: RideRequest) -> float:
        return float(durations[index[_place_id(ride.pickup)], index[_place_id(ride.dropoff)]])

    requests = tuple(_routing_request(ride, direct(ride), settings) for ride in keep)
    problem = replace(without_requests, requests=requests)
    return Built(problem=problem, points=points, refused=tuple(refused), notes=tuple(notes))


def _travel(
    settings: TransportSettings, locations: list[Location], say: Progress, notes: list[str]
) -> Travel:
    if settings.osrm_url:
        try:
            say("Temps de trajet demandés au serveur OSRM")
            return OsrmTable(settings.osrm_url, timeout=OSRM_TIMEOUT_SECONDS).travel(locations)
        except OsrmError as error:
            # The coordinator still gets rounds; the note says they rest on estimates.
            note = f"{error} : distances et temps estimés à vol d'oiseau pour ce calcul."
            notes.append(note)
            say(note)
    return Travel(kind="geodesic", speed_kmh=settings.speed_kmh, circuity=settings.circuity)


def _never_fits(ride: RideRequest, vehicles: Sequence[Vehicle]) -> str:
    def fits(vehicle: Vehicle) -> bool:
        return vehicle.seats >= ride.seats and vehicle.wheelchair_places >= ride.wheelchairs

    if not vehicles:
        return "aucun véhicule n'est enregistré"
    if ride.vehicle_id is not None:
        pinned = [v for v in vehicles if v.id == ride.vehicle_id]
        if not pinned:
            return "le véhicule imposé n'existe plus"
        if not fits(pinned[0]):
            return f"le véhicule imposé ({pinned[0].name}) n'a pas la place nécessaire"
        return ""
    if any(fits(v) for v in vehicles):
        return ""
    if ride.wheelchairs:
        return "aucun véhicule n'a de place pour un fauteuil roulant"
    return f"aucun véhicule n'a {ride.seats} places assises"


def _routing_vehicle(vehicle: Vehicle, rides: Sequence[RideRequest]) -> RoutingVehicle:
    capacity = {"seats": vehicle.seats, "wheelchairs": vehicle.wheelchair_places}
    pinned = sum(1 for ride in rides if ride.vehicle_id == vehicle.id)
    if pinned:
        capacity[_pin_dimension(vehicle.id)] = pinned
    return RoutingVehicle(
        id=_vehicle_id(vehicle.id),
        start=f"depot-{vehicle.id}",
        end=f"depot-{vehicle.id}",
        capacity=capacity,
        available=(minutes_of(vehicle.available_from), minutes_of(vehicle.available_until)),
    )


def _routing_request(ride: RideRequest, direct: float, settings: TransportSettings) -> Request:
    load = {"seats": ride.seats, "wheelchairs": ride.wheelchairs}
    if ride.vehicle_id is not None:
        load[_pin_dimension(ride.vehicle_id)] = 1
    pickup_window = ride.pickup_window
    if ride.promised is not None:
        pickup_window = _within(ride.pickup_window, ride.promised)
    return Request(
        id=ride.id,
        pickup=_place_id(ride.pickup),
        dropoff=_place_id(ride.dropoff),
        load=load,
        pickup_service=ride.pickup_service,
        dropoff_service=ride.dropoff_service,
        pickup_window=pickup_window,
        dropoff_window=ride.dropoff_window,
        max_ride=settings.max_ride(direct),
    )


def _within(
    window: tuple[float, float] | None, promised: tuple[float, float]
) -> tuple[float, float]:
    """The promise narrowed to the request's own window (the promise alone if they miss)."""
    if window is None:
        return promised
    start, end = max(window[0], promised[0]), min(window[1], promised[1])
    return (start, end) if start <= end else promised


# --- Solution -> plan ------------------------------------------------------------------------


def to_plan(built: Built, solution: Solution, rides: DayRides) -> Plan:
    rounds = []
    for route in solution.routes:
        if not route.stops:
            continue
        rounds.append(
            PlannedRound(
                vehicle_id=int(route.vehicle[1:]),
                start=route.start,
                end=route.end,
                distance_km=route.distance,
                stops=tuple(_planned_stop(stop, built) for stop in route.stops),
            )
        )
    unserved = list(built.refused)
    for item in solution.unserved:
        booking_id, leg = parse_request_id(item.request)
        unserved.append(Unserved(booking_id, leg, item.reason))
    return Plan(
        rounds=tuple(rounds),
        unserved=tuple(unserved),
        unlocated=tuple(rides.unlocated),
        notes=built.notes,
    )


def _planned_stop(stop: Stop, built: Built) -> PlannedStop:
    booking_id, leg = parse_request_id(stop.request)
    return PlannedStop(
        booking_id=booking_id,
        leg=leg,
        kind=StopKind.pickup if stop.type == "pickup" else StopKind.dropoff,
        point=built.points[stop.location],
        arrival=stop.arrival,
        begin=stop.begin,
        departure=stop.departure,
    )


def solve_rides(
    rides: DayRides,
    *,
    time_limit: float,
    seed: int = 0,
    progress: Progress | None = None,
    separate_process: bool = False,
) -> Plan:
    """Build the problem, solve it within `time_limit` seconds, return the plan.

    `separate_process`: solve in a helper process (see `solve_elsewhere`), for callers that
    share their process with the web server's threads.
    """
    say = progress or (lambda _m: None)
    built = build_problem(rides, progress=say)
    say(f"{len(built.problem.requests)} trajets à organiser, {len(rides.vehicles)} véhicules")
    if separate_process:
        solution = solve_elsewhere(built.problem, time_limit=time_limit, seed=seed)
    else:
        solution = solve(built.problem, time_limit=time_limit, seed=seed, log=say)
    return to_plan(built, solution, rides)


_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
# Beyond the time limit, what the helper process may take to start and answer.
SOLVE_GRACE_SECONDS = 120


class SolverUnavailable(RuntimeError):
    """The helper process died (killed, out of memory) or never answered; in French."""


def solve_elsewhere(problem: Problem, *, time_limit: float, seed: int = 0) -> Solution:
    """Solve in a long-lived helper process of this process.

    OR-Tools keeps Python's interpreter lock while it searches: solving in a web server's
    thread would freeze every page (and the progress bar) for the whole search. The helper is
    spawned once (fresh interpreter, no inherited threads) and reused; a helper that dies
    raises here, so the caller's job fails and leaves the day as it was.
    """
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        pool = _POOL
    try:
        future = pool.submit(solve, problem, time_limit=time_limit, seed=seed)
        return future.result(timeout=time_limit + SOLVE_GRACE_SECONDS)
    except BrokenProcessPool as error:
        with _POOL_LOCK:
            _POOL = None  # the next call starts a new helper
        raise SolverUnavailable(
            "le calculateur s'est arrêté en cours de route (processus interrompu). "
            "Relancez le calcul."
        ) from error
    except TimeoutError as error:
        raise SolverUnavailable(
            f"le calculateur n'a pas répondu en {time_limit + SOLVE_GRACE_SECONDS:g} s"
        ) from error


# --- least disturbance: removing a booking's stops --------------------------------------------


def without_bookings(day: TransportDay, rides: DayRides, gone: set[int]) -> Plan | None:
    """The day's rounds with the `gone` bookings' stops taken out, everyone else's times kept.

    Arrivals come earlier (the vehicle skips a detour) and the driver waits: nobody's pickup
    moves. Returns None when the shortened rounds do not pass `routing.check` (e.g. a road
    matrix without the triangle inequality): the caller re-solves with the promises kept hard.
    """
    others = DayRides(
        day=rides.day,
        settings=rides.settings,
        vehicles=rides.vehicles,
        bookings=rides.bookings,
        rides=[r for r in rides.rides if r.booking_id not in gone],
        unlocated=[b for b in rides.unlocated if b not in gone],
    )
    planned = {(stop.booking_id, stop.leg) for round_ in day.rounds for stop in round_.stops}
    others.rides = [r for r in others.rides if (r.booking_id, r.leg) in planned]
    built = build_problem(others)
    distance, duration = travel_matrices(built.problem)
    index = {location.id: i for i, location in enumerate(built.problem.locations)}
    requests = {request.id: request for request in built.problem.requests}
    routes: list[Route] = []
    for round_ in day.rounds:
        kept = [s for s in round_.stops if s.booking_id not in gone]
        if not kept:
            continue
        route = _retimed_route(round_.vehicle_id, kept, requests, index, distance, duration)
        if route is None:
            return None
        routes.append(route)
    solution = Solution(routes=tuple(routes), unserved=(), distance=sum(r.distance for r in routes))
    served = {stop.request for route in routes for stop in route.stops}
    if served != set(requests) or check(built.problem, solution):
        return None
    return to_plan(built, solution, others)


def _retimed_route(
    vehicle_id: int,
    stops: Sequence[RoundStop],
    requests: dict[str, Request],
    index: dict[str, int],
    distance: FloatMatrix,
    duration: FloatMatrix,
) -> Route | None:
    depot = index[f"depot-{vehicle_id}"]
    places: list[int] = []
    timed: list[Stop] = []
    for stop in stops:
        request = requests.get(request_id(stop.booking_id, stop.leg))
        if request is None:
            return None
        is_pickup = stop.kind is StopKind.pickup
        location = request.pickup if is_pickup else request.dropoff
        service = request.pickup_service if is_pickup else request.dropoff_service
        place = index[location]
        begin = minutes_of(stop.planned_begin)
        # The first stop keeps its time: the vehicle simply leaves the depot later.
        arrival = timed[-1].departure + float(duration[places[-1], place]) if timed else begin
        if arrival > begin + SECONDS_ROUNDING_MIN:
            return None
        begin = max(begin, arrival)  # stored times are rounded to the second
        timed.append(
            Stop(
                request=request.id,
                type="pickup" if is_pickup else "dropoff",
                location=location,
                arrival=arrival,
                begin=begin,
                departure=begin + service,
            )
        )
        places.append(place)
    start = timed[0].begin - float(duration[depot, places[0]])
    end = timed[-1].departure + float(duration[places[-1], depot])
    path = [depot, *places, depot]
    km = float(sum(distance[a, b] for a, b in itertools.pairwise(path)))
    return Route(
        vehicle=_vehicle_id(vehicle_id), start=start, end=end, distance=km, stops=tuple(timed)
    )


# --- after publication: late bookings, promotions, cancellations ------------------------------


@dataclass
class TransportOutcome:
    """What a change to a published day did, for the shell to send and show."""

    fits: bool = True
    reason: str = ""
    notifications: list[Notification] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)


def fit_booking(
    db: Session, booking: Booking, geocoder: Geocoder, now: dt.datetime, *, time_limit: float
) -> TransportOutcome:
    """Fit a new (or promoted) booking's rides into its day's published rounds.

    Everyone already planned stays in their vehicle and keeps their promised window (hard
    constraints); the new rides are added if the solver can. When it cannot, nothing changes
    and the reason is recorded on the day for the coordinator.
    """
    if booking.status is not BookingStatus.confirmed or not booking.needs_transport:
        return TransportOutcome()
    day = find_day(db, booking.centre_id, booking.session.starts_at.date())
    if day is None or day.status is not DayStatus.published:
        return TransportOutcome()  # it will be planned with the others at the next build
    before = snapshot(day)
    planned = {(s.booking_id, s.leg): r.vehicle_id for r in day.rounds for s in r.stops}
    if any(key[0] == booking.id for key in planned):
        return TransportOutcome()
    rides = gather(db, day, geocoder, now, extra_pins=planned)
    wanted = {key for key in planned} | {(booking.id, leg) for leg in _legs(booking)}
    rides.rides = [r for r in rides.rides if (r.booking_id, r.leg) in wanted]
    plan = solve_rides(rides, time_limit=time_limit, separate_process=True)
    served = {(s.booking_id, s.leg) for r in plan.rounds for s in r.stops}
    if not wanted <= served:
        reason = _refusal_reason(plan, booking.id)
        _record(
            day,
            "refusals",
            {
                "booking_id": booking.id,
                "person": booking.person.full_name,
                "reason": reason,
                "at": now.isoformat(),
            },
        )
        return TransportOutcome(fits=False, reason=reason)
    summary = dict(day.summary)
    save_plan(db, day, plan, now=now, bookings=rides.bookings)
    day.summary = {**day.summary, **_history(summary)}
    notifications = publish_day(db, day, now)
    changes = [
        f"{booking.person.full_name} ajouté(e) aux tournées ({now:%d/%m %H:%M})",
        *(
            _change_text(c, rides.bookings)
            for c in diff_pickups(before, day)
            if c.booking_id != booking.id
        ),
    ]
    _record(day, "changes", *changes)
    return TransportOutcome(notifications=notifications, changes=changes)


def _legs(booking: Booking) -> list[Leg]:
    return [
        leg
        for leg, wanted in (
            (Leg.outbound, booking.transport_out),
            (Leg.back, booking.transport_back),
        )
        if wanted
    ]


def _refusal_reason(plan: Plan, booking_id: int) -> str:
    own = [u.reason for u in plan.unserved if u.booking_id == booking_id]
    if own:
        return own[0]
    return "l'ajouter obligerait à changer l'heure promise à d'autres passagers"


def _history(summary: dict[str, Any]) -> dict[str, Any]:
    return {key: summary[key] for key in ("refusals", "changes") if key in summary}


def _record(day: TransportDay, key: str, *items: Any) -> None:
    # A new dict, so the JSON column sees the change.
    day.summary = {**day.summary, key: [*day.summary.get(key, []), *items]}


def _change_text(change: Change, bookings: dict[int, Booking]) -> str:
    booking = bookings.get(change.booking_id)
    who = booking.person.full_name if booking is not None else f"réservation {change.booking_id}"
    return f"{who} ({change.leg.label.lower()}) : {change.text}"


def replan_without(
    db: Session,
    bookings: Sequence[Booking],
    geocoder: Geocoder,
    now: dt.datetime,
    *,
    time_limit: float,
) -> TransportOutcome:
    """Take cancelled bookings (of one day) out of its rounds with the least disturbance.

    First try keeping everyone else's stops and times (only the detours disappear); if that
    does not hold, re-solve with everyone pinned to their vehicle and their promises hard.
    Changes are recorded for the coordinator; the rounds' drivers (published days) and anyone
    whose pickup changed are notified.
    """
    if not bookings:
        return TransportOutcome()
    first = bookings[0]
    gone = {b.id for b in bookings}
    day = find_day(db, first.centre_id, first.session.starts_at.date())
    if day is None or not any(s.booking_id in gone for r in day.rounds for s in r.stops):
        return TransportOutcome()
    before = snapshot(day)
    touched = [r for r in day.rounds if any(s.booking_id in gone for s in r.stops)]
    drivers = {r.driver.user for r in touched if r.driver is not None}
    rides = gather(db, day, geocoder, now)
    plan = without_bookings(day, rides, gone)
    if plan is None:
        planned = {
            (s.booking_id, s.leg): r.vehicle_id
            for r in day.rounds
            for s in r.stops
            if s.booking_id not in gone
        }
        rides = gather(db, day, geocoder, now, extra_pins=planned)
        rides.rides = [r for r in rides.rides if (r.booking_id, r.leg) in planned]
        plan = solve_rides(rides, time_limit=time_limit, separate_process=True)
    summary = dict(day.summary)
    save_plan(db, day, plan, now=now, bookings=rides.bookings)
    day.summary = {**day.summary, **_history(summary)}
    names = ", ".join(b.person.full_name for b in bookings)
    changes = [f"Annulation de {names} ({now:%d/%m %H:%M}) : arrêts retirés des tournées"]
    notifications: list[Notification] = []
    stops = planned_stops(day)
    for change in diff_pickups(before, day):
        if change.booking_id in gone:
            continue
        changes.append(_change_text(change, rides.bookings))
        stop = stops.get((change.booking_id, change.leg, StopKind.pickup))
        if day.status is DayStatus.published and stop is not None and stop.promised_from:
            notifications += notify_pickup(db, stop, now, NotificationKind.transport_changed)
    _record(day, "changes", *changes)
    if day.status is DayStatus.published:
        for user in drivers:
            notifications += notify_driver(db, user, day, changes, now)
        remember_published(day)
    return TransportOutcome(notifications=notifications, changes=changes)
