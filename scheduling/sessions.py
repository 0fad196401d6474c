"""Activities and their sessions: one-off or recurring, edited, cancelled, attendance taken."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import selectinload

from scheduling.booking import lock_session, promote_waitlist, taken_load
from scheduling.models import (
    SEAT_HOLDING_STATUSES,
    Activity,
    ActivitySession,
    Audience,
    Booking,
    BookingStatus,
    Field,
    Frequency,
    Notification,
    SessionSeries,
    SessionStatus,
    User,
    Venue,
    series_rrule,
)
from scheduling.notifications import notify_session_cancelled, notify_session_changed
from scheduling.outcomes import Result, failed, succeeded
from scheduling.people import STAFF_ROLES, is_staff

# A series is generated ahead for at most this long: a cycle is planned season by season.
MAX_SERIES_DAYS = 366
MAX_SEATS = 500
NOT_STAFF = {"__all__": "Action réservée à l'équipe du centre."}


# --- activities -----------------------------------------------------------------------------


def _check_activity(title: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Indiquez le titre de l'activité."
    elif len(title.strip()) > 200:
        errors["title"] = "Le titre ne doit pas dépasser 200 caractères."
    return errors


def create_activity(
    db: DbSession,
    *,
    actor: User,
    title: str,
    field: Field,
    audience: Audience,
    description: str = "",
    active: bool = True,
) -> Result[Activity]:
    if not is_staff(actor):
        return failed(NOT_STAFF)
    errors = _check_activity(title)
    if errors:
        return failed(errors)
    activity = Activity(
        centre_id=actor.centre_id,
        title=title.strip(),
        description=description.strip(),
        field=field,
        audience=audience,
        active=active,
    )
    db.add(activity)
    db.flush()
    return succeeded(activity)


def get_activity(db: DbSession, *, centre_id: int, activity_id: int) -> Activity | None:
    return db.scalar(
        select(Activity).where(Activity.id == activity_id, Activity.centre_id == centre_id)
    )


def update_activity(
    db: DbSession,
    *,
    actor: User,
    activity_id: int,
    title: str,
    field: Field,
    audience: Audience,
    description: str = "",
    active: bool = True,
) -> Result[Activity]:
    if not is_staff(actor):
        return failed(NOT_STAFF)
    activity = get_activity(db, centre_id=actor.centre_id, activity_id=activity_id)
    if activity is None:
        return failed({"__all__": "Cette activité n'existe pas."})
    errors = _check_activity(title)
    if errors:
        return failed(errors)
    activity.title = title.strip()
    activity.description = description.strip()
    activity.field = field
    activity.audience = audience
    activity.active = active
    db.flush()
    return succeeded(activity)


# --- checks shared by one-off sessions, series and edits ------------------------------------


def _check_place_and_people(
    db: DbSession,
    actor: User,
    *,
    venue_id: int,
    seats: int,
    wheelchair_places: int,
    animator_id: int | None,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    venue = db.scalar(select(Venue).where(Venue.id == venue_id, Venue.centre_id == actor.centre_id))
    if venue is None:
        errors["venue_id"] = "Choisissez un lieu du centre."
    if seats < 1:
        errors["seats"] = "Indiquez au moins une place."
    elif seats > MAX_SEATS:
        errors["seats"] = f"Au plus {MAX_SEATS} places."
    if wheelchair_places < 0:
        errors["wheelchair_places"] = "Le nombre de places fauteuil ne peut pas être négatif."
    elif wheelchair_places > max(seats, 0):
        errors["wheelchair_places"] = "Pas plus de places fauteuil que de places."
    if animator_id is not None:
        animator = db.scalar(
            select(User).where(
                User.id == animator_id,
                User.centre_id == actor.centre_id,
                User.role.in_(STAFF_ROLES),
            )
        )
        if animator is None:
            errors["animator_id"] = "Choisissez un animateur du centre."
    return errors


def _check_times(
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    booking_deadline: dt.datetime | None,
    now: dt.datetime,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if starts_at <= now:
        errors["starts_at"] = "La séance ne peut pas commencer dans le passé."
    if ends_at <= starts_at:
        errors["ends_at"] = "La fin doit être après le début."
    if booking_deadline is not None and booking_deadline > starts_at:
        errors["booking_deadline"] = (
            "La date limite de réservation doit précéder le début de la séance."
        )
    return errors


# --- one-off sessions -----------------------------------------------------------------------


def create_session(
    db: DbSession,
    *,
    actor: User,
    now: dt.datetime,
    activity_id: int,
    venue_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    seats: int,
    wheelchair_places: int = 0,
    animator_id: int | None = None,
    booking_deadline: dt.datetime | None = None,
    transport_offered: bool = False,
) -> Result[ActivitySession]:
    """Create a one-off session of an activity."""
    if not is_staff(actor):
        return failed(NOT_STAFF)
    activity = get_activity(db, centre_id=actor.centre_id, activity_id=activity_id)
    if activity is None:
        return failed({"activity_id": "Cette activité n'existe pas."})
    errors = _check_place_and_people(
        db,
        actor,
        venue_id=venue_id,
        seats=seats,
        wheelchair_places=wheelchair_places,
        animator_id=animator_id,
    )
    errors |= _check_times(
        starts_at=starts_at, ends_at=ends_at, booking_deadline=booking_deadline, now=now
    )
    if errors:
        return failed(errors)
    session = ActivitySession(
        centre_id=actor.centre_id,
        activity_id=activity.id,
        venue_id=venue_id,
        starts_at=starts_at,
        ends_at=ends_at,
        seats=seats,
        wheelchair_places=wheelchair_places,
        animator_id=animator_id,
        booking_deadline=booking_deadline,
        transport_offered=transport_offered,
        status=SessionStatus.scheduled,
        updated_at=now,
    )
    db.add(session)
    db.flush()
    return succeeded(session)


# --- recurring series -----------------------------------------------------------------------


def rrule_text(frequency: Frequency, first: dt.datetime, until: dt.date) -> str:
    """The RFC 5545 RRULE value (no DTSTART) of a series, for the iCal feeds."""
    text = str(series_rrule(frequency, first, until))
    return next(line for line in text.splitlines() if line.startswith("RRULE:"))[len("RRULE:") :]


def occurrence_dates(
    frequency: Frequency,
    first_date: dt.date,
    until_date: dt.date,
    excluded_dates: Iterable[dt.date] = (),
) -> list[dt.date]:
    """Dates of a series' occurrences, excluded dates removed."""
    excluded = set(excluded_dates)
    first = dt.datetime.combine(first_date, dt.time())
    return [
        moment.date()
        for moment in series_rrule(frequency, first, until_date)
        if moment.date() not in excluded
    ]


