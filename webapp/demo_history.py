"""The demo's past six weeks: held sessions with attendance, a few cancellations, and marked rounds.

So the coordinator's report (/rapports) shows real figures the moment the demo is loaded. The past
is replayed through the real use-cases, each with its own clock: the programme is entered seven
weeks ago, people book before the deadlines, two sessions are cancelled the day before, the
rounds of one day a week are saved and published the afternoon before and marked stop by stop by
the driver, and the animator takes attendance at the end of each session.

The rounds are not solved (the solver would cost seconds per day and depend on the machine's
speed): each vehicle fetches its passengers in nearest-neighbour order, at the settings' speed.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduling.booking import book, cancel_booking
from scheduling.driving import acknowledge_alert, mark_stop
from scheduling.models import (
    SEAT_HOLDING_STATUSES,
    Activity,
    ActivitySession,
    Audience,
    Booking,
    BookingStatus,
    Frequency,
    Notification,
    NotificationChannel,
    Person,
    SessionStatus,
    User,
    Vehicle,
    Venue,
)
from scheduling.sessions import (
    Attendance,
    cancel_session,
    create_series,
    create_session,
    distance_km,
    set_attendance,
)
from scheduling.transport import (
    Plan,
    PlannedRound,
    PlannedStop,
    Point,
    Unserved,
    get_or_create_day,
    load_of_booking,
    minutes_of,
    publish_day,
    save_plan,
    transport_bookings,
    transport_settings,
)
from scheduling.transport_models import (
    Leg,
    StopKind,
    StopStatus,
    TransportDay,
    TransportSettings,
)

HISTORY_SEED = 24038  # apart from the upcoming data's seed: the future stays what it was
HISTORY_DAYS = 42
PROGRAMME_ENTERED_DAYS_AGO = 49
ARRIVE_BEFORE_MIN = 15  # the rounds drop people this long before the session starts
RETURN_AFTER_MIN = 5
# Past rounds fetch people in a simple order: more homes than this would make the first one's
# ride longer than the planner allows.
MAX_BOOKINGS_PER_ROUND = 5


@dataclass(frozen=True)
class PastSeries:
    activity: str
    venue: str
    frequency: Frequency
    weekday: int
    start: dt.time
    end: dt.time
    seats: int
    wheelchair_places: int
    transport: bool
    deadline_hours: int | None


@dataclass(frozen=True)
class PastOneOff:
    activity: str
    venue: str
    days_ago: int
    start: dt.time
    end: dt.time
    seats: int
    wheelchair_places: int
    transport: bool
    deadline_hours: int | None


PAST_SERIES = [
    PastSeries(
        "Atelier mémoire", "EHPAD Les Tilleuls", Frequency.weekly, 1,
        dt.time(14, 0), dt.time(16, 0), 12, 2, True, 24,
    ),
    PastSeries(
        "Atelier équilibre", "Salle des fêtes de Lalinde", Frequency.weekly, 3,
        dt.time(10, 0), dt.time(11, 30), 10, 1, True, 24,
    ),
    PastSeries(
        "Gym douce", "Salle polyvalente de Prigonrieux", Frequency.weekly, 0,
        dt.time(10, 0), dt.time(11, 0), 14, 1, True, 24,
    ),
    PastSeries(
        "Groupe de parole des aidants", "Foyer rural de La Force", Frequency.biweekly, 4,
        dt.time(14, 30), dt.time(16, 0), 10, 0, False, None,
    ),
]  # fmt: skip
PAST_ONE_OFFS = [
    PastOneOff(
        "Formation : repérer l'isolement", "Salle des fêtes d'Issigeac", 40,
        dt.time(9, 0), dt.time(17, 0), 15, 0, False, 72,
    ),
    PastOneOff(
        "Bus de téléconsultation", "Bus de téléconsultation — Eymet, place Gambetta", 36,
        dt.time(9, 0), dt.time(12, 0), 6, 1, False, 24,
    ),
    PastOneOff(
        "Repas partagé aidant-aidé", "EHPAD Les Tilleuls", 27,
        dt.time(12, 0), dt.time(14, 0), 12, 2, True, 48,
    ),
    PastOneOff(
        "Bus de téléconsultation", "Bus de téléconsultation — Le Fleix, place de l'Église", 22,
        dt.time(9, 0), dt.time(12, 0), 6, 1, False, 24,
    ),
    PastOneOff(
        "Formation : prévenir les chutes à domicile", "Salle des fêtes d'Issigeac", 19,
        dt.time(9, 0), dt.time(17, 0), 15, 0, False, 72,
    ),
    PastOneOff(
        "Vaccination grippe et covid", "EHPAD Les Tilleuls", 15,
        dt.time(9, 30), dt.time(12, 0), 30, 3, True, 48,
    ),
    PastOneOff(
        "Bus de téléconsultation", "Bus de téléconsultation — Monbazillac, parking de la mairie",
        8, dt.time(14, 0), dt.time(17, 0), 6, 1, False, 24,
    ),
]  # fmt: skip
FULL_PAST_ACTIVITY = "Repas partagé aidant-aidé"
# (activity, how many occurrences back from the most recent, reason)
CANCELLED = [
    ("Atelier équilibre", 2, "L'éducatrice sportive est absente et n'a pas pu être remplacée."),
    ("Bus de téléconsultation", 1, "Le médecin de téléconsultation n'était pas disponible."),
]
WELFARE_NOTE = (
    "Appelée à 10 min : elle était chez sa fille et avait oublié de prévenir. Tout va bien."
)


@dataclass
class HistorySummary:
    sessions: int = 0
    cancelled: int = 0
    bookings: int = 0
    transport_days: int = 0
    rounds: int = 0
    distance_km: float = 0.0
    marks: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Staff:
    animator: User
    coordinator: User
    carer: User


def load_history(
    db: Session,
    *,
    now: dt.datetime,
    staff: Staff,
    activities: dict[str, Activity],
    venues: dict[str, Venue],
    persons: list[Person],
) -> HistorySummary:
    """Replay the centre's past six weeks, up to yesterday; `now` is the demo's clock."""
    rng = random.Random(HISTORY_SEED)
    summary = HistorySummary()
    today = now.date()
    entered = dt.datetime.combine(today - dt.timedelta(days=PROGRAMME_ENTERED_DAYS_AGO), dt.time(9))
    sessions = _past_sessions(db, staff.animator, entered, today, activities, venues)
    summary.sessions = len(sessions)
    summary.bookings = _past_bookings(db, rng, staff, entered, today, sessions, persons)
    summary.cancelled = _cancel_some(db, rng, staff.animator, sessions)
    transport_marks = _past_rounds(db, rng, staff, today, sessions, summary)
    _take_attendance(db, rng, staff.animator, sessions, transport_marks)
    # What was sent and called back then is history: no outbox, no call list left from it.
    centre_id = staff.animator.centre_id
    db.execute(
        update(Notification)
        .where(Notification.centre_id == centre_id, Notification.sent_at.is_(None))
        .values(sent_at=Notification.created_at)
    )
    db.execute(
        update(Notification)
        .where(
            Notification.centre_id == centre_id,
            Notification.channel == NotificationChannel.phone_call,
            Notification.done_at.is_(None),
        )
        .values(done_at=Notification.created_at)
    )
    db.flush()
    return summary


# --- sessions and bookings ------------------------------------------------------------------


def _first_on_or_after(day: dt.date, weekday: int) -> dt.date:
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def _weekday_on_or_before(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def _past_sessions(
    db: Session,
    animator: User,
    entered: dt.datetime,
    today: dt.date,
    activities: dict[str, Activity],
    venues: dict[str, Venue],
) -> list[ActivitySession]:
    first_day = today - dt.timedelta(days=HISTORY_DAYS)
    yesterday = today - dt.timedelta(days=1)
    sessions: list[ActivitySession] = []
    for plan in PAST_SERIES:
        first = _first_on_or_after(first_day, plan.weekday)
        sessions += create_repeated(
            db,
            plan,
            first,
            yesterday,
            animator=animator,
            now=entered,
            activities=activities,
            venues=venues,
        )
    for one in PAST_ONE_OFFS:
        day = _weekday_on_or_before(today - dt.timedelta(days=one.days_ago))
        sessions.append(
            create_one_off(
                db, one, day, animator=animator, now=entered, activities=activities, venues=venues
            )
        )
    return sorted(sessions, key=lambda s: (s.starts_at, s.id))


class OneOff(Protocol):
    """What a one-off session of the demo is made of (upcoming or past)."""

    # Read-only members, so the frozen plan dataclasses satisfy it.
    @property
    def activity(self) -> str: ...
    @property
    def venue(self) -> str: ...
    @property
    def start(self) -> dt.time: ...
    @property
    def end(self) -> dt.time: ...
    @property
    def seats(self) -> int: ...
    @property
    def wheelchair_places(self) -> int: ...
    @property
    def transport(self) -> bool: ...
    @property
    def deadline_hours(self) -> int | None: ...


class Repeated(OneOff, Protocol):
    """A demo session repeated until a date (upcoming or past)."""

    @property
    def frequency(self) -> Frequency: ...


def create_repeated(
    db: Session,
    plan: Repeated,
    first_date: dt.date,
    until_date: dt.date,
    *,
    animator: User,
    now: dt.datetime,
    activities: Mapping[str, Activity],
    venues: Mapping[str, Venue],
) -> list[ActivitySession]:
    """Create the series `plan` describes, through the animators' use-case."""
    result = create_series(
        db,
        actor=animator,
        now=now,
        activity_id=activities[plan.activity].id,
        frequency=plan.frequency,
        first_date=first_date,
        until_date=until_date,
        start_time=plan.start,
        end_time=plan.end,
        venue_id=venues[plan.venue].id,
        seats=plan.seats,
        wheelchair_places=plan.wheelchair_places,
        animator_id=animator.id,
        transport_offered=plan.transport,
        booking_deadline_hours=plan.deadline_hours,
    )
    if result.value is None:
        raise RuntimeError(f"Série de démonstration refusée : {result.message}")
    return list(result.value.sessions)


