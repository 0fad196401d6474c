"""A booking added to one's own agenda: an RFC 5545 file in the centre's time zone."""

from __future__ import annotations

import icalendar
import pytest

from scheduling.models import BookingStatus
from tests.webapp.conftest import post

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def rfc5545_problems(ics: bytes) -> list[str]:
    """Checks Radicale and the parsers let through (see RECIPES §3)."""
    cal = icalendar.Calendar.from_ical(ics)
    problems = [f"VCALENDAR missing {k}" for k in ("VERSION", "PRODID") if k not in cal]
    tzids = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
    for event in cal.walk("VEVENT"):
        uid = event.get("UID", "?")
        problems += [f"{uid}: missing {k}" for k in ("UID", "DTSTAMP", "DTSTART") if k not in event]
        if "DTSTAMP" in event and not event.decoded("DTSTAMP").tzinfo:
            problems.append(f"{uid}: DTSTAMP not UTC")
        for key in ("DTSTART", "DTEND"):
            if key in event and event[key].params.get("TZID") not in tzids:
                problems.append(f"{uid}: {key} TZID has no VTIMEZONE")
    return problems


def test_booking_calendar_file_then_cancelled(client, world, login, make_booking):
    booking = make_booking(world.session, person=world.person, transport_out=True)
    login(world.carer)
    assert "Ajouter à mon agenda" in client.get(f"/reservations/{booking.id}").get_data(
        as_text=True
    )
    response = client.get(f"/reservations/{booking.id}/agenda.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert rfc5545_problems(response.data) == []
    [event] = icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    assert event["STATUS"] == "CONFIRMED"
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event.decoded("DTSTART").replace(tzinfo=None) == world.session.starts_at
    assert "Jeanne Delmas" in str(event["SUMMARY"])
    assert "Transport demandé" in str(event["DESCRIPTION"])

    post(client, f"/reservations/{booking.id}/annuler")
    cancelled = client.get(f"/reservations/{booking.id}/agenda.ics")
    [event] = icalendar.Calendar.from_ical(cancelled.data).walk("VEVENT")
    assert event["STATUS"] == "CANCELLED"


def test_waitlisted_booking_is_tentative(client, world, login, make_booking):
    booking = make_booking(world.session, person=world.person, status=BookingStatus.waitlisted)
    login(world.carer)
    [event] = icalendar.Calendar.from_ical(
        client.get(f"/reservations/{booking.id}/agenda.ics").data
    ).walk("VEVENT")
    assert event["STATUS"] == "TENTATIVE"


def test_someone_elses_calendar_file_is_404(client, world, login, make_booking):
    theirs = make_booking(world.session, person=world.stranger)
    login(world.carer)
    assert client.get(f"/reservations/{theirs.id}/agenda.ics").status_code == 404
