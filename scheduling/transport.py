"""Transport use-cases: rides asked by bookings, saving a plan, publishing it with promises.

Plain data in and out: the routing bridge (``webapp.planning``) turns `RideRequest` into the
solver's problem and its answer into `PlannedRound`. Times are minutes of the day (8:30 is 510)
in the plain data and naive local datetimes in the tables. Like every use-case here, these only
flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import selectinload

from scheduling.driving import carry_over_marks
from scheduling.models import (
    ActivitySession,
    Booking,
    BookingStatus,
    Driver,
    Mobility,
    Notification,
    NotificationKind,
    SessionStatus,
    Vehicle,
)
from scheduling.notifications import (
    describe_session,
    format_date,
    format_time,
    notify_person,
    plural,
)
from scheduling.round_drivers import KEPT_SUMMARY_KEYS, manual_drivers, notify_changed_rounds
from scheduling.transport_models import (
    DayStatus,
    JobStatus,
    Leg,
    RequestPin,
    Round,
    RoundStop,
    StopKind,
    TransportDay,
    TransportSettings,
)

# --- time on the day's clock ---------------------------------------------------------------


def minutes_of(moment: dt.datetime | dt.time) -> float:
    return moment.hour * 60 + moment.minute + moment.second / 60


def at_minutes(day: dt.date, minutes: float) -> dt.datetime:
    """The datetime `minutes` after midnight of `day`, to the second."""
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=round(minutes * 60))


# --- settings and days ---------------------------------------------------------------------


def transport_settings(db: DbSession, centre_id: int) -> TransportSettings:
    """The centre's transport rules, created with the defaults on first use."""
    found = db.scalar(select(TransportSettings).where(TransportSettings.centre_id == centre_id))
    if found is None:
        found = TransportSettings(centre_id=centre_id)
        db.add(found)
        db.flush()
    return found


def find_day(db: DbSession, centre_id: int, day: dt.date) -> TransportDay | None:
    return db.scalar(
        select(TransportDay).where(TransportDay.centre_id == centre_id, TransportDay.date == day)
    )


def get_or_create_day(db: DbSession, centre_id: int, day: dt.date) -> TransportDay:
    found = find_day(db, centre_id, day)
    if found is None:
        found = TransportDay(centre_id=centre_id, date=day, summary={})
        db.add(found)
        db.flush()
    return found


# --- rides asked for ---------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    address: str


@dataclass(frozen=True)
class RideRequest:
    """One leg of one booking's transport, as the planner needs it."""

    booking_id: int
    leg: Leg
    pickup: Point
    dropoff: Point
    seats: int
    wheelchairs: int
    pickup_service: float
    dropoff_service: float
    pickup_window: tuple[float, float] | None
    dropoff_window: tuple[float, float] | None
    # Filled by the caller with the pin and promise rules.
    vehicle_id: int | None = None  # pinned: only this vehicle may take it
    promised: tuple[float, float] | None = None  # the pickup must stay in this window

    @property
    def id(self) -> str:
        return request_id(self.booking_id, self.leg)


def request_id(booking_id: int, leg: Leg) -> str:
    return f"b{booking_id}-{'out' if leg is Leg.outbound else 'back'}"


def parse_request_id(value: str) -> tuple[int, Leg]:
    number, _, leg = value[1:].partition("-")
    return int(number), Leg.outbound if leg == "out" else Leg.back


def transport_bookings(db: DbSession, centre_id: int, day: dt.date) -> list[Booking]:
    """Confirmed bookings of `day`'s sessions that ask for a ride, in a stable order."""
    start = dt.datetime.combine(day, dt.time())
    return list(
        db.scalars(
            select(Booking)
            .join(ActivitySession, Booking.session_id == ActivitySession.id)
            .where(
                Booking.centre_id == centre_id,
                Booking.status == BookingStatus.confirmed,
                ActivitySession.status == SessionStatus.scheduled,
                ActivitySession.starts_at >= start,
                ActivitySession.starts_at < start + dt.timedelta(days=1),
                (Booking.transport_out.is_(True)) | (Booking.transport_back.is_(True)),
            )
            .options(selectinload(Booking.person), selectinload(Booking.session))
            .order_by(ActivitySession.starts_at, Booking.id)
        )
    )