def create_one_off(
    db: Session,
    one: OneOff,
    day: dt.date,
    *,
    animator: User,
    now: dt.datetime,
    activities: Mapping[str, Activity],
    venues: Mapping[str, Venue],
) -> ActivitySession:
    """Create the session `one` describes on `day`, through the animators' use-case."""
    starts_at = dt.datetime.combine(day, one.start)
    deadline = starts_at - dt.timedelta(hours=one.deadline_hours) if one.deadline_hours else None
    created = create_session(
        db,
        actor=animator,
        now=now,
        activity_id=activities[one.activity].id,
        venue_id=venues[one.venue].id,
        starts_at=starts_at,
        ends_at=dt.datetime.combine(day, one.end),
        seats=one.seats,
        wheelchair_places=one.wheelchair_places,
        animator_id=animator.id,
        booking_deadline=deadline,
        transport_offered=one.transport,
    )
    if created.value is None:
        raise RuntimeError(f"Séance de démonstration refusée : {created.message}")
    return created.value


def _past_bookings(
    db: Session,
    rng: random.Random,
    staff: Staff,
    entered: dt.datetime,
    today: dt.date,
    sessions: list[ActivitySession],
    persons: list[Person],
) -> int:
    """Book past sessions before their deadlines; newcomers join week after week."""
    booked = 0
    first_day = today - dt.timedelta(days=HISTORY_DAYS)
    for session in sessions:
        audience = session.activity.audience
        full = session.activity.title == FULL_PAST_ACTIVITY
        if audience is Audience.professionals or (audience is Audience.carers and not full):
            continue  # carers and professionals are not persons of the territory
        # A pool that grows: first-time participants keep arriving, as in a real centre.
        weeks = (session.starts_at.date() - first_day).days // 7
        pool = persons[: min(len(persons), 30 + 5 * weeks)]
        if full:
            candidates = [persons[0], *rng.sample(pool[2:], 7)]
            share = len(candidates)
        else:
            candidates = rng.sample(pool, len(pool))
            share = max(2, int(session.seats * rng.uniform(0.4, 0.8)))
        deadline = session.booking_deadline or session.starts_at
        clock = max(entered + dt.timedelta(hours=1), session.starts_at - dt.timedelta(days=10))
        count = 0
        for person in candidates:
            if count >= share:
                break
            clock += dt.timedelta(minutes=rng.randint(10, 240))
            wants_ride = session.transport_offered and rng.random() < 0.6
            outcome = book(
                db,
                session_id=session.id,
                person_id=person.id,
                actor=staff.carer if person in staff.carer.helped_persons else staff.animator,
                now=min(clock, deadline - dt.timedelta(minutes=30)),
                companions=1 if full or person.companion_needed else 0,
                transport_out=wants_ride,
                transport_back=wants_ride,
            )
            if outcome.refused:
                continue
            count += 1
            booked += outcome.confirmed
    return booked


