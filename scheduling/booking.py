"""Booking, cancelling and the waitlist.

Seats and wheelchair places are never overbooked, whatever the concurrency: every change to a
session's bookings first locks the session row (``SELECT … FOR UPDATE`` on PostgreSQL; on
SQLite every transaction starts with ``BEGIN IMMEDIATE``, see ``scheduling.db``), then
recounts what the bookings take, inside the lock, from the database.

Use-cases flush and never commit: the caller's transaction (the web request) commits.
"""

from __future__ import annotations

import datetime as dt
import enum
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import selectinload

from scheduling.models import (
    ACTIVE_BOOKING_STATUSES,
    SEAT_HOLDING_STATUSES,
    ActivitySession,
    Booking,
    BookingStatus,
    Mobility,
    Notification,
    NotificationKind,
    Person,
    SessionSeries,
    SessionStatus,
    User,
)
from scheduling.notifications import (
    describe_session,
    format_when,
    notify_booking,
    notify_person,
    notify_promoted,
)
from scheduling.people import can_see_person, visible_persons_query
from scheduling.policy import (
    Load,
    booking_refusal,
    capacity_of,
    fits,
    load_of,
    promotable,
    remaining,
    request_refusal,
)


class BookingResult(enum.StrEnum):
    confirmed = "confirmed"
    waitlisted = "waitlisted"
    refused = "refused"


@dataclass(frozen=True)
class BookingOutcome:
    """What became of a booking request. ``reason`` (French) says why it was refused."""

    result: BookingResult
    booking: Booking | None = None
    session: ActivitySession | None = None
    reason: str | None = None
    waitlist_position: int | None = None
    notifications: tuple[Notification, ...] = ()

    @property
    def confirmed(self) -> bool:
        return self.result is BookingResult.confirmed

    @property
    def waitlisted(self) -> bool:
        return self.result is BookingResult.waitlisted

    @property
    def refused(self) -> bool:
        return self.result is BookingResult.refused

    @property
    def message(self) -> str:
        """A French sentence for the confirmation page or a flash message."""
        if self.booking is None or self.result is BookingResult.refused:
            return self.reason or "La réservation n'a pas pu être enregistrée."
        name = self.booking.person.full_name
        session = self.booking.session
        if self.result is BookingResult.waitlisted:
            return (
                f"La séance est complète : {name} est inscrit(e) sur la liste d'attente "
                f"(position {self.waitlist_position})."
            )
        return (
            f"Réservation confirmée pour {name} : {session.activity.title}, "
            f"{format_when(session.starts_at)}."
        )


@dataclass(frozen=True)
class CancellationOutcome:
    """A cancelled booking and the waitlisted bookings it let in (their carers are told)."""

    cancelled: Booking | None = None
    promoted: tuple[Booking, ...] = ()
    reason: str | None = None
    notifications: tuple[Notification, ...] = ()

    @property
    def ok(self) -> bool:
        return self.cancelled is not None

    @property
    def message(self) -> str:
        if self.cancelled is None:
            return self.reason or "La réservation n'a pas pu être annulée."
        return f"La réservation de {self.cancelled.person.full_name} est annulée."


@dataclass(frozen=True)
class CycleOutcome:
    """One outcome per remaining session of a series, in date order."""

    outcomes: tuple[BookingOutcome, ...] = ()
    reason: str | None = None
    notifications: tuple[Notification, ...] = ()

    @property
    def confirmed(self) -> tuple[BookingOutcome, ...]:
        return tuple(o for o in self.outcomes if o.confirmed)

    @property
    def waitlisted(self) -> tuple[BookingOutcome, ...]:
        return tuple(o for o in self.outcomes if o.waitlisted)

    @property
    def refused(self) -> tuple[BookingOutcome, ...]:
        return tuple(o for o in self.outcomes if o.refused)


def _refused(reason: str, session: ActivitySession | None = None) -> BookingOutcome:
    return BookingOutcome(result=BookingResult.refused, session=session, reason=reason)


# --- reading --------------------------------------------------------------------------------