def load_of_booking(booking: Booking) -> tuple[int, int]:
    """(seats, wheelchair places): a wheelchair user takes a wheelchair place, not a seat."""
    if booking.mobility is Mobility.wheelchair:
        return booking.companions, 1
    return 1 + booking.companions, 0


def ride_requests(booking: Booking, home: Point, settings: TransportSettings) -> list[RideRequest]:
    """The outbound and/or return request of a booking, with windows in minutes of the day."""
    session = booking.session
    venue = Point(session.venue.lat, session.venue.lon, session.venue.address)
    seats, wheelchairs = load_of_booking(booking)
    boarding = float(settings.boarding_minutes(booking.mobility))
    alighting = float(settings.alighting_min)
    start, end = minutes_of(session.starts_at), minutes_of(session.ends_at)
    rides: list[RideRequest] = []
    if booking.transport_out:
        rides.append(
            RideRequest(
                booking_id=booking.id,
                leg=Leg.outbound,
                pickup=home,
                dropoff=venue,
                seats=seats,
                wheelchairs=wheelchairs,
                pickup_service=boarding,
                dropoff_service=alighting,
                pickup_window=None,
                dropoff_window=(
                    start - settings.outbound_earliest_min,
                    start - settings.outbound_latest_min,
                ),
            )
        )
    if booking.transport_back:
        rides.append(
            RideRequest(
                booking_id=booking.id,
                leg=Leg.back,
                pickup=venue,
                dropoff=home,
                seats=seats,
                wheelchairs=wheelchairs,
                pickup_service=boarding,
                dropoff_service=alighting,
                pickup_window=(end, end + settings.return_latest_min),
                dropoff_window=None,
            )
        )
    return rides


def pins_of(day: TransportDay) -> dict[tuple[int, Leg], int]:
    """(booking id, leg) -> vehicle id the coordinator pinned it to."""
    return {(pin.booking_id, pin.leg): pin.vehicle_id for pin in day.pins}


def pin_request(
    db: DbSession, day: TransportDay, booking_id: int, leg: Leg, vehicle_id: int | None
) -> None:
    """Pin a leg to a vehicle for the next re-solve (None removes the pin)."""
    for pin in list(day.pins):
        if pin.booking_id == booking_id and pin.leg is leg:
            day.pins.remove(pin)
            db.delete(pin)
    db.flush()
    if vehicle_id is not None:
        day.pins.append(RequestPin(booking_id=booking_id, leg=leg, vehicle_id=vehicle_id))
    db.flush()


def promises_of(day: TransportDay) -> dict[tuple[int, Leg], tuple[float, float]]:
    """Pickup windows already promised on `day`, in minutes: they are hard from now on."""
    promised: dict[tuple[int, Leg], tuple[float, float]] = {}
    for round_ in day.rounds:
        for stop in round_.stops:
            if stop.kind is StopKind.pickup and stop.promised_from and stop.promised_to:
                promised[(stop.booking_id, stop.leg)] = (
                    minutes_of(stop.promised_from),
                    minutes_of(stop.promised_to),
                )
    return promised


# --- plans -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedStop:
    booking_id: int
    leg: Leg
    kind: StopKind
    point: Point
    arrival: float
    begin: float
    departure: float


@dataclass(frozen=True)
class PlannedRound:
    vehicle_id: int
    start: float
    end: float
    distance_km: float
    stops: tuple[PlannedStop, ...]


@dataclass(frozen=True)
class Unserved:
    booking_id: int
    leg: Leg
    reason: str


@dataclass(frozen=True)
class Plan:
    rounds: tuple[PlannedRound, ...]
    unserved: tuple[Unserved, ...]
    unlocated: tuple[int, ...] = ()  # booking ids planned at their commune's point
    notes: tuple[str, ...] = field(default=())


