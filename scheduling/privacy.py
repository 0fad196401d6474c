"""GDPR requests: export everything held about a person, and erase it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from scheduling import audit
from scheduling.booking import cancel_booking, default_pickup_address
from scheduling.models import (
    ActivitySession,
    Booking,
    BookingStatus,
    CalendarToken,
    Mobility,
    Notification,
    Person,
    Role,
    User,
)
from scheduling.outcomes import Result, failed, succeeded
from scheduling.people import get_person_for
from scheduling.transport_models import GeocodeEntry, Leg, RoundStop, StopKind, WelfareAlert

ERASING_ROLES = frozenset({Role.admin, Role.coordinator})


def export_person(db: DbSession, *, actor: User, person_id: int) -> dict[str, Any] | None:
    """Everything Navette holds about a person, as JSON-ready data; None if not visible."""
    person = get_person_for(db, actor, person_id)
    if person is None:
        return None
    bookings = db.scalars(
        select(Booking)
        .join(Booking.session)
        .where(Booking.person_id == person.id)
        .order_by(ActivitySession.starts_at, Booking.id)
    )
    notifications = db.scalars(
        select(Notification)
        .where(Notification.person_id == person.id)
        .order_by(Notification.created_at, Notification.id)
    )
    return {
        "personne": {
            "prénom": person.first_name,
            "nom": person.last_name,
            "téléphone": person.phone,
            "courriel": person.email,
            "adresse": person.address,
            "commune": person.commune.name,
            "latitude": person.lat,
            "longitude": person.lon,
            "mobilité": person.mobility.label,
            "accompagnement nécessaire": person.companion_needed,
            "consignes pour le chauffeur": person.driver_notes,
        },
        "aidants": [carer.display_name for carer in person.carers],
        "réservations": [
            {
                "activité": b.session.activity.title,
                "début": b.session.starts_at.isoformat(),
                "lieu": b.session.venue.name,
                "état": b.status.label,
                "accompagnants": b.companions,
                "transport aller": b.transport_out,
                "transport retour": b.transport_back,
                "adresse de prise en charge": b.pickup_address,
                "réservée le": b.created_at.isoformat(),
            }
            for b in bookings
        ],
        "messages": [
            {
                "date": n.created_at.isoformat(),
                "moyen": n.channel.label,
                "destinataire": n.recipient,
                "objet": n.subject,
            }
            for n in notifications
        ],
    }


def erased_name(person_id: int) -> str:
    """The last name an erased person is left with (the first is « Personne »)."""
    return f"effacée n° {person_id}"


def is_erased(person: Person) -> bool:
    return person.last_name == erased_name(person.id) and not person.address


def erase_person(db: DbSession, *, actor: User, person_id: int, now: dt.datetime) -> Result[Person]:
    """Erase a person on request: future bookings cancelled (the waitlist moves up), personal
    data blanked (welfare alerts' addresses and notes too), carers unlinked, messages deleted,
    her own account closed and blanked. Past bookings stay, anonymous, so the centre's activity
    figures remain true."""
    if not actor.active or actor.role not in ERASING_ROLES:
        return failed({"__all__": "Seule la coordination peut effacer une personne."})
    person = get_person_for(db, actor, person_id)
    if person is None:
        return failed({"__all__": "Cette personne n'existe pas."})
    # The log then says « effacée » rather than « modifiée », and forgets the person's account.
    audit.forget_person(db, person)
    future = db.scalars(
        select(Booking)
        .join(Booking.session)
        .where(
            Booking.person_id == person.id,
            Booking.status.in_((BookingStatus.confirmed, BookingStatus.waitlisted)),
            ActivitySession.starts_at > now,
        )
    ).all()
    for booking in future:
        cancel_booking(db, booking_id=booking.id, actor=actor, now=now)
    db.execute(delete(Notification).where(Notification.person_id == person.id))
    # A calendar link given for this person stops working (it answers 404).
    for token in db.scalars(
        select(CalendarToken).where(
            CalendarToken.person_id == person.id, CalendarToken.revoked_at.is_(None)
        )
    ):
        token.revoked_at = now
    _forget_cached_addresses(db, person)
    for booking in db.scalars(select(Booking).where(Booking.person_id == person.id)):
        booking.pickup_address = ""
    _forget_home_on_rounds(db, person)
    for account in db.scalars(select(User).where(User.person_id == person.id)):
        _close_own_account(account)
    person.carers.clear()
    person.first_name = "Personne"
    person.last_name = erased_name(person.id)
    person.phone = None
    person.email = None
    person.address = ""
    person.lat = None
    person.lon = None
    person.mobility = Mobility.walks
    person.companion_needed = False
    person.driver_notes = ""
    db.flush()
    return succeeded(person)


def _close_own_account(account: User) -> None:
    """The person's own account: it cannot sign in any more, and keeps nothing that names her.
    The row stays (the log's entries point to it, already relabelled by `audit.forget_person`)."""
    account.person_id = None
    account.active = False
    account.display_name = "Compte effacé"
    account.email = None
    account.phone = None
    # Unique, and not a name anyone signs in with; "!" is a hash no password matches.
    account.username = f"compte-efface-{account.id}"
    account.password_hash = "!"


def _forget_home_on_rounds(db: DbSession, person: Person) -> None:
    """Rounds and welfare alerts keep where the person lived: blank it. A home stop keeps the
    commune's centre as its place, so the day's distances and counts stay roughly true."""
    home_stops = db.scalars(
        select(RoundStop)
        .join(RoundStop.booking)
        .where(
            Booking.person_id == person.id,
            ((RoundStop.leg == Leg.outbound) & (RoundStop.kind == StopKind.pickup))
            | ((RoundStop.leg == Leg.back) & (RoundStop.kind == StopKind.dropoff)),
        )
    )
    for stop in home_stops:
        stop.address = ""
        stop.lat = person.commune.lat
        stop.lon = person.commune.lon
    for alert in db.scalars(select(WelfareAlert).where(WelfareAlert.person_id == person.id)):
        alert.address = ""
        alert.note = ""  # free text about her (« la clé est chez la voisine »)


def _forget_cached_addresses(db: DbSession, person: Person) -> None:
    """Drop the person's addresses from the geocoding cache, unless someone else's booking still
    picks up there (a couple at one address keeps the coordinates the coordinator typed)."""
    addresses = set(
        db.scalars(
            select(Booking.pickup_address).where(
                Booking.person_id == person.id, Booking.pickup_address != ""
            )
        )
    )
    if person.address.strip():
        addresses.add(default_pickup_address(person))
    still_used = set(
        db.scalars(
            select(Booking.pickup_address).where(
                Booking.person_id != person.id, Booking.pickup_address.in_(addresses)
            )
        )
    )
    db.execute(
        delete(GeocodeEntry).where(
            GeocodeEntry.centre_id == person.centre_id,
            GeocodeEntry.address.in_(addresses - still_used),
        )
    )
