"""Build the messages people must get, as Notification rows (an outbox).

Use-cases add them in the same transaction as the change they announce; the web shell sends
the e-mails after commit (setting ``sent_at``) and shows the phone calls to staff as a call
list (``done_at`` set when the call is made). Nothing here touches the network.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from scheduling.models import (
    ActivitySession,
    Booking,
    BookingStatus,
    Notification,
    NotificationChannel,
    NotificationKind,
    Person,
)

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def plural(count: int, singular: str, plural_form: str) -> str:
    """« 1 place », « 3 places » (French puts 0 in the singular)."""
    return f"{count} {singular if count in (0, 1) else plural_form}"


def format_date(day: dt.date) -> str:
    """« mardi 8 décembre 2026 »."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{WEEKDAYS[day.weekday()]} {number} {MONTHS[day.month - 1]} {day.year}"


def format_time(moment: dt.time | dt.datetime) -> str:
    """« 14 h 00 »."""
    return f"{moment.hour} h {moment.minute:02d}"


def format_when(moment: dt.datetime) -> str:
    """« mardi 8 décembre 2026 à 14 h 00 »."""
    return f"{format_date(moment.date())} à {format_time(moment)}"


def describe_session(session: ActivitySession) -> str:
    venue = session.venue
    where = f"{venue.name}, {venue.address}" if venue is not None else ""
    return f"« {session.activity.title} », {format_when(session.starts_at)}, {where}".rstrip(", ")


def email_recipients(person: Person) -> list[str]:
    """Addresses to write to about ``person``: their own, then their carers', no duplicates."""
    addresses: list[str] = []
    candidates = [person.email, *(carer.email for carer in person.carers if carer.active)]
    for address in candidates:
        if address and address.strip() and address.strip().lower() not in addresses:
            addresses.append(address.strip().lower())
    return addresses


def phone_to_call(person: Person) -> str:
    """The number staff should call about ``person``: theirs, else a carer's, else none."""
    if person.phone:
        return person.phone
    for carer in person.carers:
        if carer.active and carer.phone:
            return carer.phone
    return ""


def notify_person(
    db: DbSession,
    *,
    person: Person,
    kind: NotificationKind,
    subject: str,
    body: str,
    now: dt.datetime,
    booking: Booking | None = None,
    session: ActivitySession | None = None,
    call_if_no_email: bool = True,
) -> list[Notification]:
    """Add an e-mail per known address, or else one phone call to the staff's call list."""
    common = {
        "centre_id": person.centre_id,
        "person_id": person.id,
        "booking_id": booking.id if booking is not None else None,
        "session_id": session.id if session is not None else None,
        "kind": kind,
        "subject": subject,
        "body": body,
        "created_at": now,
    }
    notifications = [
        Notification(channel=NotificationChannel.email, recipient=address, **common)
        for address in email_recipients(person)
    ]
    if not notifications and call_if_no_email:
        notifications.append(
            Notification(
                channel=NotificationChannel.phone_call, recipient=phone_to_call(person), **common
            )
        )
    db.add_all(notifications)
    db.flush()
    return notifications


def notify_booking(db: DbSession, booking: Booking, now: dt.datetime) -> list[Notification]:
    """Confirm a new booking (or its place on the waitlist) by e-mail; no call is needed."""
    session, person = booking.session, booking.person
    if booking.status is BookingStatus.waitlisted:
        kind = NotificationKind.booking_waitlisted
        subject = f"Liste d'attente : {session.activity.title}"
        body = (
            f"{person.full_name} est inscrit(e) sur la liste d'attente de la séance "
            f"{describe_session(session)}.\nVous serez prévenu(e) si une place se libère."
        )
    else:
        kind = NotificationKind.booking_confirmed
        subject = f"Réservation confirmée : {session.activity.title}"
        body = f"La place de {person.full_name} est réservée : {describe_session(session)}."
        if booking.transport_out or booking.transport_back:
            body += (
                "\nTransport demandé depuis : "
                f"{booking.pickup_address}. L'heure de passage vous sera communiquée."
            )
    return notify_person(
        db,
        person=person,
        kind=kind,
        subject=subject,
        body=body,
        now=now,
        booking=booking,
        session=session,
        call_if_no_email=False,
    )


def notify_promoted(db: DbSession, booking: Booking, now: dt.datetime) -> list[Notification]:
    """Tell a person (and their carers) that a seat was freed for them."""
    session, person = booking.session, booking.person
    return notify_person(
        db,
        person=person,
        kind=NotificationKind.promoted_from_waitlist,
        subject=f"Une place s'est libérée : {session.activity.title}",
        body=(
            f"Bonne nouvelle : une place s'est libérée. La réservation de {person.full_name} "
            f"est confirmée : {describe_session(session)}."
        ),
        now=now,
        booking=booking,
        session=session,
    )


def notify_session_cancelled(
    db: DbSession, booking: Booking, now: dt.datetime
) -> list[Notification]:
    session, person = booking.session, booking.person
    reason = f"\nMotif : {session.cancel_reason}" if session.cancel_reason else ""
    return notify_person(
        db,
        person=person,
        kind=NotificationKind.session_cancelled,
        subject=f"Séance annulée : {session.activity.title}",
        body=(
            f"La séance {describe_session(session)} est annulée. "
            f"La réservation de {person.full_name} est donc annulée.{reason}"
        ),
        now=now,
        booking=booking,
        session=session,
    )


def notify_session_changed(db: DbSession, booking: Booking, now: dt.datetime) -> list[Notification]:
    session, person = booking.session, booking.person
    return notify_person(
        db,
        person=person,
        kind=NotificationKind.session_changed,
        subject=f"Séance modifiée : {session.activity.title}",
        body=(
            f"La séance réservée pour {person.full_name} a changé. "
            f"Nouvel horaire et lieu : {describe_session(session)}."
        ),
        now=now,
        booking=booking,
        session=session,
    )


def pending_emails(db: DbSession, centre_id: int) -> list[Notification]:
    """E-mails not sent yet, oldest first (the shell sends them and sets ``sent_at``)."""
    return list(
        db.scalars(
            select(Notification)
            .where(
                Notification.centre_id == centre_id,
                Notification.channel == NotificationChannel.email,
                Notification.sent_at.is_(None),
            )
            .order_by(Notification.created_at, Notification.id)
        )
    )


def call_list(db: DbSession, centre_id: int) -> list[Notification]:
    """Phone calls staff still have to make, oldest first."""
    return list(
        db.scalars(
            select(Notification)
            .where(
                Notification.centre_id == centre_id,
                Notification.channel == NotificationChannel.phone_call,
                Notification.done_at.is_(None),
            )
            .order_by(Notification.created_at, Notification.id)
        )
    )


def mark_call_done(
    db: DbSession, *, centre_id: int, notification_id: int, now: dt.datetime
) -> Notification | None:
    """Record that staff made the call; None if no such call in this centre."""
    notification = db.scalar(
        select(Notification).where(
            Notification.id == notification_id,
            Notification.centre_id == centre_id,
            Notification.channel == NotificationChannel.phone_call,
        )
    )
    if notification is not None and notification.done_at is None:
        notification.done_at = now
        db.flush()
    return notification