def create_series(
    db: DbSession,
    *,
    actor: User,
    now: dt.datetime,
    activity_id: int,
    frequency: Frequency,
    first_date: dt.date,
    until_date: dt.date,
    start_time: dt.time,
    end_time: dt.time,
    venue_id: int,
    seats: int,
    wheelchair_places: int = 0,
    animator_id: int | None = None,
    transport_offered: bool = False,
    booking_deadline_hours: int | None = None,
    excluded_dates: Iterable[dt.date] = (),
) -> Result[SessionSeries]:
    """Create a recurring series and all its occurrences (``series.sessions``)."""
    if not is_staff(actor):
        return failed(NOT_STAFF)
    activity = get_activity(db, centre_id=actor.centre_id, activity_id=activity_id)
    if activity is None:
        return failed({"activity_id": "Cette activité n'existe pas."})
    errors = _check_place_and_people(
        db,
        actor,
        venue_id=venue_id,
        seats=seats,
        wheelchair_places=wheelchair_places,
        animator_id=animator_id,
    )
    if end_time <= start_time:
        errors["end_time"] = "La fin doit être après le début."
    if booking_deadline_hours is not None and booking_deadline_hours < 0:
        errors["booking_deadline_hours"] = "Le délai de réservation ne peut pas être négatif."
    if until_date < first_date:
        errors["until_date"] = "La date de fin doit suivre la date de début."
    elif (until_date - first_date).days > MAX_SERIES_DAYS:
        errors["until_date"] = "Une série dure au plus un an."
    if dt.datetime.combine(first_date, start_time) <= now:
        errors["first_date"] = "La première séance ne peut pas être dans le passé."
    excluded = sorted(set(excluded_dates))
    dates = [] if errors else occurrence_dates(frequency, first_date, until_date, excluded)
    if not errors and not dates:
        errors["excluded_dates"] = "Aucune séance ne reste entre ces dates."
    if errors:
        return failed(errors)

    first = dt.datetime.combine(first_date, start_time)
    series = SessionSeries(
        activity_id=activity.id,
        frequency=frequency,
        first_date=first_date,
        until_date=until_date,
        start_time=start_time,
        end_time=end_time,
        excluded_dates=[day.isoformat() for day in excluded],
        rrule_text=rrule_text(frequency, first, until_date),
        venue_id=venue_id,
        seats=seats,
        wheelchair_places=wheelchair_places,
        animator_id=animator_id,
        transport_offered=transport_offered,
        booking_deadline_hours=booking_deadline_hours,
    )
    db.add(series)
    for day in dates:
        starts_at = dt.datetime.combine(day, start_time)
        deadline = (
            starts_at - dt.timedelta(hours=booking_deadline_hours)
            if booking_deadline_hours is not None
            else None
        )
        series.sessions.append(
            ActivitySession(
                centre_id=actor.centre_id,
                activity_id=activity.id,
                venue_id=venue_id,
                starts_at=starts_at,
                ends_at=dt.datetime.combine(day, end_time),
                seats=seats,
                wheelchair_places=wheelchair_places,
                animator_id=animator_id,
                booking_deadline=deadline,
                transport_offered=transport_offered,
                status=SessionStatus.scheduled,
                updated_at=now,
            )
        )
    db.flush()
    return succeeded(series)


