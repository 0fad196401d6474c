"""Activities, one-off and recurring sessions, edits, cancellations, attendance."""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.rrule import rrulestr
from sqlalchemy import select

from scheduling.booking import book, seats_left
from scheduling.models import (
    ActivitySession,
    Audience,
    BookingStatus,
    Field,
    Frequency,
    Mobility,
    NotificationChannel,
    NotificationKind,
    Role,
    SessionStatus,
)
from scheduling.policy import Load
from scheduling.sessions import (
    Attendance,
    cancel_occurrence,
    cancel_session,
    create_activity,
    create_series,
    create_session,
    edit_occurrence,
    occurrence_dates,
    set_attendance,
    sort_by_distance,
    upcoming_sessions,
)

# A fixed clock for recurrence: Tuesday 1 December 2026, 9:00.
NOW = dt.datetime(2026, 12, 1, 9, 0)
TUESDAY = dt.date(2026, 12, 8)


@pytest.fixture
def animator(make_user):
    return make_user(role=Role.animator)


def new_series(db, animator, make_activity, make_venue, **overrides):
    values = {
        "actor": animator,
        "now": NOW,
        "activity_id": make_activity().id,
        "frequency": Frequency.weekly,
        "first_date": TUESDAY,
        "until_date": dt.date(2027, 1, 5),
        "start_time": dt.time(14, 30),
        "end_time": dt.time(16, 0),
        "venue_id": make_venue().id,
        "seats": 12,
        "wheelchair_places": 2,
        "transport_offered": True,
        "booking_deadline_hours": 48,
    }
    values.update(overrides)
    return create_series(db, **values)


# --- pure recurrence ------------------------------------------------------------------------


def test_weekly_every_other_week_and_monthly_dates() -> None:
    until = dt.date(2027, 2, 28)
    weekly = occurrence_dates(Frequency.weekly, TUESDAY, dt.date(2026, 12, 29))
    assert weekly == [dt.date(2026, 12, d) for d in (8, 15, 22, 29)]
    biweekly = occurrence_dates(Frequency.biweekly, TUESDAY, dt.date(2027, 1, 19))
    assert biweekly == [dt.date(2026, 12, 8), dt.date(2026, 12, 22), dt.date(2027, 1, 5),
                        dt.date(2027, 1, 19)]  # fmt: skip
    # Monthly keeps the weekday rank: the 2nd Tuesday of each month.
    monthly = occurrence_dates(Frequency.monthly, TUESDAY, until)
    assert monthly == [dt.date(2026, 12, 8), dt.date(2027, 1, 12), dt.date(2027, 2, 9)]


def test_monthly_from_a_fifth_weekday_falls_on_the_last_one() -> None:
    fifth_tuesday = dt.date(2026, 12, 29)
    dates = occurrence_dates(Frequency.monthly, fifth_tuesday, dt.date(2027, 2, 28))
    assert dates == [dt.date(2026, 12, 29), dt.date(2027, 1, 26), dt.date(2027, 2, 23)]


def test_excluded_dates_are_left_out() -> None:
    dates = occurrence_dates(
        Frequency.weekly, TUESDAY, dt.date(2026, 12, 29), [dt.date(2026, 12, 22)]
    )
    assert dates == [dt.date(2026, 12, 8), dt.date(2026, 12, 15), dt.date(2026, 12, 29)]


# --- series in the database -----------------------------------------------------------------


