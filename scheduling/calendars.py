"""Private calendar feeds: their secret tokens, and what each feed carries.

A feed URL holds a token (``secrets.token_urlsafe(32)``: 256 bits, unguessable). Revoking
sets ``revoked_at``; renewing revokes and hands out a new one for the same scope. Rendering
the iCalendar text is the web shell's business (``webapp.ical``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import selectinload

from scheduling.models import (
    SEAT_HOLDING_STATUSES,
    Activity,
    ActivitySession,
    Booking,
    BookingStatus,
    CalendarToken,
    Driver,
    FeedKind,
    Field,
    Person,
    Role,
    SessionSeries,
    User,
    Venue,
)
from scheduling.outcomes import Result, failed, succeeded
from scheduling.people import is_staff, visible_persons_query
from scheduling.transport_models import DayStatus, Leg, Round, RoundStop, StopKind

# Feeds show this much of the past: a subscriber still sees last month's sessions.
PAST_DAYS = 30


# --- tokens ---------------------------------------------------------------------------------


def feed_kinds_for(user: User) -> list[FeedKind]:
    """The private feeds a user may subscribe to, by role."""
    if is_staff(user):
        return [FeedKind.animator]
    if user.role is Role.driver:
        return [FeedKind.driver]
    if user.role is Role.carer:
        return [FeedKind.carer]
    return []


def active_token(db: DbSession, token: str) -> CalendarToken | None:
    """The token's row if it exists and is not revoked (else the feed answers 404)."""
    if not token or len(token) > 64:
        return None
    return db.scalar(
        select(CalendarToken).where(
            CalendarToken.token == token, CalendarToken.revoked_at.is_(None)
        )
    )


def tokens_of(db: DbSession, user: User) -> list[CalendarToken]:
    """The user's own live feed tokens."""
    return list(
        db.scalars(
            select(CalendarToken)
            .where(
                CalendarToken.user_id == user.id,
                CalendarToken.person_id.is_(None),
                CalendarToken.revoked_at.is_(None),
            )
            .order_by(CalendarToken.id)
        )
    )


def person_tokens(db: DbSession, *, centre_id: int, person_id: int) -> list[CalendarToken]:
    """Live feed tokens staff gave for one person."""
    return list(
        db.scalars(
            select(CalendarToken)
            .where(
                CalendarToken.centre_id == centre_id,
                CalendarToken.person_id == person_id,
                CalendarToken.revoked_at.is_(None),
            )
            .order_by(CalendarToken.id)
        )
    )


def _new_token(
    db: DbSession,
    actor: User,
    now: dt.datetime,
    kind: FeedKind,
    user_id: int | None,
    person_id: int | None,
) -> CalendarToken:
    row = CalendarToken(
        centre_id=actor.centre_id,
        token=secrets.token_urlsafe(32),
        kind=kind,
        user_id=user_id,
        person_id=person_id,
        created_by_id=actor.id,
        created_at=now,
    )
    db.add(row)
    db.flush()
    return row


def create_my_token(
    db: DbSession, *, actor: User, now: dt.datetime, kind: FeedKind
) -> Result[CalendarToken]:
    """A feed of the actor's own agenda; an existing live one is returned as it is."""
    if kind not in feed_kinds_for(actor):
        return failed({"__all__": "Ce calendrier n'est pas disponible pour votre compte."})
    existing = [t for t in tokens_of(db, actor) if t.kind is kind]
    if existing:
        return succeeded(existing[0])
    return succeeded(_new_token(db, actor, now, kind, actor.id, None))