def _cancel_some(
    db: Session, rng: random.Random, animator: User, sessions: list[ActivitySession]
) -> int:
    """Two sessions cancelled the day before; a few persons cancel by phone."""
    cancelled = 0
    for title, back, reason in CANCELLED:
        of_activity = [s for s in sessions if s.activity.title == title]
        if len(of_activity) < back:
            continue
        session = of_activity[-back]
        change = cancel_session(
            db,
            actor=animator,
            now=session.starts_at - dt.timedelta(hours=20),
            session_id=session.id,
            reason=reason,
        )
        if change.session is not None:
            cancelled += 1
    live = [s for s in sessions if s.status is SessionStatus.scheduled]
    for session in rng.sample(live, min(3, len(live))):
        confirmed = [b for b in _bookings_of(db, session) if b.status is BookingStatus.confirmed]
        if confirmed:
            cancel_booking(
                db,
                booking_id=rng.choice(confirmed).id,
                actor=animator,
                now=session.starts_at - dt.timedelta(days=2),
            )
    return cancelled


def _bookings_of(db: Session, session: ActivitySession) -> list[Booking]:
    # Queried, not `session.bookings`: the use-cases add bookings without that relationship.
    return list(
        db.scalars(select(Booking).where(Booking.session_id == session.id).order_by(Booking.id))
    )