def test_create_series_generates_its_occurrences_with_the_defaults(
    db, animator, make_activity, make_venue
):
    result = new_series(
        db, animator, make_activity, make_venue, excluded_dates=[dt.date(2026, 12, 29)]
    )
    assert result.ok, result.errors
    series = result.value
    starts = [s.starts_at for s in series.sessions]
    assert starts == [
        dt.datetime(2026, 12, 8, 14, 30),
        dt.datetime(2026, 12, 15, 14, 30),
        dt.datetime(2026, 12, 22, 14, 30),
        dt.datetime(2027, 1, 5, 14, 30),
    ]
    first = series.sessions[0]
    assert first.ends_at == dt.datetime(2026, 12, 8, 16, 0)
    assert first.booking_deadline == dt.datetime(2026, 12, 6, 14, 30)
    assert (first.seats, first.wheelchair_places, first.transport_offered) == (12, 2, True)
    assert first.centre_id == animator.centre_id
    assert series.excluded_dates == ["2026-12-29"]
    # The stored RRULE text rebuilds the same dates (the iCal feeds rely on it).
    rule = rrulestr(series.rrule_text, dtstart=dt.datetime(2026, 12, 8, 14, 30))
    assert dt.datetime(2026, 12, 29, 14, 30) in list(rule)
    assert len(list(rule)) == 5
    assert list(series.rrule()) == list(rule)


def test_series_input_errors_are_reported_by_field(db, animator, make_activity, make_venue):
    result = new_series(
        db,
        animator,
        make_activity,
        make_venue,
        until_date=dt.date(2026, 12, 1),
        end_time=dt.time(14, 0),
        seats=0,
    )
    assert not result.ok
    assert result.errors["until_date"] == "La date de fin doit suivre la date de début."
    assert result.errors["end_time"] == "La fin doit être après le début."
    assert result.errors["seats"] == "Indiquez au moins une place."
    assert db.scalars(select(ActivitySession)).all() == []


def test_editing_one_occurrence_leaves_the_others(db, animator, make_activity, make_venue):
    series = new_series(db, animator, make_activity, make_venue).value
    first, second, *rest = series.sessions
    other_venue = make_venue(name="Salle du Temple")

    change = edit_occurrence(
        db,
        actor=animator,
        now=NOW,
        session_id=second.id,
        starts_at=dt.datetime(2026, 12, 16, 10, 0),
        ends_at=dt.datetime(2026, 12, 16, 11, 30),
        venue_id=other_venue.id,
        seats=8,
        wheelchair_places=1,
        animator_id=None,
        booking_deadline=None,
        transport_offered=True,
    )

    assert change.ok, change.errors
    assert (second.starts_at, second.venue_id, second.seats) == (
        dt.datetime(2026, 12, 16, 10, 0),
        other_venue.id,
        8,
    )
    assert second.series_id == series.id
    assert first.starts_at == dt.datetime(2026, 12, 8, 14, 30)
    assert all(s.seats == 12 and s.venue_id != other_venue.id for s in [first, *rest])


def test_cancelling_one_occurrence_leaves_the_others(db, animator, make_activity, make_venue):
    series = new_series(db, animator, make_activity, make_venue).value
    first, second, third, *_ = series.sessions
    change = cancel_occurrence(
        db, actor=animator, now=NOW, session_id=second.id, reason="Salle indisponible"
    )
    assert change.ok
    assert second.status is SessionStatus.cancelled
    assert second.cancel_reason == "Salle indisponible"
    assert first.status is third.status is SessionStatus.scheduled


# --- one-off sessions -----------------------------------------------------------------------


def test_create_activity_and_session(db, animator, make_venue):
    activity = create_activity(
        db,
        actor=animator,
        title="  Repas partagé aidant-aidé ",
        field=Field.isolation,
        audience=Audience.carers,
    ).value
    assert activity.title == "Repas partagé aidant-aidé"
    result = create_session(
        db,
        actor=animator,
        now=NOW,
        activity_id=activity.id,
        venue_id=make_venue().id,
        starts_at=dt.datetime(2026, 12, 10, 12, 0),
        ends_at=dt.datetime(2026, 12, 10, 14, 0),
        seats=20,
        wheelchair_places=2,
        animator_id=animator.id,
        booking_deadline=dt.datetime(2026, 12, 9, 12, 0),
    )
    assert result.ok, result.errors
    assert result.value.series_id is None


