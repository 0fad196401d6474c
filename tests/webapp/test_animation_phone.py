"""Booking by phone: find the caller, or register them in a few fields, then book."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from scheduling.models import Booking, BookingStatus, Mobility, Person
from tests.webapp import animation_fixtures
from tests.webapp.conftest import post, read, text_of

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

# Shared fixtures, made visible to pytest in this module.
animator = animation_fixtures.animator
as_animator = animation_fixtures.as_animator


def test_search_finds_a_person_by_name_phone_or_commune(client, world, as_animator):
    name = text_of(client.get("/animation/telephone?q=delmas"))
    assert "DELMAS Jeanne" in name and "ROUX" not in name
    by_phone = text_of(client.get("/animation/telephone", query_string={"q": world.person.phone}))
    assert "DELMAS Jeanne" in by_phone
    by_commune = text_of(client.get("/animation/telephone?q=eymet"))
    assert "ROUX Louis" in by_commune and "FAURE Paul" in by_commune
    assert "DELMAS" not in by_commune
    nobody = text_of(client.get("/animation/telephone?q=Zorglub"))
    assert "Personne ne correspond à « Zorglub »" in nobody


def test_new_person_then_phone_booking_with_transport(client, world, as_animator, animator, db):
    # Read what the test needs before `read()` expires the fixtures' objects.
    centre_id, session_id, animator_id = world.centre.id, world.session.id, animator.id
    title = world.session.activity.title
    response = post(
        client,
        "/animation/telephone/personnes/nouvelle",
        {
            "last_name": "Lafon",
            "first_name": "Germaine",
            "phone": "05 53 22 11 00",
            "address": "Lieu-dit La Borie",
            "commune_id": world.commune.id,
            "mobility": "walker",
        },
    )
    assert response.status_code == 302, text_of(response)
    [person] = read(db, select(Person).where(Person.last_name == "Lafon"))
    assert (person.first_name, person.phone, person.mobility) == (
        "Germaine",
        "05 53 22 11 00",
        Mobility.walker,
    )
    assert person.centre_id == centre_id and person.email is None

    page = client.get(response.headers["Location"])
    assert title in text_of(page)
    booking_url = f"/animation/telephone/personnes/{person.id}/seances/{session_id}"
    form = client.get(booking_url).get_data(as_text=True)
    assert "Lieu-dit La Borie, 24150 Lalinde" in form  # pickup address prefilled
    response = post(
        client,
        booking_url,
        {
            "person_id": person.id,
            "companions": 0,
            "transport_out": "y",
            "transport_back": "y",
            "pickup_address": "Lieu-dit La Borie, 24150 Lalinde",
        },
    )
    assert response.status_code == 302, text_of(response)
    [booking] = read(db, select(Booking).where(Booking.person_id == person.id))
    assert booking.status is BookingStatus.confirmed
    assert booking.transport_out and booking.transport_back
    assert booking.mobility is Mobility.walker
    assert booking.booked_by_id == animator_id
    assert "Réservation confirmée pour Germaine Lafon" in text_of(
        client.get(response.headers["Location"])
    )


def test_new_person_bad_input_is_shown_next_to_the_field_and_kept(client, world, as_animator, db):
    commune_id = world.commune.id
    response = post(
        client,
        "/animation/telephone/personnes/nouvelle",
        {"last_name": "Lafon", "first_name": "", "phone": "12", "commune_id": "", "mobility": ""},
    )
    assert response.status_code == 200
    page, html = text_of(response), response.get_data(as_text=True)
    assert "Indiquez le prénom." in page
    assert "Choisissez la commune." in page
    assert 'value="Lafon"' in html and 'value="12"' in html
    assert read(db, select(Person).where(Person.last_name == "Lafon")) == []

    response = post(
        client,
        "/animation/telephone/personnes/nouvelle",
        {
            "last_name": "Lafon",
            "first_name": "Germaine",
            "phone": "12",
            "commune_id": commune_id,
            "mobility": "walks",
        },
    )
    assert 'id="phone-error"' in response.get_data(as_text=True)
    assert "Numéro de téléphone invalide" in text_of(response)
    assert read(db, select(Person).where(Person.last_name == "Lafon")) == []


def test_phone_booking_on_a_full_session_goes_to_the_waitlist(
    client, world, as_animator, make_booking, db
):
    for _ in range(world.session.seats):
        make_booking(world.session)
    stranger_id = world.stranger.id
    url = f"/animation/telephone/personnes/{stranger_id}/seances/{world.session.id}"
    assert "sera inscrit(e) sur la liste d'attente" in text_of(client.get(url))
    response = post(client, url, {"person_id": stranger_id, "companions": 0})
    assert response.status_code == 302
    [booking] = read(db, select(Booking).where(Booking.person_id == stranger_id))
    assert booking.status is BookingStatus.waitlisted


def test_the_same_rules_refuse_a_second_booking(client, world, as_animator, make_booking, db):
    make_booking(world.session, person=world.person)
    person_id = world.person.id
    url = f"/animation/telephone/personnes/{person_id}/seances/{world.session.id}"
    response = post(client, url, {"person_id": person_id, "companions": 0})
    assert response.status_code == 200
    assert "Jeanne Delmas est déjà inscrit(e) à cette séance." in text_of(response)
    assert len(read(db, select(Booking).where(Booking.person_id == person_id))) == 1


def test_a_caller_already_on_file_is_shown_before_a_second_record_is_made(
    client, world, as_animator, db
):
    person_id, commune_id = world.person.id, world.commune.id
    data = {
        "last_name": "DELMAS",
        "first_name": "jeanne",
        "phone": "05 53 22 11 00",
        "commune_id": commune_id,
        "mobility": "walks",
    }
    response = post(client, "/animation/telephone/personnes/nouvelle", data)
    assert response.status_code == 200
    page, html = text_of(response), response.get_data(as_text=True)
    assert "Cette personne est peut-être déjà enregistrée" in page
    assert f'href="/animation/telephone/personnes/{person_id}"' in html
    assert 'value="05 53 22 11 00"' in html  # what was typed is kept
    assert len(read(db, select(Person).where(Person.last_name.ilike("delmas")))) == 1

    response = post(
        client, "/animation/telephone/personnes/nouvelle", {**data, "autre_personne": "1"}
    )
    assert response.status_code == 302, text_of(response)
    assert len(read(db, select(Person).where(Person.last_name.ilike("delmas")))) == 2
