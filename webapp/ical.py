"""iCalendar (RFC 5545) documents, returned as bytes.

Times in the database are naive wall-clock times of the centre's zone; events carry that zone
(TZID) with its VTIMEZONE, so a phone shows 14 h 30 in Dordogne whatever its own setting.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar

from scheduling.models import Booking, BookingStatus

PRODID = "-//Navette//Centre de ressources territorial//FR"


def booking_calendar(booking: Booking, *, zone: str, now_utc: dt.datetime, url: str) -> bytes:
    """One event for one booking: confirmed, tentative on the waitlist, or cancelled."""
    session = booking.session
    tz = ZoneInfo(zone)
    venue = session.venue
    event = icalendar.Event()
    event.add("uid", f"navette-booking-{booking.id}@{booking.centre_id}")
    event.add("dtstamp", now_utc)
    event.add("dtstart", session.starts_at.replace(tzinfo=tz))
    event.add("dtend", session.ends_at.replace(tzinfo=tz))
    event.add("summary", f"{session.activity.title} — {booking.person.full_name}")
    event.add(
        "location", f"{venue.name}, {venue.address}, {venue.commune.postcode} {venue.commune.name}"
    )
    description = [session.activity.description, f"Réservation : {url}"]
    if booking.status is BookingStatus.waitlisted:
        description.insert(0, "Sur la liste d'attente : pas encore de place.")
    if booking.needs_transport:
        description.insert(0, f"Transport demandé depuis : {booking.pickup_address}")
    event.add("description", "\n".join(d for d in description if d))
    event.add("url", url)
    event.add("status", _status(booking))
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add_component(event)
    year = session.starts_at.year
    calendar.add_missing_timezones(
        first_date=dt.date(year - 1, 1, 1), last_date=dt.date(year + 1, 12, 31)
    )
    ics: bytes = calendar.to_ical()
    return ics


def _status(booking: Booking) -> str:
    if booking.status is BookingStatus.cancelled or booking.session.is_cancelled:
        return "CANCELLED"
    if booking.status is BookingStatus.waitlisted:
        return "TENTATIVE"
    return "CONFIRMED"
