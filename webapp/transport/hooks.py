"""What the booking pages call once a day's rounds are published: a late booking or a promoted
waitlist entry must fit without breaking a promise, a cancellation re-plans around the gap.

Used by webapp/bookings.py and webapp/animation/phone.py right after their use-case, inside the
same request transaction (the shell commits, then sends).
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app
from sqlalchemy.orm import Session

from scheduling.booking import CancellationOutcome
from scheduling.models import Booking, Notification
from scheduling.transport import pickup_sentence, promised_pickups
from scheduling.transport_models import Leg
from webapp.auth import centre_now
from webapp.geocoding import geocoder_for
from webapp.planning import fit_booking, replan_without

DEFAULT_FIT_TIME_LIMIT_S = 2.0


def _time_limit() -> float:
    return float(current_app.config.get("TRANSPORT_FIT_TIME_LIMIT", DEFAULT_FIT_TIME_LIMIT_S))


def after_booked(db: Session, booking: Booking, notifications: Sequence[Notification]) -> str:
    """Fit a confirmed booking's rides into a published day.

    Returns "" when it fits (or nothing is published yet). Otherwise the booking keeps its seat
    without transport, the coordinator sees why on the day page, and the returned message
    (also added to the confirmation e-mail) offers the seat without transport or another date.
    Fitted pickups get their promised window at once, also written in the confirmation.
    """
    outcome = fit_booking(db, booking, geocoder_for(), centre_now(), time_limit=_time_limit())
    if outcome.fits:
        lines = pickup_lines(db, booking)
        for notification in notifications:
            if lines and notification.booking_id == booking.id:
                notification.body += "\n" + "\n".join(lines)
        _send(outcome.notifications)
        return ""
    booking.transport_out = booking.transport_back = False
    db.flush()
    message = (
        f"Le transport ne peut pas être assuré ce jour-là : {outcome.reason}. "
        f"La place de {booking.person.full_name} est gardée, sans transport. "
        "Si ce n'est pas possible, annulez cette réservation et choisissez une autre date."
    )
    for notification in notifications:
        if notification.booking_id == booking.id:
            notification.body += "\n" + message
    return message


def after_cancelled(db: Session, outcome: CancellationOutcome) -> list[str]:
    """Re-plan the cancelled booking's day, then fit each promoted booking; return warnings."""
    if outcome.cancelled is None:
        return []
    replanned = replan_without(
        db, [outcome.cancelled], geocoder_for(), centre_now(), time_limit=_time_limit()
    )
    _send(replanned.notifications)
    warnings = []
    for promoted in outcome.promoted:
        warning = after_booked(db, promoted, outcome.notifications)
        if warning:
            warnings.append(warning)
    return warnings


def after_session_cancelled(db: Session, cancelled: Sequence[Booking]) -> None:
    """A cancelled session's passengers leave the rounds (their carers were already told)."""
    with_rides = [b for b in cancelled if b.needs_transport]
    outcome = replan_without(db, with_rides, geocoder_for(), centre_now(), time_limit=_time_limit())
    _send(outcome.notifications)


def pickup_lines(db: Session, booking: Booking) -> list[str]:
    """« Aller : prise en charge entre 13 h 25 et 13 h 40 », for each published pickup."""
    return [
        f"{'Aller' if stop.leg is Leg.outbound else 'Retour'} : {pickup_sentence(stop)}"
        for stop in promised_pickups(db, [booking.id]).get(booking.id, [])
    ]


def _send(notifications: Sequence[Notification]) -> None:
    from webapp.mail import send_notifications

    send_notifications(notifications)