# --- rounds -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rider:
    booking: Booking
    home: Point


def _travel(settings: TransportSettings, a: Point, b: Point) -> tuple[float, float]:
    """(road km, whole minutes) from a to b at the centre's speed and circuity."""
    km = distance_km(a.lat, a.lon, b.lat, b.lon) * settings.circuity
    return km, float(math.ceil(km / settings.speed_kmh * 60))


def _nearest_first(start: Point, riders: list[_Rider]) -> list[_Rider]:
    left, ordered, here = list(riders), [], start
    while left:
        closest = min(left, key=lambda r: distance_km(here.lat, here.lon, r.home.lat, r.home.lon))
        left.remove(closest)
        ordered.append(closest)
        here = closest.home
    return ordered


def _round_for(
    settings: TransportSettings, vehicle: Vehicle, session: ActivitySession, riders: list[_Rider]
) -> PlannedRound:
    """Outbound: depot, homes (farthest from the venue first), venue; back: the reverse."""
    depot = Point(vehicle.depot_lat or 0.0, vehicle.depot_lon or 0.0, vehicle.depot_address)
    venue = Point(session.venue.lat, session.venue.lon, session.venue.address)
    km = 0.0
    stops: list[PlannedStop] = []
    going = [r for r in riders if r.booking.transport_out]
    start = end = minutes_of(session.starts_at)
    if going:
        farthest = max(
            going, key=lambda r: distance_km(venue.lat, venue.lon, r.home.lat, r.home.lon)
        )
        order = _nearest_first(farthest.home, going)
        legs: list[tuple[_Rider, float, float]] = []  # rider, minutes from depot, boarding
        t, here = 0.0, depot
        for rider in order:
            leg_km, minutes = _travel(settings, here, rider.home)
            km, t = km + leg_km, t + minutes
            boarding = float(settings.boarding_minutes(rider.booking.mobility))
            legs.append((rider, t, boarding))
            t, here = t + boarding, rider.home
        leg_km, minutes = _travel(settings, here, venue)
        km, t = km + leg_km, t + minutes
        shift = minutes_of(session.starts_at) - ARRIVE_BEFORE_MIN - t
        start = shift
        for rider, at, boarding in legs:
            stops.append(
                _stop(rider, Leg.outbound, StopKind.pickup, rider.home, shift + at, boarding)
            )
        at = shift + t
        for rider, _at, _b in legs:
            stops.append(
                _stop(rider, Leg.outbound, StopKind.dropoff, venue, at, settings.alighting_min)
            )
            at += settings.alighting_min
    coming = [r for r in riders if r.booking.transport_back]
    if coming:
        t = minutes_of(session.ends_at) + RETURN_AFTER_MIN
        if not going:
            leg_km, minutes = _travel(settings, depot, venue)
            km, start = km + leg_km, t - minutes
        order = _nearest_first(venue, coming)
        for rider in order:
            boarding = float(settings.boarding_minutes(rider.booking.mobility))
            stops.append(_stop(rider, Leg.back, StopKind.pickup, venue, t, boarding))
            t += boarding
        here = venue
        for rider in order:
            leg_km, minutes = _travel(settings, here, rider.home)
            km, t = km + leg_km, t + minutes
            stops.append(
                _stop(rider, Leg.back, StopKind.dropoff, rider.home, t, settings.alighting_min)
            )
            t, here = t + settings.alighting_min, rider.home
        leg_km, minutes = _travel(settings, here, depot)
        km, end = km + leg_km, t + minutes
    elif going:
        leg_km, minutes = _travel(settings, venue, depot)
        km, end = km + leg_km, stops[-1].departure + minutes
    return PlannedRound(vehicle.id, start, end, round(km, 2), tuple(stops))