def create_person_token(
    db: DbSession, *, actor: User, now: dt.datetime, person_id: int
) -> Result[CalendarToken]:
    """Staff give a person without an account the link to their bookings."""
    if not is_staff(actor):
        return failed({"__all__": "Action réservée à l'équipe du centre."})
    person = db.scalar(
        select(Person).where(Person.id == person_id, Person.centre_id == actor.centre_id)
    )
    if person is None:
        return failed({"__all__": "Cette personne n'existe pas."})
    existing = person_tokens(db, centre_id=actor.centre_id, person_id=person.id)
    if existing:
        return succeeded(existing[0])
    return succeeded(_new_token(db, actor, now, FeedKind.person, None, person.id))


def _token_i_manage(db: DbSession, actor: User, token_id: int) -> CalendarToken | None:
    row = db.get(CalendarToken, token_id)
    if row is None or row.centre_id != actor.centre_id or row.revoked_at is not None:
        return None
    if row.user_id == actor.id and row.person_id is None:
        return row
    if row.person_id is not None and is_staff(actor):
        return row
    return None


def revoke_token(
    db: DbSession, *, actor: User, now: dt.datetime, token_id: int
) -> Result[CalendarToken]:
    """Stop a feed URL for good: subscribed calendars get 404 from now on."""
    row = _token_i_manage(db, actor, token_id)
    if row is None:
        return failed({"__all__": "Ce lien d'abonnement n'existe pas ou est déjà révoqué."})
    row.revoked_at = now
    db.flush()
    return succeeded(row)


def renew_token(
    db: DbSession, *, actor: User, now: dt.datetime, token_id: int
) -> Result[CalendarToken]:
    """Revoke a feed URL and give a new one for the same agenda (a link was shared too far)."""
    revoked = revoke_token(db, actor=actor, now=now, token_id=token_id)
    if not revoked.ok or revoked.value is None:
        return revoked
    old = revoked.value
    return succeeded(_new_token(db, actor, now, old.kind, old.user_id, old.person_id))


# --- what the feeds carry -------------------------------------------------------------------


def _since(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=PAST_DAYS)


def public_sessions(
    db: DbSession,
    *,
    centre_id: int,
    now: dt.datetime,
    commune_id: int | None = None,
    field: Field | None = None,
) -> list[ActivitySession]:
    """The centre's sessions from a month ago on, cancelled ones included, by start."""
    query = (
        select(ActivitySession)
        .join(ActivitySession.activity)
        .join(ActivitySession.venue)
        .where(
            ActivitySession.centre_id == centre_id,
            ActivitySession.starts_at >= _since(now),
            Activity.active.is_(True),
        )
        .options(
            selectinload(ActivitySession.activity),
            selectinload(ActivitySession.venue).selectinload(Venue.commune),
            selectinload(ActivitySession.series).selectinload(SessionSeries.sessions),
            selectinload(ActivitySession.series).selectinload(SessionSeries.activity),
            selectinload(ActivitySession.series).selectinload(SessionSeries.animator),
            selectinload(ActivitySession.series)
            .selectinload(SessionSeries.venue)
            .selectinload(Venue.commune),
            selectinload(ActivitySession.animator),
        )
        .order_by(ActivitySession.starts_at, ActivitySession.id)
    )
    if commune_id is not None:
        query = query.where(Venue.commune_id == commune_id)
    if field is not None:
        query = query.where(Activity.field == field)
    return list(db.scalars(query))


def led_sessions(db: DbSession, *, user: User, now: dt.datetime) -> list[ActivitySession]:
    """Sessions the user leads, from a month ago on."""
    return list(
        db.scalars(
            select(ActivitySession)
            .where(
                ActivitySession.centre_id == user.centre_id,
                ActivitySession.animator_id == user.id,
                ActivitySession.starts_at >= _since(now),
            )
            .options(
                selectinload(ActivitySession.activity),
                selectinload(ActivitySession.venue).selectinload(Venue.commune),
            )
            .order_by(ActivitySession.starts_at, ActivitySession.id)
        )
    )


@dataclass(frozen=True)
class Attendance:
    """How many a session holds, and when its bookings last changed."""

    seats_taken: int = 0
    waitlisted: int = 0
    last_change: dt.datetime | None = None


