"""Personal data: the privacy notice, and a person's data exported or erased by the staff."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from scheduling.models import Booking, BookingStatus, Person, Role
from tests.webapp import animation_fixtures
from tests.webapp.conftest import PASSWORD, post, read, text_of

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

animator = animation_fixtures.animator
as_animator = animation_fixtures.as_animator


@pytest.fixture
def coordinator(make_user, world):
    return make_user(username="coordination", role=Role.coordinator, password=PASSWORD)


@pytest.fixture
def as_coordinator(login, coordinator):
    login(coordinator)
    return coordinator


def _urls(person_id):
    base = f"/donnees-personnelles/{person_id}"
    return [base, f"{base}/export.json", f"{base}/effacer"]


# --- the notice -------------------------------------------------------------------------------


def test_the_notice_is_public_and_linked_from_every_footer(client, world):
    page = client.get("/confidentialite")
    assert page.status_code == 200
    text = text_of(page)
    for words in (
        "nom et votre prénom",
        "votre téléphone",
        "Votre adresse",
        "déambulateur",
        "Jamais de diagnostic",
        "organiser le transport",
        "ne voit que les personnes qu'il aide",
        "3 ans sans aucune activité",
        "demandez-le au centre",
        "CNIL",
    ):
        assert words in text, words
    home = client.get("/").get_data(as_text=True)
    assert 'href="/confidentialite"' in home
    assert 'href="/confidentialite" aria-current="page"' in page.get_data(as_text=True)


# --- who may do what --------------------------------------------------------------------------


def test_a_visitor_is_sent_to_sign_in(client, world):
    for url in _urls(world.person.id):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/connexion" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.carer, Role.animator, Role.driver])
def test_other_roles_are_refused(client, world, make_user, login, db, role):
    login(make_user(role=role, password=PASSWORD, helped_persons=[world.person]))
    for url in _urls(world.person.id):
        assert client.get(url).status_code == 403, url
    response = post(client, f"/donnees-personnelles/{world.person.id}/effacer")
    assert response.status_code == 403
    assert read(db, Person, world.person.id).last_name == "Delmas"  # nothing erased


@pytest.mark.parametrize("role", [Role.coordinator, Role.admin])
def test_coordination_and_admin_see_their_centre_only(
    client, world, make_user, login, make_centre, make_person, role
):
    login(make_user(role=role, password=PASSWORD))
    for url in _urls(world.person.id):
        assert client.get(url).status_code == 200, url
    elsewhere = make_person(centre=make_centre(), last_name="Ailleurs")
    for url in [*_urls(elsewhere.id), *_urls(2**63 + 1)]:
        assert client.get(url).status_code == 404, url
    assert post(client, f"/donnees-personnelles/{elsewhere.id}/effacer").status_code == 404


def test_the_link_is_on_the_callers_file_for_the_coordination_only(
    client, world, login, coordinator, animator
):
    url = f"/animation/telephone/personnes/{world.person.id}"
    link = f'href="/donnees-personnelles/{world.person.id}"'
    login(coordinator)
    assert link in client.get(url).get_data(as_text=True)
    post(client, "/deconnexion")
    login(animator)
    assert link not in client.get(url).get_data(as_text=True)


# --- export -----------------------------------------------------------------------------------


def test_export_as_a_file_and_as_a_page(client, world, as_coordinator, make_booking):
    make_booking(world.session, person=world.person, transport_out=True)
    person_id, title = world.person.id, world.session.activity.title

    response = client.get(f"/donnees-personnelles/{person_id}/export.json")
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.get_data(as_text=True))
    assert data["personne"]["nom"] == "Delmas"
    assert data["personne"]["adresse"] == "3 rue des Tilleuls"
    assert data["aidants"] == ["Marie Delmas"]
    [booking] = data["réservations"]
    assert booking["activité"] == title and booking["transport aller"] is True

    page = text_of(client.get(f"/donnees-personnelles/{person_id}"))
    assert "Données personnelles de Jeanne Delmas" in page
    assert "3 rue des Tilleuls" in page and "Marie Delmas" in page
    assert title in page and "Réservations (1)" in page
    assert "T14:00" not in page and "14 h" in page  # dates in words, not ISO text


# --- erasure ----------------------------------------------------------------------------------


def test_erasure_asks_first_and_needs_the_form_token(client, world, as_coordinator, db):
    url = f"/donnees-personnelles/{world.person.id}/effacer"
    page = text_of(client.get(url))
    assert "Effacer Jeanne Delmas ?" in page
    assert "les statistiques de fréquentation du centre restent justes" in page
    assert client.post(url).status_code == 400  # no CSRF token
    assert read(db, Person, world.person.id).last_name == "Delmas"


def test_erasure_keeps_past_bookings_anonymous_and_frees_future_seats(
    client, world, as_coordinator, db, make_session, make_booking, make_person, now, smtp_sink
):
    past_session = make_session(
        venue=world.session.venue, starts_at=now - dt.timedelta(days=2), seats=5
    )
    past = make_booking(past_session, person=world.person)
    full = make_session(venue=world.session.venue, seats=1)
    seat = make_booking(full, person=world.person)
    waiting_person = make_person(first_name="Odette", email="odette@example.org")
    waiting = make_booking(full, person=waiting_person, status=BookingStatus.waitlisted)
    person_id, past_id, seat_id, waiting_id = world.person.id, past.id, seat.id, waiting.id
    past_session_id = past_session.id
    db.commit()
    assert "DELMAS Jeanne" in text_of(client.get(f"/animation/seances/{past_session_id}"))

    response = post(client, f"/donnees-personnelles/{person_id}/effacer")
    assert response.status_code == 302
    assert "sont effacées" in text_of(client.get(response.headers["Location"]))

    person = read(db, Person, person_id)
    assert person.full_name == f"Personne effacée n° {person_id}"
    assert (person.phone, person.address, person.carers) == (None, "", [])
    bookings = {b.id: b for b in read(db, select(Booking))}
    assert bookings[past_id].person_id == person_id
    assert bookings[past_id].status is BookingStatus.confirmed  # still counted
    assert bookings[seat_id].status is BookingStatus.cancelled
    assert bookings[waiting_id].status is BookingStatus.confirmed  # the waitlist moved up
    assert smtp_sink.to("odette@example.org"), "the promoted person is told"

    roster = text_of(client.get(f"/animation/seances/{past_session_id}"))
    assert "Delmas" not in roster and "DELMAS" not in roster
    assert "effacée" in roster
    assert "Delmas" not in text_of(client.get("/animation/telephone?q=delmas"))
    # Nothing left to erase: the file says so and offers no second erasure.
    page = text_of(client.get(f"/donnees-personnelles/{person_id}"))
    assert "Ces données sont effacées" in page and "Effacer cette personne" not in page
    again = client.get(f"/donnees-personnelles/{person_id}/effacer")
    assert again.status_code == 302
    assert "déjà effacée" in text_of(client.get(again.headers["Location"]))


def test_the_notice_says_exactly_what_the_erasure_does_and_its_exceptions(client, world):
    text = text_of(client.get("/confidentialite"))
    for words in (
        # What erase_person blanks, beyond the person's record.
        "l'adresse et les notes des alertes « personne ne répond » qui vous concernent",
        "Si vous aviez votre propre compte, il est fermé : son nom, son identifiant, son adresse "
        "e-mail et son téléphone sont effacés, et plus personne ne peut s'y connecter.",
        # What the nightly purge leaves to the coordination.
        "une fiche sans aucune activité datée est examinée par la coordination",
        "celui d'un aidant qui la suit, est encore ouvert n'est pas effacée automatiquement",
        "vos réservations passées, sans votre nom ni votre adresse",
    ):
        assert words in text, words