def test_session_checks_say_what_is_wrong(db, animator, make_activity, make_venue):
    result = create_session(
        db,
        actor=animator,
        now=NOW,
        activity_id=make_activity().id,
        venue_id=make_venue().id,
        starts_at=NOW - dt.timedelta(hours=1),
        ends_at=NOW - dt.timedelta(hours=2),
        seats=5,
        wheelchair_places=6,
        booking_deadline=NOW + dt.timedelta(days=3),
    )
    assert result.errors == {
        "starts_at": "La séance ne peut pas commencer dans le passé.",
        "ends_at": "La fin doit être après le début.",
        "wheelchair_places": "Pas plus de places fauteuil que de places.",
        "booking_deadline": "La date limite de réservation doit précéder le début de la séance.",
    }


def test_only_staff_create_sessions(db, make_user, make_activity):
    carer = make_user(role=Role.carer)
    result = create_activity(
        db, actor=carer, title="Atelier", field=Field.isolation, audience=Audience.carers
    )
    assert result.errors == {"__all__": "Action réservée à l'équipe du centre."}


# --- edits that touch bookings (real clock: sessions are created by the factories) ----------


def test_seats_cannot_drop_below_what_is_booked_and_added_seats_promote(
    db, animator, make_session, make_person, now
):
    session = make_session(seats=2, wheelchair_places=0)
    persons = [make_person() for _ in range(3)]
    outcomes = [
        book(db, session_id=session.id, person_id=p.id, actor=animator, now=now) for p in persons
    ]
    assert outcomes[2].waitlisted
    values = {
        "actor": animator,
        "now": now,
        "session_id": session.id,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "venue_id": session.venue_id,
        "wheelchair_places": 0,
        "animator_id": None,
        "booking_deadline": None,
        "transport_offered": True,
    }

    too_few = edit_occurrence(db, seats=1, **values)
    assert too_few.errors["seats"].startswith("2 places sont déjà réservées")
    assert session.seats == 2

    more = edit_occurrence(db, seats=3, **values)
    assert more.ok
    assert more.promoted == (outcomes[2].booking,)
    assert outcomes[2].booking.status is BookingStatus.confirmed
    assert seats_left(db, session) == Load(0, 0)


def test_moving_a_session_tells_the_people_booked(
    db, animator, make_session, make_person, make_venue, now
):
    session = make_session()
    person = make_person(email="roger@example.org")
    book(db, session_id=session.id, person_id=person.id, actor=animator, now=now)
    later = session.starts_at + dt.timedelta(days=1)
    change = edit_occurrence(
        db,
        actor=animator,
        now=now,
        session_id=session.id,
        starts_at=later,
        ends_at=later + dt.timedelta(hours=2),
        venue_id=make_venue(name="Salle Jean Moulin").id,
        seats=session.seats,
        wheelchair_places=session.wheelchair_places,
        animator_id=None,
        booking_deadline=None,
        transport_offered=True,
    )
    [message] = change.notifications
    assert message.kind is NotificationKind.session_changed
    assert message.recipient == "roger@example.org"
    assert "Salle Jean Moulin" in message.body