def _stop(
    rider: _Rider, leg: Leg, kind: StopKind, point: Point, at: float, service: float
) -> PlannedStop:
    return PlannedStop(rider.booking.id, leg, kind, point, at, at, at + service)


def _bearing(venue: Venue, person: Person) -> float:
    return math.atan2((person.lat or 0.0) - venue.lat, (person.lon or 0.0) - venue.lon)


def _longest_ride(planned: PlannedRound) -> float:
    picked = {
        (s.booking_id, s.leg): s.departure for s in planned.stops if s.kind is StopKind.pickup
    }
    return max(
        (
            s.begin - picked[(s.booking_id, s.leg)]
            for s in planned.stops
            if s.kind is StopKind.dropoff
        ),
        default=0.0,
    )


def _share_out(
    settings: TransportSettings,
    vehicles: list[Vehicle],
    session: ActivitySession,
    bookings: list[Booking],
) -> tuple[list[PlannedRound], list[Booking]]:
    """Sweep around the venue: neighbours share a vehicle while it has room and nobody's ride
    gets longer than the centre allows; what no vehicle can take stays unserved."""
    left = sorted(bookings, key=lambda b: _bearing(session.venue, b.person))
    rounds: list[PlannedRound] = []
    for vehicle in vehicles:
        riders: list[_Rider] = []
        seats = chairs = 0
        planned: PlannedRound | None = None
        for booking in list(left):
            more_seats, more_chairs = load_of_booking(booking)
            if (
                len(riders) >= MAX_BOOKINGS_PER_ROUND
                or seats + more_seats > vehicle.seats
                or chairs + more_chairs > vehicle.wheelchair_places
            ):
                continue
            home = Point(
                booking.person.lat or 0.0, booking.person.lon or 0.0, booking.pickup_address
            )
            trial = _round_for(settings, vehicle, session, [*riders, _Rider(booking, home)])
            if riders and _longest_ride(trial) > settings.max_ride_cap_min:
                continue
            riders.append(_Rider(booking, home))
            seats, chairs, planned = seats + more_seats, chairs + more_chairs, trial
            left.remove(booking)
        if planned is not None:
            rounds.append(planned)
    return rounds, left


