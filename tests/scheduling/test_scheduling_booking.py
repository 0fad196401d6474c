"""Booking, cancelling and the waitlist, on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from scheduling.booking import (
    book,
    bookings_visible_to,
    cancel_booking,
    get_booking_for,
    join_cycle,
    roster,
    seats_left,
    waitlist,
)
from scheduling.models import (
    Booking,
    BookingStatus,
    Frequency,
    Mobility,
    Notification,
    NotificationChannel,
    NotificationKind,
    Role,
    SessionStatus,
)
from scheduling.policy import Load
from scheduling.sessions import create_series


@pytest.fixture
def animator(make_user):
    return make_user(role=Role.animator, username="animation")


def booked(db, session, person, animator, now, **kwargs):
    return book(db, session_id=session.id, person_id=person.id, actor=animator, now=now, **kwargs)


def test_booking_a_free_seat_confirms_it_and_copies_what_transport_needs(
    db, make_session, make_person, make_commune, animator, now
):
    commune = make_commune(name="Creysse", postcode="24100")
    person = make_person(
        commune=commune, address="3 chemin des Vignes", mobility=Mobility.walker, email=None
    )
    session = make_session(seats=4)

    outcome = booked(db, session, person, animator, now, transport_out=True, transport_back=True)

    assert outcome.confirmed
    booking = outcome.booking
    assert booking.status is BookingStatus.confirmed
    assert booking.mobility is Mobility.walker
    assert booking.pickup_address == "3 chemin des Vignes, 24100 Creysse"
    assert booking.booked_by_id == animator.id
    assert booking.created_at == now
    assert seats_left(db, session) == Load(seats=3, wheelchair_places=1)
    assert person.full_name in outcome.message


def test_a_full_session_puts_the_next_person_on_the_waitlist_with_their_position(
    db, make_session, make_person, animator, now
):
    session = make_session(seats=2)
    first = booked(db, session, make_person(), animator, now, companions=1)
    second = booked(db, session, make_person(), animator, now)
    third = booked(db, session, make_person(), animator, now)

    assert first.confirmed
    assert second.waitlisted and second.waitlist_position == 1
    assert third.waitlisted and third.waitlist_position == 2
    assert "liste d'attente (position 2)" in third.message
    assert seats_left(db, session) == Load(seats=0, wheelchair_places=1)


def test_companions_take_seats(db, make_session, make_person, animator, now):
    session = make_session(seats=3)
    assert booked(db, session, make_person(), animator, now).confirmed
    # Two seats left: a person with two companions needs three.
    assert booked(db, session, make_person(), animator, now, companions=2).waitlisted
    assert booked(db, session, make_person(), animator, now, companions=1).confirmed


def test_wheelchair_places_are_never_overbooked(db, make_session, make_person, animator, now):
    session = make_session(seats=10, wheelchair_places=1)
    first = booked(db, session, make_person(mobility=Mobility.wheelchair), animator, now)
    second = booked(db, session, make_person(mobility=Mobility.wheelchair), animator, now)
    assert first.confirmed
    assert second.waitlisted
    assert booked(db, session, make_person(), animator, now).confirmed


def test_booking_after_the_deadline_is_refused(db, make_session, make_person, animator, now):
    session = make_session(booking_deadline=now - dt.timedelta(minutes=1))
    outcome = booked(db, session, make_person(), animator, now)
    assert outcome.refused
    assert outcome.reason == "La date limite de réservation est dépassée."
    assert db.scalars(select(Booking)).all() == []


def test_booking_twice_is_refused_with_the_persons_name(
    db, make_session, make_person, animator, now
):
    person = make_person(first_name="Odette", last_name="Lafon")
    session = make_session()
    assert booked(db, session, person, animator, now).confirmed
    again = booked(db, session, person, animator, now)
    assert again.refused
    assert again.reason == "Odette Lafon est déjà inscrit(e) à cette séance."


def test_booking_again_after_cancelling_is_allowed(db, make_session, make_person, animator, now):
    person = make_person()
    session = make_session()
    first = booked(db, session, person, animator, now)
    assert cancel_booking(db, booking_id=first.booking.id, actor=animator, now=now).ok
    assert booked(db, session, person, animator, now).confirmed


@pytest.mark.parametrize(
    ("session_values", "request_values", "reason"),
    [
        ({"status": SessionStatus.cancelled}, {}, "Cette séance est annulée."),
        ({"starts_at": "past"}, {}, "Cette séance est déjà passée."),
        ({}, {"companions": -1}, "Le nombre d'accompagnants ne peut pas être négatif."),
        ({}, {"companions": 4}, "Au plus 3 accompagnants par réservation."),
        (
            {"transport_offered": False},
            {"transport_out": True},
            "Le transport n'est pas proposé pour cette séance.",
        ),
    ],
)
def test_impossible_requests_are_refused_with_a_french_reason(
    db, make_session, make_person, animator, now, session_values, request_values, reason
):
    if session_values.get("starts_at") == "past":
        session_values = {"starts_at": now - dt.timedelta(hours=3)}
    session = make_session(**session_values)
    outcome = booked(db, session, make_person(), animator, now, **request_values)
    assert outcome.refused
    assert outcome.reason == reason
    assert outcome.message == reason


def test_cancelling_frees_the_seat_and_promotes_the_first_in_line(
    db, make_session, make_person, make_user, animator, now
):
    session = make_session(seats=1)
    holder = booked(db, session, make_person(), animator, now).booking
    first_in_line = make_person(email=None, phone=None)
    carer = make_user(role=Role.carer, email="fille@example.org", helped_persons=[first_in_line])
    waiting_first = booked(db, session, first_in_line, animator, now).booking
    waiting_second = booked(
        db, session, make_person(), animator, now + dt.timedelta(minutes=1)
    ).booking

    outcome = cancel_booking(db, booking_id=holder.id, actor=animator, now=now)

    assert outcome.ok
    assert outcome.cancelled.status is BookingStatus.cancelled
    assert outcome.cancelled.cancelled_at == now
    assert outcome.promoted == (waiting_first,)
    assert waiting_first.status is BookingStatus.confirmed
    assert waiting_second.status is BookingStatus.waitlisted
    # The promoted person's carer is told by e-mail.
    [message] = [n for n in outcome.notifications if n.booking_id == waiting_first.id]
    assert message.kind is NotificationKind.promoted_from_waitlist
    assert message.channel is NotificationChannel.email
    assert message.recipient == carer.email
    assert "place s'est libérée" in message.body


def test_promotion_skips_a_wheelchair_when_no_wheelchair_place_is_free(
    db, make_session, make_person, animator, now
):
    session = make_session(seats=3, wheelchair_places=1)
    booked(db, session, make_person(mobility=Mobility.wheelchair), animator, now)
    leaving = booked(db, session, make_person(), animator, now).booking
    booked(db, session, make_person(), animator, now)
    later = now + dt.timedelta(minutes=1)
    wheelchair = booked(db, session, make_person(mobility=Mobility.wheelchair), animator, later)
    walker = booked(db, session, make_person(mobility=Mobility.walker), animator, later)
    assert wheelchair.waitlisted and walker.waitlisted

    outcome = cancel_booking(db, booking_id=leaving.id, actor=animator, now=later)

    assert outcome.promoted == (walker.booking,)
    assert wheelchair.booking.status is BookingStatus.waitlisted
    assert waitlist(db, session.id) == [wheelchair.booking]


def test_leaving_the_waitlist_promotes_nobody(db, make_session, make_person, animator, now):
    session = make_session(seats=1)
    booked(db, session, make_person(), animator, now)
    waiting = booked(db, session, make_person(), animator, now).booking
    outcome = cancel_booking(db, booking_id=waiting.id, actor=animator, now=now)
    assert outcome.ok and outcome.promoted == ()


def test_cancelling_twice_or_after_the_session_is_refused(
    db, make_session, make_person, make_booking, animator, now
):
    session = make_session()
    booking = booked(db, session, make_person(), animator, now).booking
    assert cancel_booking(db, booking_id=booking.id, actor=animator, now=now).ok
    again = cancel_booking(db, booking_id=booking.id, actor=animator, now=now)
    assert not again.ok and again.reason == "Cette réservation est déjà annulée."

    past = make_session(starts_at=now - dt.timedelta(days=1))
    old = make_booking(past)
    late = cancel_booking(db, booking_id=old.id, actor=animator, now=now)
    assert late.reason == "Cette séance est déjà passée."


def test_a_carer_books_and_cancels_only_for_the_persons_they_help(
    db, make_session, make_person, make_user, now
):
    mother = make_person(first_name="Lucienne")
    stranger = make_person(first_name="Raymonde")
    carer = make_user(role=Role.carer, helped_persons=[mother])
    session = make_session()

    mine = book(db, session_id=session.id, person_id=mother.id, actor=carer, now=now)
    assert mine.confirmed
    theirs = book(db, session_id=session.id, person_id=stranger.id, actor=carer, now=now)
    assert theirs.refused
    assert theirs.reason == "Vous ne pouvez pas réserver pour cette personne."

    other_carer = make_user(role=Role.carer, helped_persons=[stranger])
    assert get_booking_for(db, other_carer, mine.booking.id) is None
    refused = cancel_booking(db, booking_id=mine.booking.id, actor=other_carer, now=now)
    assert not refused.ok and refused.reason == "Cette réservation n'existe pas."
    assert mine.booking.status is BookingStatus.confirmed
    assert bookings_visible_to(db, carer) == [mine.booking]
    assert bookings_visible_to(db, other_carer) == []


def test_an_older_person_with_an_account_books_for_themselves(
    db, make_session, make_person, make_user, now
):
    person = make_person()
    account = make_user(role=Role.carer, person_id=person.id)
    session = make_session()
    assert book(db, session_id=session.id, person_id=person.id, actor=account, now=now).confirmed


def test_booking_notifies_by_email_but_asks_for_no_call(
    db, make_session, make_person, animator, now
):
    with_email = make_person(email="Jeanne@Example.org")
    without = make_person(email=None)
    session = make_session()
    outcome = booked(db, session, with_email, animator, now)
    [mail] = outcome.notifications
    assert mail.channel is NotificationChannel.email
    assert mail.recipient == "jeanne@example.org"
    assert mail.kind is NotificationKind.booking_confirmed
    assert booked(db, session, without, animator, now).notifications == ()
    assert db.scalars(select(Notification)).all() == [mail]


def test_the_roster_lists_seat_holders_by_name_then_the_waitlist(
    db, make_session, make_person, animator, now
):
    session = make_session(seats=2)
    b = booked(db, session, make_person(last_name="Bernard"), animator, now).booking
    a = booked(db, session, make_person(last_name="Albert"), animator, now).booking
    w = booked(db, session, make_person(last_name="Aaron"), animator, now).booking
    assert roster(db, centre_id=session.centre_id, session_id=session.id) == [a, b, w]


def test_joining_a_cycle_books_every_remaining_session_and_waitlists_full_ones(
    db, make_activity, make_venue, make_person, make_booking, animator, now
):
    monday = now.date() + dt.timedelta(days=7 - now.weekday())
    series = create_series(
        db,
        actor=animator,
        now=now,
        activity_id=make_activity().id,
        frequency=Frequency.weekly,
        first_date=monday,
        until_date=monday + dt.timedelta(weeks=2),
        start_time=dt.time(14),
        end_time=dt.time(16),
        venue_id=make_venue().id,
        seats=1,
    ).value
    db.commit()
    first, second, third = series.sessions
    make_booking(second)  # the second session is already full
    person = make_person()

    cycle = join_cycle(db, series_id=series.id, person_id=person.id, actor=animator, now=now)

    assert [o.result.value for o in cycle.outcomes] == ["confirmed", "waitlisted", "confirmed"]
    assert [o.session for o in cycle.outcomes] == [first, second, third]
    assert len(cycle.confirmed) == 2 and len(cycle.waitlisted) == 1
    # Joining again is refused session by session, with the reason.
    again = join_cycle(db, series_id=series.id, person_id=person.id, actor=animator, now=now)
    assert all(o.refused for o in again.outcomes)
    assert "déjà" in again.outcomes[0].reason