def test_cancelling_a_session_cancels_its_bookings_and_tells_everyone(
    db, animator, make_session, make_person, make_user, now
):
    session = make_session(seats=2)
    by_mail = make_person(email="simone@example.org")
    by_carer = make_person(email=None)
    make_user(role=Role.carer, email="neveu@example.org", helped_persons=[by_carer])
    by_phone = make_person(email=None, phone="05 53 61 00 00")
    bookings = [
        book(db, session_id=session.id, person_id=p.id, actor=animator, now=now).booking
        for p in (by_mail, by_carer, by_phone)
    ]
    assert bookings[2].status is BookingStatus.waitlisted

    missing_reason = cancel_session(db, actor=animator, now=now, session_id=session.id, reason=" ")
    assert missing_reason.errors == {"reason": "Indiquez le motif de l'annulation."}

    change = cancel_session(
        db, actor=animator, now=now, session_id=session.id, reason="Animatrice malade"
    )

    assert change.ok
    assert set(change.affected) == set(bookings)
    assert all(b.status is BookingStatus.cancelled and b.cancelled_at == now for b in bookings)
    told = {
        (n.channel, n.recipient)
        for n in change.notifications
        if n.kind is NotificationKind.session_cancelled
    }
    assert told == {
        (NotificationChannel.email, "simone@example.org"),
        (NotificationChannel.email, "neveu@example.org"),
        (NotificationChannel.phone_call, "05 53 61 00 00"),
    }
    assert all("Animatrice malade" in n.body for n in change.notifications)
    again = cancel_session(db, actor=animator, now=now, session_id=session.id, reason="x")
    assert again.errors == {"__all__": "Cette séance est déjà annulée."}


def test_attendance_marks_present_excused_absent_on_the_day(
    db, animator, make_session, make_person, now
):
    session = make_session()
    bookings = [
        book(db, session_id=session.id, person_id=make_person().id, actor=animator, now=now)
        for _ in range(3)
    ]
    marks = {
        bookings[0].booking.id: Attendance.present,
        bookings[1].booking.id: Attendance.excused,
        bookings[2].booking.id: Attendance.absent,
    }
    early = set_attendance(db, actor=animator, now=now, session_id=session.id, marks=marks)
    assert early.errors == {"__all__": "L'appel se fait le jour de la séance."}

    on_the_day = session.starts_at + dt.timedelta(minutes=10)
    result = set_attendance(db, actor=animator, now=on_the_day, session_id=session.id, marks=marks)
    assert result.ok
    assert [b.booking.status for b in bookings] == [
        BookingStatus.attended,
        BookingStatus.excused,
        BookingStatus.no_show,
    ]
    # Attendance keeps the seats counted.
    assert seats_left(db, session).seats == session.seats - 3


def test_agenda_filters_and_sorts_by_distance(
    db, make_session, make_activity, make_venue, make_commune, now
):
    near = make_venue(commune=make_commune(lat=44.85, lon=0.48), lat=44.85, lon=0.48)
    far = make_venue(commune=make_commune(lat=44.67, lon=0.40), lat=44.67, lon=0.40)
    care = make_activity(field=Field.care_prevention)
    social = make_activity(field=Field.isolation)
    soon = now + dt.timedelta(days=1)
    a = make_session(activity=care, venue=far, starts_at=soon)
    b = make_session(activity=social, venue=near, starts_at=soon + dt.timedelta(days=1))
    make_session(activity=care, venue=near, starts_at=now - dt.timedelta(days=1))  # past
    cancelled = make_session(
        activity=care, venue=near, starts_at=soon, status=SessionStatus.cancelled
    )

    agenda = upcoming_sessions(db, centre_id=a.centre_id, now=now)
    assert agenda == [a, cancelled, b]
    assert upcoming_sessions(db, centre_id=a.centre_id, now=now, field=Field.isolation) == [b]
    assert upcoming_sessions(db, centre_id=a.centre_id, now=now, commune_id=far.commune_id) == [a]
    assert upcoming_sessions(
        db, centre_id=a.centre_id, now=now, date_to=soon.date(), include_cancelled=False
    ) == [a]
    assert sort_by_distance([a, b], lat=44.85, lon=0.48) == [b, a]


def test_wheelchair_booking_respects_edited_wheelchair_places(
    db, animator, make_session, make_person, now
):
    session = make_session(seats=5, wheelchair_places=0)
    person = make_person(mobility=Mobility.wheelchair)
    refused = book(db, session_id=session.id, person_id=person.id, actor=animator, now=now)
    assert refused.reason == "Cette séance n'a pas de place pour un fauteuil roulant."