def _past_rounds(
    db: Session,
    rng: random.Random,
    staff: Staff,
    today: dt.date,
    sessions: list[ActivitySession],
    summary: HistorySummary,
) -> dict[int, StopStatus]:
    """One day a week with rides: rounds saved, published the day before, marked on the day.

    Returns the bookings whose outbound pickup failed (no-show or nobody answered).
    """
    centre_id = staff.animator.centre_id
    settings = transport_settings(db, centre_id)
    # The minibus first: the small cars only take what it cannot.
    vehicles = sorted(
        db.scalars(select(Vehicle).where(Vehicle.centre_id == centre_id)),
        key=lambda v: (-v.seats, v.id),
    )
    chosen_days: dict[int, dt.date] = {}
    for session in sessions:
        day = session.starts_at.date()
        week = (today - day).days // 7
        if week in chosen_days or not session.transport_offered:
            continue
        day_sessions = [s for s in sessions if s.starts_at.date() == day and s.transport_offered]
        if len(day_sessions) == 1 and transport_bookings(db, centre_id, day):
            chosen_days[week] = day
    failed: dict[int, StopStatus] = {}
    days = sorted(chosen_days.values())
    for index, day in enumerate(days):
        session = next(s for s in sessions if s.starts_at.date() == day and s.transport_offered)
        bookings = transport_bookings(db, centre_id, day)
        rounds, left = _share_out(settings, vehicles, session, bookings)
        unserved = tuple(
            Unserved(
                b.id, leg, "Plus de place dans les véhicules à cette heure, ou trajet trop long"
            )
            for b in left
            for leg, wanted in ((Leg.outbound, b.transport_out), (Leg.back, b.transport_back))
            if wanted
        )
        row = get_or_create_day(db, centre_id, day)
        eve = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(15, 0))
        save_plan(
            db, row, Plan(tuple(rounds), unserved), now=eve, bookings={b.id: b for b in bookings}
        )
        publish_day(db, row, eve + dt.timedelta(hours=1))
        failure = StopStatus.no_show if index == 0 else None
        if index == len(days) - 1 and len(days) > 1:
            failure = StopStatus.nobody_answered
        _mark_day(db, rng, staff, row, failure, failed)
        summary.transport_days += 1
        summary.rounds += len(rounds)
        summary.distance_km += sum(r.distance_km for r in rounds)
    return failed


def _mark_day(
    db: Session,
    rng: random.Random,
    staff: Staff,
    day: TransportDay,
    failure: StopStatus | None,
    failed: dict[int, StopStatus],
) -> None:
    """The driver marks every stop as it happens; one outbound pickup may go wrong."""
    for round_ in day.rounds:
        driver = round_.driver.user if round_.driver is not None else staff.coordinator
        pickups = [s for s in round_.stops if s.kind is StopKind.pickup and s.leg is Leg.outbound]
        if failure is not None and pickups:
            failed[pickups[min(1, len(pickups) - 1)].booking_id] = failure
            failure = None
        for stop in round_.stops:
            when = stop.planned_begin + dt.timedelta(minutes=rng.randint(0, 4))
            gone = failed.get(stop.booking_id)
            if gone is None:
                status = (
                    StopStatus.picked_up if stop.kind is StopKind.pickup else StopStatus.dropped_off
                )
            elif stop.kind is StopKind.dropoff:
                continue  # nobody to drop
            elif stop.leg is Leg.outbound:
                status = gone
            else:
                continue  # the driver knows she did not come: no return pickup to mark
            marked = mark_stop(db, stop=stop, status=status, actor=driver, now=when)
            if marked.value is None:
                raise RuntimeError(f"Pointage de démonstration refusé : {marked.message}")
            if marked.value.alert is not None:
                acknowledge_alert(
                    db,
                    alert_id=marked.value.alert.id,
                    actor=staff.coordinator,
                    now=when + dt.timedelta(minutes=12),
                    note=WELFARE_NOTE,
                )


def _take_attendance(
    db: Session,
    rng: random.Random,
    animator: User,
    sessions: list[ActivitySession],
    transport_failed: dict[int, StopStatus],
) -> None:
    """Mostly present, some excused, a few absent; nobody fetched at home came."""
    for session in sessions:
        if session.status is SessionStatus.cancelled:
            continue
        marks: dict[int, Attendance] = {}
        for booking in _bookings_of(db, session):
            if booking.status not in SEAT_HOLDING_STATUSES:
                continue
            draw = rng.random()
            if booking.id in transport_failed or draw < 0.06:
                marks[booking.id] = Attendance.absent
            elif draw < 0.15:
                marks[booking.id] = Attendance.excused
            else:
                marks[booking.id] = Attendance.present
        if marks:
            result = set_attendance(
                db, actor=animator, now=session.ends_at, session_id=session.id, marks=marks
            )
            if result.value is None:
                raise RuntimeError(f"Appel de démonstration refusé : {result.message}")
