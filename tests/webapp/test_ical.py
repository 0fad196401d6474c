"""The iCalendar writer: time zone, recurring series and their exceptions, retention, stability.

Feeds are read back the way calendar clients read them: icalendar parses, and
recurring-ical-events expands RRULE, EXDATE and RECURRENCE-ID overrides into occurrences.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from scheduling import sessions as sessions_uc
from scheduling.models import Frequency, Role, SessionStatus
from tests.webapp.conftest import read
from tests.webapp.ical_checks import by_uid, events, rfc5545_problems
from webapp.ical import PARIS_VTIMEZONE, agenda_feed

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
PARIS = ZoneInfo("Europe/Paris")


def test_embedded_vtimezone_matches_zoneinfo_every_hour_including_dst_changes():
    """A client that trusts only our VTIMEZONE (not its own tz database) gets the right hour."""
    ours = icalendar.Timezone.from_ical(PARIS_VTIMEZONE).to_tz(lookup_tzid=False)
    moment = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    wrong = []
    while moment < dt.datetime(2031, 1, 1, tzinfo=dt.UTC):
        if moment.astimezone(ours).utcoffset() != moment.astimezone(PARIS).utcoffset():
            wrong.append(moment)
        moment += dt.timedelta(minutes=30)
    assert wrong == []
    # The spring-forward hour itself: 01:59 UTC+1, then 03:00 UTC+2 (RFC onset 02:00 local).
    spring = dt.datetime(2027, 3, 28, 0, 59, tzinfo=dt.UTC)
    assert spring.astimezone(ours).strftime("%H:%M %z") == "01:59 +0100"
    assert (spring + dt.timedelta(minutes=1)).astimezone(ours).strftime("%H:%M %z") == (
        "03:00 +0200"
    )


@pytest.fixture
def staff(make_user):
    return make_user(role=Role.animator, display_name="Sophie Lacoste", phone="05 53 11 22 33")


@pytest.fixture
def series_across_dst(db, now, staff, make_activity, make_venue, make_commune):
    """Weekly 14:00 workshop around the March 2027 DST change, one date left out."""
    commune = make_commune(name="Lalinde", postcode="24150", insee="24229")
    venue = make_venue(name="Salle des fêtes", commune=commune, lat=44.8368, lon=0.7378)
    activity = make_activity(title="Gym douce", description="Équilibre et souplesse.")
    result = sessions_uc.create_series(
        db,
        actor=staff,
        now=now,
        activity_id=activity.id,
        frequency=Frequency.weekly,
        first_date=dt.date(2027, 3, 15),
        until_date=dt.date(2027, 4, 12),
        start_time=dt.time(14),
        end_time=dt.time(16),
        venue_id=venue.id,
        seats=12,
        animator_id=staff.id,
        excluded_dates=[dt.date(2027, 3, 22)],
    )
    assert result.ok, result.errors
    db.commit()
    return result.value


def _occurrences(ics: bytes, start: dt.date, end: dt.date) -> list[icalendar.Event]:
    return list(recurring_ical_events.of(icalendar.Calendar.from_ical(ics)).between(start, end))


def _agenda(client, centre) -> bytes:
    response = client.get(f"/centres/{centre.slug}/agenda.ics")
    assert response.status_code == 200
    assert rfc5545_problems(response.data) == []
    return response.data


@SQLITE
def test_series_is_one_event_with_rrule_and_exdate_across_dst(client, centre, series_across_dst):
    ics = _agenda(client, centre)
    [(uid, [master])] = by_uid(ics).items()
    assert uid == f"series-{series_across_dst.id}@{centre.slug}.navette"
    assert master["RRULE"]["FREQ"] == ["WEEKLY"]
    assert master["RRULE"]["UNTIL"][0] == dt.datetime(2027, 4, 12, 21, 59, tzinfo=dt.UTC)
    assert master["EXDATE"].to_ical() == b"20270322T140000"
    assert master["DTSTART"].params["TZID"] == "Europe/Paris"
    assert master["GEO"].to_ical() == "44.8368;0.7378"
    assert "Qui appeler : Sophie Lacoste, au 05 53 11 22 33" in str(master["DESCRIPTION"])

    starts = [
        e.decoded("DTSTART") for e in _occurrences(ics, dt.date(2027, 3, 1), dt.date(2027, 5, 1))
    ]
    assert [s.isoformat() for s in starts] == [
        "2027-03-15T14:00:00+01:00",
        "2027-03-29T14:00:00+02:00",  # the day after the clocks go forward: still 14:00
        "2027-04-05T14:00:00+02:00",
        "2027-04-12T14:00:00+02:00",
    ]


@SQLITE
def test_moved_cancelled_and_reinstated_occurrences_are_overrides(
    client, db, centre, now, staff, series_across_dst
):
    by_day = {s.starts_at.date(): s for s in series_across_dst.sessions}
    moved, cancelled, back = (
        by_day[dt.date(2027, 3, 29)],
        by_day[dt.date(2027, 4, 5)],
        by_day[dt.date(2027, 4, 12)],
    )
    change = sessions_uc.edit_occurrence(
        db,
        actor=staff,
        now=now,
        session_id=moved.id,
        starts_at=dt.datetime(2027, 3, 30, 10),
        ends_at=dt.datetime(2027, 3, 30, 12),
        venue_id=moved.venue_id,
        seats=moved.seats,
        wheelchair_places=moved.wheelchair_places,
        animator_id=moved.animator_id,
        booking_deadline=None,
        transport_offered=moved.transport_offered,
    )
    assert change.ok, change.errors
    for session_id in (cancelled.id, back.id):
        assert sessions_uc.cancel_session(
            db, actor=staff, now=now, session_id=session_id, reason="Salle indisponible"
        ).ok
    assert sessions_uc.reinstate_session(db, actor=staff, now=now, session_id=back.id).ok
    db.commit()

    ics = _agenda(client, centre)
    [group] = by_uid(ics).values()
    overrides = {
        e.decoded("RECURRENCE-ID").replace(tzinfo=None): e for e in group if "RECURRENCE-ID" in e
    }
    assert set(overrides) == {
        dt.datetime(2027, 3, 29, 14),
        dt.datetime(2027, 4, 5, 14),
        dt.datetime(2027, 4, 12, 14),
    }
    assert overrides[dt.datetime(2027, 3, 29, 14)]["SEQUENCE"] == 1
    assert overrides[dt.datetime(2027, 4, 5, 14)]["STATUS"] == "CANCELLED"
    assert "Salle indisponible" in str(overrides[dt.datetime(2027, 4, 5, 14)]["DESCRIPTION"])
    assert overrides[dt.datetime(2027, 4, 12, 14)]["STATUS"] == "CONFIRMED"
    assert overrides[dt.datetime(2027, 4, 12, 14)]["SEQUENCE"] == 2

    seen = {
        e.decoded("DTSTART").isoformat(): str(e.get("STATUS"))
        for e in _occurrences(ics, dt.date(2027, 3, 1), dt.date(2027, 5, 1))
    }
    assert seen == {
        "2027-03-15T14:00:00+01:00": "CONFIRMED",
        "2027-03-30T10:00:00+02:00": "CONFIRMED",
        "2027-04-05T14:00:00+02:00": "CANCELLED",
        "2027-04-12T14:00:00+02:00": "CONFIRMED",
    }


@SQLITE
def test_cancelled_things_leave_the_feed_after_thirty_days(
    db, centre, now, make_session, staff, series_across_dst
):
    one_off = make_session(starts_at=dt.datetime(2027, 3, 1, 9), status=SessionStatus.cancelled)
    one_off.sequence, one_off.updated_at = 1, now
    occurrence = series_across_dst.sessions[0]
    occurrence.status, occurrence.sequence, occurrence.updated_at = (
        SessionStatus.cancelled,
        1,
        now,
    )
    db.commit()
    sessions = read(db, sessions_uc.select(sessions_uc.ActivitySession).order_by("starts_at"))

    def feed(at: dt.datetime) -> bytes:
        return agenda_feed(sessions, centre=centre, now=at, name="Agenda").body

    soon = feed(now + dt.timedelta(days=29))
    assert sorted(
        (str(e["UID"]).split("@")[0], "RECURRENCE-ID" in e, str(e["STATUS"])) for e in events(soon)
    ) == [
        (f"series-{series_across_dst.id}", False, "CONFIRMED"),
        (f"series-{series_across_dst.id}", True, "CANCELLED"),  # struck out in calendars
        (f"session-{one_off.id}", False, "CANCELLED"),
    ]

    later = feed(now + dt.timedelta(days=31))
    [master] = events(later)
    assert b"20270315T140000" in master["EXDATE"].to_ical()  # no longer struck: just gone
    assert rfc5545_problems(later) == []


@SQLITE
def test_same_data_same_bytes(db, centre, now, series_across_dst):
    sessions = read(db, sessions_uc.select(sessions_uc.ActivitySession))
    first = agenda_feed(sessions, centre=centre, now=now, name="Agenda")
    again = agenda_feed(sessions, centre=centre, now=now + dt.timedelta(hours=3), name="Agenda")
    assert first.body == again.body
    assert first.last_modified == again.last_modified


@SQLITE
def test_text_is_escaped_and_long_lines_folded_without_cutting_accents(
    db, centre, make_activity, make_session
):
    tricky = 'Gym douce; équilibre, "souplesse"\\ et mémoire\nsur deux lignes ' + "é" * 80
    session = make_session(activity=make_activity(title=tricky, description=tricky))
    [session] = read(db, sessions_uc.select(sessions_uc.ActivitySession))
    body = agenda_feed([session], centre=centre, now=session.starts_at, name=tricky).body
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    body.decode("utf-8")  # every folded piece is whole UTF-8
    [event] = events(body)
    assert str(event["SUMMARY"]) == tricky
    assert str(event["DESCRIPTION"]).startswith(tricky)


@SQLITE
def test_a_centre_in_another_zone_gets_that_zones_vtimezone(db, make_centre, make_session):
    reunion = make_centre(timezone="Indian/Reunion")
    session = make_session(centre=reunion, starts_at=dt.datetime(2027, 7, 1, 9, 30))
    [session] = read(db, sessions_uc.select(sessions_uc.ActivitySession))
    body = agenda_feed([session], centre=reunion, now=session.starts_at, name="Agenda").body
    assert rfc5545_problems(body) == []
    [timezone] = icalendar.Calendar.from_ical(body).walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Indian/Reunion"
    ours = timezone.to_tz(lookup_tzid=False)
    assert dt.datetime(2027, 7, 1, 9, 30, tzinfo=ours).utcoffset() == dt.timedelta(hours=4)
    [event] = events(body)
    assert event.decoded("DTSTART").isoformat() == "2027-07-01T09:30:00+04:00"


@SQLITE
def test_a_filter_never_brings_a_moved_occurrence_back_to_its_old_place(
    client, db, centre, now, staff, series_across_dst, make_venue, make_commune
):
    elsewhere = make_venue(name="Mairie d'Eymet", commune=make_commune(insee="24167"))
    moved = series_across_dst.sessions[1]
    change = sessions_uc.edit_occurrence(
        db,
        actor=staff,
        now=now,
        session_id=moved.id,
        starts_at=moved.starts_at,
        ends_at=moved.ends_at,
        venue_id=elsewhere.id,
        seats=moved.seats,
        wheelchair_places=moved.wheelchair_places,
        animator_id=moved.animator_id,
        booking_deadline=None,
        transport_offered=moved.transport_offered,
    )
    assert change.ok, change.errors
    db.commit()
    response = client.get(f"/centres/{centre.slug}/agenda.ics?commune=24229")
    assert rfc5545_problems(response.data) == []
    places = {
        e.decoded("DTSTART").date().isoformat(): str(e["LOCATION"]).split(",")[0]
        for e in _occurrences(response.data, dt.date(2027, 3, 1), dt.date(2027, 5, 1))
    }
    assert places["2027-03-29"] == "Mairie d'Eymet"
    assert places["2027-03-15"] == "Salle des fêtes"