def get_series(db: DbSession, *, centre_id: int, series_id: int) -> SessionSeries | None:
    return db.scalar(
        select(SessionSeries)
        .join(SessionSeries.activity)
        .where(SessionSeries.id == series_id, Activity.centre_id == centre_id)
    )


# --- editing and cancelling one session (or one occurrence of a series) ---------------------


@dataclass(frozen=True)
class SessionChange:
    """An edited or cancelled session, with what it did to bookings.

    ``affected``: bookings cancelled with the session (or told about a new time or place);
    ``promoted``: waitlisted bookings confirmed because seats were added.
    """

    session: ActivitySession | None = None
    errors: Mapping[str, str] = dataclasses.field(default_factory=dict)
    affected: tuple[Booking, ...] = ()
    promoted: tuple[Booking, ...] = ()
    notifications: tuple[Notification, ...] = ()

    @property
    def ok(self) -> bool:
        return self.session is not None and not self.errors

    @property
    def message(self) -> str:
        return " ".join(self.errors.values())


def _live_bookings(db: DbSession, session_id: int) -> list[Booking]:
    return list(
        db.scalars(
            select(Booking)
            .where(
                Booking.session_id == session_id,
                Booking.status.in_((BookingStatus.confirmed, BookingStatus.waitlisted)),
            )
            .order_by(Booking.created_at, Booking.id)
            .execution_options(populate_existing=True)
        )
    )


def _lock_editable(
    db: DbSession, actor: User, session_id: int, now: dt.datetime
) -> tuple[ActivitySession | None, dict[str, str]]:
    if not is_staff(actor):
        return None, dict(NOT_STAFF)
    session = lock_session(db, centre_id=actor.centre_id, session_id=session_id)
    if session is None:
        return None, {"__all__": "Cette séance n'existe pas."}
    if session.status is SessionStatus.cancelled:
        return None, {"__all__": "Cette séance est déjà annulée."}
    if session.starts_at <= now:
        return None, {"__all__": "Cette séance est déjà passée."}
    return session, {}


