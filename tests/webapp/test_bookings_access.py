"""Who may see what: ownership of bookings, roles, and isolation between centres.

Runs on SQLite and, when the server is reachable, on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import select

from scheduling.models import Booking, BookingStatus, Role
from tests.webapp.conftest import PASSWORD, post, read, text_of


def test_a_carer_who_guesses_another_persons_booking_id_gets_404(
    client, world, login, make_booking, db
):
    theirs = make_booking(world.session, person=world.stranger)
    login(world.carer)
    assert client.get(f"/reservations/{theirs.id}").status_code == 404
    assert client.get(f"/reservations/{theirs.id}/annuler").status_code == 404
    assert post(client, f"/reservations/{theirs.id}/annuler").status_code == 404
    assert read(db, Booking, theirs.id).status is BookingStatus.confirmed
    assert "Paul Faure" not in text_of(client.get("/reservations"))


def test_a_carer_cannot_book_for_someone_they_do_not_help(client, world, login, db):
    login(world.carer)
    response = post(
        client,
        f"/seances/{world.session.id}/reserver",
        {"person_id": world.stranger.id, "companions": 0, "confirmed": "yes"},
    )
    assert response.status_code == 200
    assert "choix valide" in text_of(response)
    assert read(db, select(Booking)) == []


def test_another_centres_session_is_404(
    client, world, login, make_centre, make_session, make_commune, make_venue
):
    other = make_centre(name="CRT de Sarlat")
    commune = make_commune(centre=other, name="Sarlat")
    elsewhere = make_session(centre=other, venue=make_venue(centre=other, commune=commune))
    login(world.carer)
    assert client.get(f"/seances/{elsewhere.id}").status_code == 404
    assert client.get(f"/seances/{elsewhere.id}/reserver").status_code == 404
    response = post(
        client,
        f"/seances/{elsewhere.id}/reserver",
        {"person_id": world.person.id, "companions": 0, "confirmed": "yes"},
    )
    assert response.status_code == 404
    assert elsewhere.activity_id not in [s for s in text_of(client.get("/")).split() if s.isdigit()]


def test_another_centres_carer_sees_none_of_our_bookings(
    client, world, make_centre, make_user, make_booking, make_commune, make_person
):
    other = make_centre(name="CRT de Nontron")
    commune = make_commune(centre=other)
    their_person = make_person(centre=other, commune=commune)
    make_user(
        centre=other, username="aidant-nontron", password=PASSWORD, helped_persons=[their_person]
    )
    ours = make_booking(world.session, person=world.person)
    post(client, "/connexion", {"username": "aidant-nontron", "password": PASSWORD})
    assert client.get(f"/reservations/{ours.id}").status_code == 404
    assert client.get(f"/seances/{world.session.id}").status_code == 404
    assert world.session.activity.title not in text_of(client.get("/"))


def test_booking_pages_need_a_signed_in_carer(client, world, make_user):
    for url in ("/reservations", f"/seances/{world.session.id}/reserver"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/connexion" in response.headers["Location"]
    make_user(username="chauffeur", role=Role.driver, password=PASSWORD)
    post(client, "/connexion", {"username": "chauffeur", "password": PASSWORD})
    assert client.get("/reservations").status_code == 403
    assert client.get(f"/seances/{world.session.id}/reserver").status_code == 403


def test_an_older_person_with_an_account_books_for_themself(
    client, world, make_person, make_user, db
):
    me = make_person(first_name="Yvette", last_name="Lacoste", commune=world.commune)
    make_user(username="yvette", person_id=me.id, email="yvette@example.org", password=PASSWORD)
    post(client, "/connexion", {"username": "yvette", "password": PASSWORD})
    form = text_of(client.get(f"/seances/{world.session.id}/reserver"))
    assert "Pour : Yvette Lacoste" in form
    data = {"person_id": me.id, "companions": 0}
    post(client, f"/seances/{world.session.id}/reserver", data)
    response = post(client, f"/seances/{world.session.id}/reserver", {**data, "confirmed": "yes"})
    assert response.status_code == 302
    assert read(db, select(Booking).where(Booking.person_id == me.id)) != []