def attendance_of(db: DbSession, session_ids: Iterable[int]) -> dict[int, Attendance]:
    """Seats taken, waitlist length and last booking change, per session, in one query."""
    ids = list(session_ids)
    if not ids:
        return {}
    holding = Booking.status.in_(SEAT_HOLDING_STATUSES)
    waiting = Booking.status == BookingStatus.waitlisted
    rows = db.execute(
        select(
            Booking.session_id,
            func.sum(case((holding, 1 + Booking.companions), else_=0)),
            func.sum(case((waiting, 1), else_=0)),
            func.max(func.coalesce(Booking.updated_at, Booking.created_at)),
        )
        .where(Booking.session_id.in_(ids))
        .group_by(Booking.session_id)
    )
    return {
        int(session_id): Attendance(int(taken or 0), int(queued or 0), last)
        for session_id, taken, queued, last in rows
    }


def bookings_for_feed(db: DbSession, token: CalendarToken, *, now: dt.datetime) -> list[Booking]:
    """Bookings of a carer's (or one person's) feed, from a month ago on, cancelled included."""
    query = (
        select(Booking)
        .join(Booking.session)
        .where(
            Booking.centre_id == token.centre_id,
            ActivitySession.starts_at >= _since(now),
        )
        .options(
            selectinload(Booking.person),
            selectinload(Booking.session).selectinload(ActivitySession.activity),
            selectinload(Booking.session)
            .selectinload(ActivitySession.venue)
            .selectinload(Venue.commune),
            selectinload(Booking.session).selectinload(ActivitySession.animator),
        )
        .order_by(ActivitySession.starts_at, Booking.id)
    )
    if token.person_id is not None:
        query = query.where(Booking.person_id == token.person_id)
    else:
        user = token.user
        if user is None or not user.active:
            return []
        persons = visible_persons_query(user).with_only_columns(Person.id)
        query = query.where(Booking.person_id.in_(persons))
    return list(db.scalars(query))


@dataclass(frozen=True)
class Pickup:
    """A promised pickup window of a published round, for a carer's calendar."""

    leg: Leg
    promised_from: dt.datetime
    promised_to: dt.datetime
    address: str


def promised_pickups(db: DbSession, booking_ids: Iterable[int]) -> dict[int, list[Pickup]]:
    """The pickup windows promised to these bookings by published rounds, outbound first.

    The one place the carer's feed learns about rounds: extend here if promises change shape.
    """
    ids = list(booking_ids)
    if not ids:
        return {}
    rows = db.scalars(
        select(RoundStop)
        .join(RoundStop.round)
        .where(
            RoundStop.booking_id.in_(ids),
            RoundStop.kind == StopKind.pickup,
            RoundStop.promised_from.is_not(None),
            RoundStop.promised_to.is_not(None),
            Round.status == DayStatus.published,
        )
        .order_by(RoundStop.booking_id, RoundStop.planned_begin)
    )
    pickups: dict[int, list[Pickup]] = {}
    for stop in rows:
        assert stop.promised_from is not None and stop.promised_to is not None
        pickups.setdefault(stop.booking_id, []).append(
            Pickup(stop.leg, stop.promised_from, stop.promised_to, stop.address)
        )
    return pickups


def rounds_for_feed(db: DbSession, *, user: User, now: dt.datetime) -> list[Round]:
    """The driver's published rounds from a month ago on, with their stops."""
    drivers = select(Driver.id).where(Driver.user_id == user.id)
    return list(
        db.scalars(
            select(Round)
            .where(
                Round.centre_id == user.centre_id,
                Round.driver_id.in_(drivers),
                Round.status == DayStatus.published,
                Round.starts_at >= _since(now),
            )
            .options(selectinload(Round.stops), selectinload(Round.vehicle))
            .order_by(Round.starts_at, Round.id)
        )
    )