def edit_occurrence(
    db: DbSession,
    *,
    actor: User,
    now: dt.datetime,
    session_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    venue_id: int,
    seats: int,
    wheelchair_places: int,
    animator_id: int | None,
    booking_deadline: dt.datetime | None,
    transport_offered: bool,
) -> SessionChange:
    """Change one session (the others of its series stay as they are).

    Seats cannot go below what is already booked. Added seats promote the waitlist; a new
    time or place is announced to everyone booked.
    """
    session, errors = _lock_editable(db, actor, session_id, now)
    if session is None:
        return SessionChange(errors=errors)
    errors = _check_place_and_people(
        db,
        actor,
        venue_id=venue_id,
        seats=seats,
        wheelchair_places=wheelchair_places,
        animator_id=animator_id,
    )
    errors |= _check_times(
        starts_at=starts_at, ends_at=ends_at, booking_deadline=booking_deadline, now=now
    )
    taken = taken_load(db, session.id)
    if "seats" not in errors and seats < taken.seats:
        errors["seats"] = (
            f"{taken.seats} places sont déjà réservées : impossible de descendre en dessous."
        )
    if "wheelchair_places" not in errors and wheelchair_places < taken.wheelchair_places:
        errors["wheelchair_places"] = (
            f"{taken.wheelchair_places} places fauteuil sont déjà réservées : "
            "impossible de descendre en dessous."
        )
    if not transport_offered and session.transport_offered:
        booked_with_transport = [
            b for b in _live_bookings(db, session.id) if b.transport_out or b.transport_back
        ]
        if booked_with_transport:
            errors["transport_offered"] = (
                "Des personnes ont déjà demandé le transport : "
                "annulez d'abord leur demande de transport."
            )
    if errors:
        return SessionChange(errors=errors)

    moved = (starts_at, ends_at, venue_id) != (session.starts_at, session.ends_at, session.venue_id)
    _mark_changed(
        session,
        now,
        changed=moved
        or (seats, wheelchair_places, animator_id, booking_deadline, transport_offered)
        != (
            session.seats,
            session.wheelchair_places,
            session.animator_id,
            session.booking_deadline,
            session.transport_offered,
        ),
    )
    session.starts_at = starts_at
    session.ends_at = ends_at
    session.venue_id = venue_id
    session.seats = seats
    session.wheelchair_places = wheelchair_places
    session.animator_id = animator_id
    session.booking_deadline = booking_deadline
    session.transport_offered = transport_offered
    db.flush()
    db.refresh(session, ["venue"])
    promoted, notifications = promote_waitlist(db, session, now)
    affected: list[Booking] = []
    if moved:
        affected = [
            b for b in _live_bookings(db, session.id) if b.status is BookingStatus.confirmed
        ]
        for booking in affected:
            if booking not in promoted:
                notifications.extend(notify_session_changed(db, booking, now))
    return SessionChange(
        session=session,
        affected=tuple(affected),
        promoted=tuple(promoted),
        notifications=tuple(notifications),
    )


# The DOMAIN.md name for a one-off session's edit is the same operation.
edit_session = edit_occurrence


def cancel_session(
    db: DbSession, *, actor: User, now: dt.datetime, session_id: int, reason: str
) -> SessionChange:
    """Cancel a session: its bookings are cancelled and every booked person is told.

    Returns the affected bookings (confirmed and waitlisted ones).
    """
    if not reason.strip():
        return SessionChange(errors={"reason": "Indiquez le motif de l'annulation."})
    session, errors = _lock_editable(db, actor, session_id, now)
    if session is None:
        return SessionChange(errors=errors)
    _mark_changed(session, now)
    session.status = SessionStatus.cancelled
    session.cancel_reason = reason.strip()
    affected = _live_bookings(db, session.id)
    for booking in affected:
        booking.status = BookingStatus.cancelled
        booking.cancelled_at = now
        booking.sequence += 1
        booking.updated_at = now
    db.flush()
    notifications: list[Notification] = []
    for booking in affected:
        notifications.extend(notify_session_cancelled(db, booking, now))
    return SessionChange(
        session=session, affected=tuple(affected), notifications=tuple(notifications)
    )


# Cancelling one occurrence of a series is cancelling that session; the others stay.
cancel_occurrence = cancel_session


def reinstate_session(
    db: DbSession, *, actor: User, now: dt.datetime, session_id: int
) -> SessionChange:
    """Put a cancelled session back on the agenda (a cancellation made by mistake).

    Its bookings stay cancelled: everyone was told, so they book again if they still can.
    """
    if not is_staff(actor):
        return SessionChange(errors=dict(NOT_STAFF))
    session = lock_session(db, centre_id=actor.centre_id, session_id=session_id)
    if session is None:
        return SessionChange(errors={"__all__": "Cette séance n'existe pas."})
    if session.status is not SessionStatus.cancelled:
        return SessionChange(errors={"__all__": "Cette séance n'est pas annulée."})
    if session.starts_at <= now:
        return SessionChange(errors={"__all__": "Cette séance est déjà passée."})
    _mark_changed(session, now)
    session.status = SessionStatus.scheduled
    session.cancel_reason = None
    db.flush()
    return SessionChange(session=session)