def lock_session(db: DbSession, *, centre_id: int, session_id: int) -> ActivitySession | None:
    """Load the session of this centre, locked until the transaction ends, with fresh values."""
    return db.scalar(
        select(ActivitySession)
        .where(ActivitySession.id == session_id, ActivitySession.centre_id == centre_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def get_session(db: DbSession, *, centre_id: int, session_id: int) -> ActivitySession | None:
    """The session if it belongs to ``centre_id`` (else None: the page answers 404)."""
    return db.scalar(
        select(ActivitySession).where(
            ActivitySession.id == session_id, ActivitySession.centre_id == centre_id
        )
    )


def _taken_query() -> Select[int, Any, Any]:
    wheelchairs = case((Booking.mobility == Mobility.wheelchair, 1), else_=0)
    return select(
        Booking.session_id,
        func.coalesce(func.sum(1 + Booking.companions), 0),
        func.coalesce(func.sum(wheelchairs), 0),
    ).where(Booking.status.in_(SEAT_HOLDING_STATUSES))


def taken_load(db: DbSession, session_id: int) -> Load:
    """Seats and wheelchair places the session's bookings hold, counted by the database."""
    row = db.execute(
        _taken_query().where(Booking.session_id == session_id).group_by(Booking.session_id)
    ).first()
    if row is None:
        return Load()
    return Load(int(row[1]), int(row[2]))


def seats_left(db: DbSession, session: ActivitySession) -> Load:
    """Seats and wheelchair places still free (for display; booking recounts under lock)."""
    return remaining(capacity_of(session), taken_load(db, session.id))


def seats_left_by_session(db: DbSession, sessions: Iterable[ActivitySession]) -> dict[int, Load]:
    """``seats_left`` for many sessions in one query (the agenda)."""
    sessions = list(sessions)
    ids = [s.id for s in sessions]
    taken: dict[int, Load] = {}
    if ids:
        rows = db.execute(
            _taken_query().where(Booking.session_id.in_(ids)).group_by(Booking.session_id)
        )
        taken = {int(r[0]): Load(int(r[1]), int(r[2])) for r in rows}
    return {s.id: remaining(capacity_of(s), taken.get(s.id, Load())) for s in sessions}


def waitlist(db: DbSession, session_id: int) -> list[Booking]:
    """The session's waitlist, first come first served (created_at, then id)."""
    return list(
        db.scalars(
            select(Booking)
            .where(Booking.session_id == session_id, Booking.status == BookingStatus.waitlisted)
            .order_by(Booking.created_at, Booking.id)
            .execution_options(populate_existing=True)
        )
    )


def waitlist_position(db: DbSession, booking: Booking) -> int | None:
    """1 for the first in line; None when the booking is not waitlisted."""
    if booking.status is not BookingStatus.waitlisted:
        return None
    ahead = db.scalar(
        select(func.count(Booking.id)).where(
            Booking.session_id == booking.session_id,
            Booking.status == BookingStatus.waitlisted,
            (Booking.created_at < booking.created_at)
            | ((Booking.created_at == booking.created_at) & (Booking.id < booking.id)),
        )
    )
    return int(ahead or 0) + 1


def roster(db: DbSession, *, centre_id: int, session_id: int) -> list[Booking]:
    """Bookings holding a seat by last name, then the waitlist in order: the sign-in sheet."""
    holding = db.scalars(
        select(Booking)
        .join(Booking.person)
        .where(
            Booking.session_id == session_id,
            Booking.centre_id == centre_id,
            Booking.status.in_(SEAT_HOLDING_STATUSES),
        )
        .options(selectinload(Booking.person))
        .order_by(Person.last_name, Person.first_name, Booking.id)
    )
    waiting = [b for b in waitlist(db, session_id) if b.centre_id == centre_id]
    return [*holding, *waiting]


def bookings_visible_to(
    db: DbSession,
    user: User,
    *,
    since: dt.datetime | None = None,
    include_cancelled: bool = False,
) -> list[Booking]:
    """Bookings of the persons ``user`` may see ("Mes réservations"), by session start."""
    persons = visible_persons_query(user).with_only_columns(Person.id)
    query = (
        select(Booking)
        .join(Booking.session)
        .where(Booking.centre_id == user.centre_id, Booking.person_id.in_(persons))
        .order_by(ActivitySession.starts_at, Booking.id)
    )
    if since is not None:
        query = query.where(ActivitySession.starts_at >= since)
    if not include_cancelled:
        query = query.where(Booking.status != BookingStatus.cancelled)
    return list(db.scalars(query))


def get_booking_for(db: DbSession, user: User, booking_id: int) -> Booking | None:
    """The booking if ``user`` may see its person, else None (the page answers 404)."""
    booking = db.scalar(
        select(Booking).where(Booking.id == booking_id, Booking.centre_id == user.centre_id)
    )
    if booking is None or not can_see_person(user, booking.person):
        return None
    return booking


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def default_pickup_address(person: Person) -> str:
    """The person's address with postcode and commune, as a driver needs it."""
    commune = person.commune
    address = person.address.strip()
    if not address:
        return f"{commune.postcode} {commune.name}"
    if _fold(commune.name) in _fold(address):
        return address
    return f"{address}, {commune.postcode} {commune.name}"


# --- changing -------------------------------------------------------------------------------


def book(
    db: DbSession,
    *,
    session_id: int,
    person_id: int,
    actor: User,
    now: dt.datetime,
    companions: int = 0,
    transport_out: bool = False,
    transport_back: bool = False,
    pickup_address: str | None = None,
) -> BookingOutcome:
    """Book a seat for a person: confirmed if it fits, else waitlisted, or refused (why)."""
    return _book(
        db,
        session_id=session_id,
        person_id=person_id,
        actor=actor,
        now=now,
        companions=companions,
        transport_out=transport_out,
        transport_back=transport_back,
        pickup_address=pickup_address,
        notify=True,
    )


def _book(
    db: DbSession,
    *,
    session_id: int,
    person_id: int,
    actor: User,
    now: dt.datetime,
    companions: int,
    transport_out: bool,
    transport_back: bool,
    pickup_address: str | None,
    notify: bool,
) -> BookingOutcome:
    session = lock_session(db, centre_id=actor.centre_id, session_id=session_id)
    if session is None:
        return _refused("Cette séance n'existe pas.")
    person = db.scalar(
        select(Person).where(Person.id == person_id, Person.centre_id == actor.centre_id)
    )
    if person is None or not can_see_person(actor, person):
        return _refused("Vous ne pouvez pas réserver pour cette personne.", session)
    reason = booking_refusal(session, now) or request_refusal(
        session,
        companions=companions,
        mobility=person.mobility,
        transport_out=transport_out,
        transport_back=transport_back,
    )
    if reason is not None:
        return _refused(reason, session)
    existing = db.scalar(
        select(Booking).where(
            Booking.session_id == session.id,
            Booking.person_id == person.id,
            Booking.status.in_(ACTIVE_BOOKING_STATUSES),
        )
    )
    if existing is not None:
        if existing.status is BookingStatus.waitlisted:
            return _refused(
                f"{person.full_name} est déjà sur la liste d'attente de cette séance.", session
            )
        return _refused(f"{person.full_name} est déjà inscrit(e) à cette séance.", session)

    needed = load_of(companions, person.mobility)
    status = (
        BookingStatus.confirmed
        if fits(capacity_of(session), taken_load(db, session.id), needed)
        else BookingStatus.waitlisted
    )
    needs_transport = transport_out or transport_back
    address = (pickup_address or "").strip() or default_pickup_address(person)
    booking = Booking(
        centre_id=session.centre_id,
        session_id=session.id,
        person_id=person.id,
        status=status,
        companions=companions,
        transport_out=transport_out,
        transport_back=transport_back,
        pickup_address=address if needs_transport else (pickup_address or "").strip(),
        mobility=person.mobility,
        booked_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    db.add(booking)
    db.flush()
    notifications = tuple(notify_booking(db, booking, now)) if notify else ()
    return BookingOutcome(
        result=(
            BookingResult.confirmed
            if status is BookingStatus.confirmed
            else BookingResult.waitlisted
        ),
        booking=booking,
        session=session,
        waitlist_position=waitlist_position(db, booking),
        notifications=notifications,
    )


def promote_waitlist(
    db: DbSession, session: ActivitySession, now: dt.datetime
) -> tuple[list[Booking], list[Notification]]:
    """Confirm waitlisted bookings that now fit, in order, skipping those that do not.

    The caller must hold the session lock (``lock_session``). Each promoted person (or their
    carers) gets a notification.
    """
    if session.status is SessionStatus.cancelled or session.starts_at <= now:
        return [], []
    chosen = promotable(capacity_of(session), taken_load(db, session.id), waitlist(db, session.id))
    notifications: list[Notification] = []
    for booking in chosen:
        booking.status = BookingStatus.confirmed
        booking.sequence += 1
        booking.updated_at = now
    db.flush()
    for booking in chosen:
        notifications.extend(notify_promoted(db, booking, now))
    return chosen, notifications


def cancel_booking(
    db: DbSession, *, booking_id: int, actor: User, now: dt.datetime
) -> CancellationOutcome:
    """Cancel a booking (or leave the waitlist); a freed seat promotes the waitlist."""
    booking = get_booking_for(db, actor, booking_id)
    if booking is None:
        return CancellationOutcome(reason="Cette réservation n'existe pas.")
    session = lock_session(db, centre_id=actor.centre_id, session_id=booking.session_id)
    if session is None:  # pragma: no cover - a booking always has its session
        return CancellationOutcome(reason="Cette séance n'existe pas.")
    db.refresh(booking)  # its status may have changed while we waited for the lock
    if booking.status is BookingStatus.cancelled:
        return CancellationOutcome(reason="Cette réservation est déjà annulée.")
    if booking.status not in (BookingStatus.confirmed, BookingStatus.waitlisted):
        return CancellationOutcome(reason="La présence a déjà été notée pour cette réservation.")
    if session.starts_at <= now:
        return CancellationOutcome(reason="Cette séance est déjà passée.")
    booking.status = BookingStatus.cancelled
    booking.cancelled_at = now
    booking.sequence += 1
    booking.updated_at = now
    db.flush()
    promoted, notifications = promote_waitlist(db, session, now)
    return CancellationOutcome(
        cancelled=booking, promoted=tuple(promoted), notifications=tuple(notifications)
    )


def remaining_sessions(
    db: DbSession, *, centre_id: int, series_id: int, now: dt.datetime
) -> list[ActivitySession]:
    """Sessions of the series still to come and not cancelled, in date order."""
    return list(
        db.scalars(
            select(ActivitySession)
            .where(
                ActivitySession.series_id == series_id,
                ActivitySession.centre_id == centre_id,
                ActivitySession.status == SessionStatus.scheduled,
                ActivitySession.starts_at > now,
            )
            .order_by(ActivitySession.starts_at, ActivitySession.id)
        )
    )


def join_cycle(
    db: DbSession,
    *,
    series_id: int,
    person_id: int,
    actor: User,
    now: dt.datetime,
    companions: int = 0,
    transport_out: bool = False,
    transport_back: bool = False,
    pickup_address: str | None = None,
) -> CycleOutcome:
    """Book every remaining session of a series; full ones put the person on their waitlist."""
    series = db.get(SessionSeries, series_id)
    if series is None or series.activity.centre_id != actor.centre_id:
        return CycleOutcome(reason="Ce cycle n'existe pas.")
    sessions = remaining_sessions(db, centre_id=actor.centre_id, series_id=series_id, now=now)
    if not sessions:
        return CycleOutcome(reason="Ce cycle n'a plus de séance à venir.")
    outcomes = tuple(
        _book(
            db,
            session_id=session.id,
            person_id=person_id,
            actor=actor,
            now=now,
            companions=companions,
            transport_out=transport_out,
            transport_back=transport_back,
            pickup_address=pickup_address,
            notify=False,
        )
        for session in sessions
    )
    notifications = _notify_cycle(db, outcomes, now)
    return CycleOutcome(outcomes=outcomes, notifications=tuple(notifications))


def _notify_cycle(
    db: DbSession, outcomes: tuple[BookingOutcome, ...], now: dt.datetime
) -> list[Notification]:
    """One e-mail for the whole cycle rather than one per session."""
    booked = [o.booking for o in outcomes if o.booking is not None]
    if not booked:
        return []
    person = booked[0].person
    lines = []
    for booking in booked:
        state = "liste d'attente" if booking.status is BookingStatus.waitlisted else "confirmée"
        lines.append(f"- {describe_session(booking.session)} : {state}")
    title = booked[0].session.activity.title
    return notify_person(
        db,
        person=person,
        kind=NotificationKind.booking_confirmed,
        subject=f"Inscription au cycle : {title}",
        body=f"Inscription de {person.full_name} au cycle « {title} » :\n" + "\n".join(lines),
        now=now,
        call_if_no_email=False,
    )