def assign_drivers(
    drivers: Sequence[Driver],
    day: dt.date,
    rounds: Sequence[PlannedRound],
    fixed: Mapping[int, int] | None = None,
) -> dict[int, int | None]:
    """Round index -> driver id: a driver works that weekday, within their hours, one round at
    a time. Earliest rounds first; a round nobody can drive gets None (shown to the coordinator).

    `fixed` (vehicle id -> driver id) are the coordinator's choices: that vehicle's round keeps
    that driver, whatever their declared days, and the others are assigned around it.
    """
    busy: dict[int, list[tuple[float, float]]] = {d.id: [] for d in drivers}
    chosen: dict[int, int | None] = {}
    for index, planned in enumerate(rounds):
        driver_id = (fixed or {}).get(planned.vehicle_id)
        if driver_id is not None and driver_id in busy:
            chosen[index] = driver_id
            busy[driver_id].append((planned.start, planned.end))
    for index in sorted(range(len(rounds)), key=lambda i: rounds[i].start):
        if index in chosen:
            continue
        start, end = rounds[index].start, rounds[index].end
        chosen[index] = None
        for driver in drivers:
            if day.weekday() not in (driver.weekdays or []):
                continue
            if (
                minutes_of(driver.available_from) > start
                or minutes_of(driver.available_until) < end
            ):
                continue
            if any(s < end and start < e for s, e in busy[driver.id]):
                continue
            busy[driver.id].append((start, end))
            chosen[index] = driver.id
            break
    return chosen


def day_drivers(db: DbSession, centre_id: int) -> list[Driver]:
    return list(db.scalars(select(Driver).where(Driver.centre_id == centre_id).order_by(Driver.id)))


def save_plan(
    db: DbSession,
    day: TransportDay,
    plan: Plan,
    *,
    now: dt.datetime,
    bookings: dict[int, Booking],
) -> list[Round]:
    """Replace the day's rounds by `plan` (all in the caller's transaction).

    Promises already made are carried over to the new stops of the same booking and leg, so a
    re-plan never silently withdraws a window a carer was told. The summary is recomputed.
    """
    kept = _promises_by_stop(day)
    old_rounds = list(day.rounds)
    old_stops = [stop for old in old_rounds for stop in old.stops]
    # A driver whose account is switched off drives nothing, even when chosen by hand before.
    active = [d for d in day_drivers(db, day.centre_id) if d.user.active]
    drivers = assign_drivers(active, day.date, plan.rounds, manual_drivers(day))
    status = day.status
    saved: list[Round] = []
    for index, planned in enumerate(plan.rounds):
        round_ = Round(
            centre_id=day.centre_id,
            vehicle_id=planned.vehicle_id,
            driver_id=drivers.get(index),
            status=status,
            starts_at=at_minutes(day.date, planned.start),
            ends_at=at_minutes(day.date, planned.end),
            distance_km=round(planned.distance_km, 2),
        )
        for seq, stop in enumerate(planned.stops, start=1):
            promise = kept.get((stop.booking_id, stop.leg, stop.kind))
            round_.stops.append(
                RoundStop(
                    seq=seq,
                    booking_id=stop.booking_id,
                    leg=stop.leg,
                    kind=stop.kind,
                    address=stop.point.address,
                    lat=stop.point.lat,
                    lon=stop.point.lon,
                    planned_arrival=at_minutes(day.date, stop.arrival),
                    planned_begin=at_minutes(day.date, stop.begin),
                    planned_departure=at_minutes(day.date, stop.departure),
                    promised_from=promise[0] if promise else None,
                    promised_to=promise[1] if promise else None,
                    pinned=(stop.booking_id, stop.leg) in pins_of(day),
                )
            )
        day.rounds.append(round_)
        saved.append(round_)
    db.flush()
    # A re-plan on the day keeps what drivers marked and the welfare alerts they raised: they
    # move to the new stops before the old ones go.
    carry_over_marks(db, old_stops=old_stops, new_stops=[s for r in saved for s in r.stops])
    for old in old_rounds:
        day.rounds.remove(old)
        db.delete(old)
    day.built_at = now
    remembered = {k: day.summary[k] for k in KEPT_SUMMARY_KEYS if k in (day.summary or {})}
    day.summary = {**summarize(plan, bookings), **remembered}
    db.flush()
    return saved


def _promises_by_stop(
    day: TransportDay,
) -> dict[tuple[int, Leg, StopKind], tuple[dt.datetime, dt.datetime]]:
    return {
        (s.booking_id, s.leg, s.kind): (s.promised_from, s.promised_to)
        for r in day.rounds
        for s in r.stops
        if s.promised_from is not None and s.promised_to is not None
    }