def _mark_changed(session: ActivitySession, now: dt.datetime, *, changed: bool = True) -> None:
    """Count a change calendar subscribers must see (SEQUENCE), before the session moves.

    A series occurrence remembers the slot it was generated for: calendars know it by that.
    """
    if not changed:
        return
    if session.series_id is not None and session.series_slot is None:
        session.series_slot = session.starts_at
    session.sequence += 1
    session.updated_at = now


# --- attendance -----------------------------------------------------------------------------


class Attendance(enum.StrEnum):
    present = "present"
    excused = "excused"
    absent = "absent"


ATTENDANCE_STATUS = {
    Attendance.present: BookingStatus.attended,
    Attendance.excused: BookingStatus.excused,
    Attendance.absent: BookingStatus.no_show,
}


def set_attendance(
    db: DbSession,
    *,
    actor: User,
    now: dt.datetime,
    session_id: int,
    marks: Mapping[int, Attendance],
) -> Result[list[Booking]]:
    """Record who came: ``marks`` maps booking ids of the session to present/excused/absent."""
    if not is_staff(actor):
        return failed(NOT_STAFF)
    session = db.scalar(
        select(ActivitySession).where(
            ActivitySession.id == session_id, ActivitySession.centre_id == actor.centre_id
        )
    )
    if session is None:
        return failed({"__all__": "Cette séance n'existe pas."})
    if session.status is SessionStatus.cancelled:
        return failed({"__all__": "Cette séance est annulée."})
    if now.date() < session.starts_at.date():
        return failed({"__all__": "L'appel se fait le jour de la séance."})
    bookings = {
        b.id: b
        for b in db.scalars(
            select(Booking).where(
                Booking.session_id == session.id, Booking.status.in_(SEAT_HOLDING_STATUSES)
            )
        )
    }
    unknown = [booking_id for booking_id in marks if booking_id not in bookings]
    if unknown:
        return failed({"__all__": "Une des réservations n'appartient pas à cette séance."})
    for booking_id, mark in marks.items():
        bookings[booking_id].status = ATTENDANCE_STATUS[Attendance(mark)]
    db.flush()
    return succeeded([bookings[booking_id] for booking_id in marks])


# --- agenda ---------------------------------------------------------------------------------


def upcoming_sessions(
    db: DbSession,
    *,
    centre_id: int,
    now: dt.datetime,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    field: Field | None = None,
    audience: Audience | None = None,
    commune_id: int | None = None,
    include_cancelled: bool = True,
) -> list[ActivitySession]:
    """Sessions of the centre from now (or ``date_from``) to ``date_to`` inclusive, by start.

    Cancelled sessions are kept by default so the agenda can show them as cancelled.
    """
    start = now
    if date_from is not None:
        start = max(now, dt.datetime.combine(date_from, dt.time()))
    query = (
        select(ActivitySession)
        .join(ActivitySession.activity)
        .join(ActivitySession.venue)
        .where(
            ActivitySession.centre_id == centre_id,
            ActivitySession.starts_at >= start,
            Activity.active.is_(True),
        )
        .options(selectinload(ActivitySession.activity), selectinload(ActivitySession.venue))
        .order_by(ActivitySession.starts_at, ActivitySession.id)
    )
    if date_to is not None:
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time())
        query = query.where(ActivitySession.starts_at < end)
    if field is not None:
        query = query.where(Activity.field == field)
    if audience is not None:
        query = query.where(Activity.audience == audience)
    if commune_id is not None:
        query = query.where(Venue.commune_id == commune_id)
    if not include_cancelled:
        query = query.where(ActivitySession.status == SessionStatus.scheduled)
    return list(db.scalars(query))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlon = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def sort_by_distance(
    sessions: Iterable[ActivitySession], lat: float, lon: float
) -> list[ActivitySession]:
    """Nearest venue first, then by start time."""
    return sorted(
        sessions,
        key=lambda s: (round(distance_km(lat, lon, s.venue.lat, s.venue.lon), 1), s.starts_at),
    )
