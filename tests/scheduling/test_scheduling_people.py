"""Persons: visibility, search, creation, the call list, and the wall between two centres."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduling.booking import (
    book,
    bookings_visible_to,
    cancel_booking,
    get_booking_for,
    get_session,
    join_cycle,
)
from scheduling.models import Mobility, NotificationChannel, Role
from scheduling.notifications import (
    call_list,
    format_when,
    mark_call_done,
    notify_promoted,
    pending_emails,
)
from scheduling.people import (
    can_see_person,
    create_person,
    get_person_for,
    persons_visible_to,
    search_persons,
)
from scheduling.sessions import cancel_session, set_attendance, upcoming_sessions


@pytest.fixture
def animator(make_user):
    return make_user(role=Role.animator)


def test_a_carer_sees_only_the_persons_they_help(db, make_person, make_user):
    mother = make_person(last_name="Aubry")
    father = make_person(last_name="Bouchet")
    stranger = make_person()
    carer = make_user(role=Role.carer, helped_persons=[mother, father])
    staff = make_user(role=Role.animator)
    driver = make_user(role=Role.driver)

    assert persons_visible_to(db, carer) == [mother, father]
    assert can_see_person(carer, mother)
    assert not can_see_person(carer, stranger)
    assert get_person_for(db, carer, stranger.id) is None
    assert set(persons_visible_to(db, staff)) == {mother, father, stranger}
    assert persons_visible_to(db, driver) == []


def test_a_disabled_account_sees_nobody(db, make_person, make_user):
    person = make_person()
    carer = make_user(role=Role.carer, helped_persons=[person], active=False)
    assert persons_visible_to(db, carer) == []
    assert not can_see_person(carer, person)


def test_search_by_name_ignores_accents_and_case(db, make_person, animator):
    helene = make_person(first_name="Hélène", last_name="Dupré")
    make_person(first_name="Marcel", last_name="Dupont")
    assert search_persons(db, actor=animator, query="helene") == [helene]
    assert search_persons(db, actor=animator, query="DUPRE hél") == [helene]


def test_search_by_phone_as_typed_on_the_phone(db, make_person, animator):
    person = make_person(phone="05 53 22 41 07")
    make_person(phone="05 53 99 99 99")
    assert search_persons(db, actor=animator, query="0553224107") == [person]
    assert search_persons(db, actor=animator, query="05 53 22 41") == [person]
    assert search_persons(db, actor=animator, query="+33 5 53 22 41 07") == [person]


def test_search_by_commune_name_or_id(db, make_person, make_commune, animator):
    lalinde = make_commune(name="Lalinde")
    there = make_person(commune=lalinde)
    make_person()
    assert search_persons(db, actor=animator, query="lalinde") == [there]
    assert search_persons(db, actor=animator, commune_id=lalinde.id) == [there]


def test_create_person_with_a_few_fields(db, make_commune, animator):
    commune = make_commune(lat=44.83, lon=0.73)
    result = create_person(
        db,
        actor=animator,
        first_name=" Germaine ",
        last_name="Vidal",
        commune_id=commune.id,
        phone="0553224107",
        mobility=Mobility.walker,
    )
    assert result.ok, result.errors
    person = result.value
    assert (person.full_name, person.phone, person.email) == (
        "Germaine Vidal",
        "05 53 22 41 07",
        None,
    )
    # Without an address geocoded yet, the commune's centre stands in.
    assert (person.lat, person.lon) == (44.83, 0.73)


def test_create_person_reports_bad_fields(db, make_commune, animator):
    result = create_person(
        db,
        actor=animator,
        first_name="",
        last_name="Vidal",
        commune_id=make_commune().id,
        phone="12",
        email="pas-une-adresse",
    )
    assert result.errors == {
        "first_name": "Indiquez le prénom.",
        "phone": "Numéro de téléphone invalide (exemple : 05 53 12 34 56).",
        "email": "Adresse e-mail invalide (exemple : nom@exemple.fr).",
    }


def test_a_carer_who_creates_a_person_helps_them(db, make_commune, make_user):
    carer = make_user(role=Role.carer)
    person = create_person(
        db, actor=carer, first_name="René", last_name="Lagarde", commune_id=make_commune().id
    ).value
    assert persons_visible_to(db, carer) == [person]


def test_promotion_without_email_goes_to_the_staff_call_list(
    db, make_session, make_person, make_booking, animator, now
):
    session = make_session()
    person = make_person(email=None, phone="05 53 00 11 22")
    booking = make_booking(session, person=person)
    [call] = notify_promoted(db, booking, now)
    assert call.channel is NotificationChannel.phone_call
    assert call.recipient == "05 53 00 11 22"
    assert call_list(db, session.centre_id) == [call]
    assert pending_emails(db, session.centre_id) == []
    assert mark_call_done(db, centre_id=session.centre_id, notification_id=call.id, now=now)
    assert call_list(db, session.centre_id) == []


def test_dates_are_written_in_french() -> None:
    assert format_when(dt.datetime(2026, 12, 1, 14, 5)) == "mardi 1er décembre 2026 à 14 h 05"


def test_two_centres_never_see_each_others_rows(
    db, make_centre, make_session, make_person, make_user, make_booking, now
):
    here = make_session()
    here_person = make_person()
    here_booking = make_booking(here, person=here_person)
    here_animator = make_user(role=Role.animator)

    other = make_centre(name="CRT du Sarladais")
    there_session = make_session(centre=other)
    there_person = make_person(centre=other)
    there_animator = make_user(role=Role.animator, centre=other)
    there_carer = make_user(role=Role.carer, centre=other, helped_persons=[there_person])

    # Nothing of "here" is visible from "there", by any path.
    assert persons_visible_to(db, there_animator) == [there_person]
    assert search_persons(db, actor=there_animator, query=here_person.last_name) == []
    assert not can_see_person(there_animator, here_person)
    assert get_person_for(db, there_animator, here_person.id) is None
    assert get_session(db, centre_id=other.id, session_id=here.id) is None
    assert upcoming_sessions(db, centre_id=other.id, now=now) == [there_session]
    assert get_booking_for(db, there_animator, here_booking.id) is None
    assert bookings_visible_to(db, there_animator) == []
    assert call_list(db, other.id) == []

    # Acting across the wall is refused, and changes nothing.
    cross = book(db, session_id=here.id, person_id=there_person.id, actor=there_animator, now=now)
    assert cross.refused and cross.reason == "Cette séance n'existe pas."
    steal = book(
        db, session_id=there_session.id, person_id=here_person.id, actor=there_animator, now=now
    )
    assert steal.refused
    assert not cancel_booking(db, booking_id=here_booking.id, actor=there_animator, now=now).ok
    assert cancel_session(
        db, actor=there_animator, now=now, session_id=here.id, reason="x"
    ).errors == {"__all__": "Cette séance n'existe pas."}
    assert not set_attendance(
        db, actor=there_animator, now=here.starts_at, session_id=here.id, marks={}
    ).ok
    assert (
        join_cycle(db, series_id=999, person_id=there_person.id, actor=there_carer, now=now).reason
        == "Ce cycle n'existe pas."
    )
    # Their own side works.
    assert book(
        db, session_id=there_session.id, person_id=there_person.id, actor=there_carer, now=now
    ).confirmed
    assert here_animator.centre_id != there_animator.centre_id