def summarize(plan: Plan, bookings: dict[int, Booking]) -> dict[str, Any]:
    """The figures the day page and the CLI show (JSON-ready)."""
    longest: dict[str, Any] = {"minutes": 0.0, "booking_id": None}
    passengers: set[int] = set()
    for planned in plan.rounds:
        picked: dict[tuple[int, Leg], float] = {}
        for stop in planned.stops:
            passengers.add(stop.booking_id)
            if stop.kind is StopKind.pickup:
                picked[(stop.booking_id, stop.leg)] = stop.departure
            elif (stop.booking_id, stop.leg) in picked:
                ride = stop.begin - picked[(stop.booking_id, stop.leg)]
                if ride > longest["minutes"]:
                    longest = {"minutes": round(ride, 1), "booking_id": stop.booking_id}
    hours = sum(r.end - r.start for r in plan.rounds) / 60
    return {
        "rounds": len(plan.rounds),
        "passengers": len(passengers),
        "distance_km": round(sum(r.distance_km for r in plan.rounds), 1),
        "hours": round(hours, 2),
        "longest_ride": longest,
        "unserved": [
            {
                "booking_id": u.booking_id,
                "leg": u.leg.value,
                "person": _name(bookings, u.booking_id),
                "reason": u.reason,
            }
            for u in plan.unserved
        ],
        "unlocated": [
            {
                "booking_id": booking_id,
                "person": _name(bookings, booking_id),
                "address": bookings[booking_id].pickup_address if booking_id in bookings else "",
                "message": "adresse introuvable : le centre de la commune est utilisé",
            }
            for booking_id in plan.unlocated
        ],
        "notes": list(plan.notes),
    }


def summary_words(summary: Mapping[str, Any]) -> str:
    """« 2 tournées, 5 passagers, 150,9 km » (and the trips left unserved, if any)."""
    text = (
        f"{plural(summary.get('rounds', 0), 'tournée', 'tournées')}, "
        f"{plural(summary.get('passengers', 0), 'passager', 'passagers')}, "
        f"{summary.get('distance_km', 0):.1f} km".replace(".", ",")
    )
    unserved = len(summary.get("unserved", []))
    if unserved:
        text += f", {plural(unserved, 'trajet non servi', 'trajets non servis')}"
    return text


def _name(bookings: dict[int, Booking], booking_id: int) -> str:
    booking = bookings.get(booking_id)
    return booking.person.full_name if booking is not None else f"réservation {booking_id}"


# --- the background job's state -------------------------------------------------------------


def mark_job(
    day: TransportDay, status: JobStatus, *, progress: int | None = None, message: str = ""
) -> None:
    day.job_status = status
    if progress is not None:
        day.job_progress = max(0, min(100, progress))
    if message:
        day.job_message = message


# --- publishing ------------------------------------------------------------------------------


def promise_window(begin: dt.datetime, width_min: int) -> tuple[dt.datetime, dt.datetime]:
    """A `width_min` window around the planned pickup, on round five minutes when it can be.

    13:31 with 15 minutes gives 13:25 - 13:40: easy to say on the phone, and the planned time
    stays inside.
    """
    half = dt.timedelta(minutes=width_min / 2)
    start = begin - half
    if width_min >= 10:
        floored = start.replace(second=0, microsecond=0)
        floored -= dt.timedelta(minutes=floored.minute % 5)
        start = floored
    return start, start + dt.timedelta(minutes=width_min)


def publish_day(db: DbSession, day: TransportDay, now: dt.datetime) -> list[Notification]:
    """Publish the day: each pickup without a promise gets one; each person is told theirs."""
    settings = transport_settings(db, day.centre_id)
    newly: list[RoundStop] = []
    for round_ in day.rounds:
        round_.status = DayStatus.published
        for stop in round_.stops:
            if stop.kind is StopKind.pickup and stop.promised_from is None:
                stop.promised_from, stop.promised_to = promise_window(
                    stop.planned_begin, settings.promise_window_min
                )
                newly.append(stop)
    day.status = DayStatus.published
    day.published_at = now
    db.flush()
    # Published again after a rebuild: each driver whose rounds changed is told (once).
    notifications: list[Notification] = notify_changed_rounds(db, day, now)
    db.flush()
    for stop in newly:
        notifications.extend(notify_pickup(db, stop, now, NotificationKind.transport_planned))
    return notifications


