"""Odd characters typed or pasted into forms and search boxes never end in a 500.

Runs on SQLite and on PostgreSQL: PostgreSQL refuses the NUL character in text, which a
pasted string can carry, so this is where it would break.
"""

from __future__ import annotations

from sqlalchemy import select

from scheduling.models import Centre, Person
from tests.webapp import animation_fixtures
from tests.webapp.conftest import post, read, text_of
from webapp.db import get_db

animator = animation_fixtures.animator
as_animator = animation_fixtures.as_animator

NUL = "\x00"


def test_a_nul_character_in_a_new_person_is_dropped_not_a_500(client, world, as_animator, db):
    response = post(
        client,
        "/animation/telephone/personnes/nouvelle",
        {
            "last_name": f"La{NUL}fon",
            "first_name": "Germaine",
            "address": f"Lieu-dit{NUL} La Borie",
            "commune_id": world.commune.id,
            "mobility": "walks",
            "driver_notes": f"Chien{NUL}",
        },
    )
    assert response.status_code == 302, text_of(response)
    [person] = read(db, select(Person).where(Person.first_name == "Germaine"))
    assert (person.last_name, person.address, person.driver_notes) == (
        "Lafon",
        "Lieu-dit La Borie",
        "Chien",
    )


def test_a_nul_character_in_the_phone_search_is_not_a_500(client, world, as_animator):
    response = client.get("/animation/telephone", query_string={"q": f"Del{NUL}mas"})
    assert response.status_code == 200
    assert "DELMAS Jeanne" in text_of(response)


def test_a_nul_character_in_a_booking_address_is_not_a_500(client, world, login):
    login(world.carer)
    url = f"/seances/{world.session.id}/reserver"
    response = post(
        client,
        url,
        {
            "person_id": world.person.id,
            "companions": 0,
            "transport_out": "y",
            "pickup_address": f"3 rue des Tilleuls{NUL}",
            "confirmed": "yes",
        },
    )
    assert response.status_code == 302, text_of(response)


def test_a_failed_database_write_still_shows_the_french_error_page(app, world, login, client):
    """The error page reads the signed-in user: the failed transaction must not break it."""

    def duplicate_centres():
        get_db().add_all([Centre(name="A", slug="double"), Centre(name="B", slug="double")])
        get_db().flush()  # the unique slug fails here, leaving the session's transaction dead
        return "jamais"

    app.add_url_rule("/_test/double", view_func=duplicate_centres)
    login(world.carer)
    response = client.get("/_test/double")
    assert response.status_code == 500
    assert "Un problème est survenu" in text_of(response)
    assert "Marie Delmas" in text_of(response)  # the page still knows who is signed in


def test_a_nul_character_in_a_calendar_address_is_a_404_not_a_500(client, world):
    """Found by test_fuzzing.py: the feeds queried the slug, token or INSEE code as typed."""
    slug = world.centre.slug
    for url in (
        f"/centres/{slug}/agenda.ics?commune=24%0037",
        f"/centres/{slug}%00/agenda.ics",
        "/calendrier/abc%00def.ics",
    ):
        assert client.get(url).status_code == 404, url