def pickup_sentence(stop: RoundStop) -> str:
    """« prise en charge entre 13 h 25 et 13 h 40 »."""
    assert stop.promised_from is not None and stop.promised_to is not None
    return (
        f"prise en charge entre {format_time(stop.promised_from)} "
        f"et {format_time(stop.promised_to)}"
    )


def notify_pickup(
    db: DbSession, stop: RoundStop, now: dt.datetime, kind: NotificationKind
) -> list[Notification]:
    booking = stop.booking
    where = "à domicile" if stop.leg is Leg.outbound else "à la sortie de la séance"
    leg = "Aller" if stop.leg is Leg.outbound else "Retour"
    changed = kind is NotificationKind.transport_changed
    subject = (
        f"{'Transport modifié' if changed else 'Transport'} : {booking.session.activity.title}"
    )
    body = (
        f"{leg} pour {booking.person.full_name}, {format_date(stop.planned_begin.date())} : "
        f"{pickup_sentence(stop)} ({where}, {stop.address}).\n"
        f"Séance : {describe_session(booking.session)}."
    )
    return notify_person(
        db,
        person=booking.person,
        kind=kind,
        subject=subject,
        body=body,
        now=now,
        booking=booking,
        session=booking.session,
        call_if_no_email=changed,
    )


def promised_pickups(db: DbSession, booking_ids: Iterable[int]) -> dict[int, list[RoundStop]]:
    """Published pickups of these bookings (for the carer's pages), outbound first."""
    ids = list(booking_ids)
    if not ids:
        return {}
    stops = db.scalars(
        select(RoundStop)
        .join(Round, RoundStop.round_id == Round.id)
        .where(
            RoundStop.booking_id.in_(ids),
            RoundStop.kind == StopKind.pickup,
            RoundStop.promised_from.is_not(None),
            Round.status == DayStatus.published,
        )
        .order_by(RoundStop.planned_begin)
    )
    found: dict[int, list[RoundStop]] = {}
    for stop in stops:
        found.setdefault(stop.booking_id, []).append(stop)
    return found


def planned_stops(day: TransportDay) -> dict[tuple[int, Leg, StopKind], RoundStop]:
    return {(s.booking_id, s.leg, s.kind): s for r in day.rounds for s in r.stops}


@dataclass(frozen=True)
class Change:
    """What a re-plan changed for one pickup, in French for the coordinator."""

    booking_id: int
    leg: Leg
    text: str


def diff_pickups(
    before: dict[tuple[int, Leg, StopKind], tuple[int, dt.datetime]],
    day: TransportDay,
) -> list[Change]:
    """Compare (vehicle, begin) of each pickup before and after a re-plan."""
    changes: list[Change] = []
    after = {
        key: (stop.round.vehicle_id, stop.planned_begin)
        for key, stop in planned_stops(day).items()
        if key[2] is StopKind.pickup
    }
    for key, (vehicle, begin) in before.items():
        if key[2] is not StopKind.pickup:
            continue
        booking_id, leg, _ = key
        if key not in after:
            changes.append(Change(booking_id, leg, "ne fait plus partie des tournées"))
            continue
        new_vehicle, new_begin = after[key]
        moved = abs((new_begin - begin).total_seconds()) / 60
        if new_vehicle != vehicle:
            changes.append(Change(booking_id, leg, "change de véhicule"))
        elif moved >= 1:
            changes.append(
                Change(
                    booking_id,
                    leg,
                    f"passage à {format_time(new_begin)} au lieu de {format_time(begin)}",
                )
            )
    for key in after.keys() - before.keys():
        changes.append(Change(key[0], key[1], "ajouté(e) aux tournées"))
    return changes


def snapshot(day: TransportDay) -> dict[tuple[int, Leg, StopKind], tuple[int, dt.datetime]]:
    return {key: (s.round.vehicle_id, s.planned_begin) for key, s in planned_stops(day).items()}


def vehicles_of(db: DbSession, centre_id: int) -> list[Vehicle]:
    return list(
        db.scalars(select(Vehicle).where(Vehicle.centre_id == centre_id).order_by(Vehicle.name))
    )


def rounded_km(value: float) -> float:
    return math.floor(value * 10 + 0.5) / 10
