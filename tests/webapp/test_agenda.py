"""The agenda: filters, distance from the chosen person's home, seats in words."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduling.models import Audience, Field, SessionStatus
from tests.webapp.conftest import text_of

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_agenda_lists_upcoming_sessions_with_seats_in_words(
    client, world, make_session, make_booking, make_activity
):
    full_activity = make_activity(title="Loto du jeudi", field=Field.isolation)
    full = make_session(activity=full_activity, seats=1, venue=world.session.venue)
    make_booking(full)
    past = make_session(
        activity=make_activity(title="Atelier passé"),
        starts_at=dt.datetime.now() - dt.timedelta(days=2),
    )
    cancelled = make_session(
        activity=make_activity(title="Séance annulée"), status=SessionStatus.cancelled
    )
    page = text_of(client.get("/"))
    assert world.session.activity.title in page
    assert "5 places restantes" in page
    assert "Loto du jeudi" in page
    assert "complet — liste d'attente" in page
    assert "Atelier passé" not in page and past.id
    assert "Séance annulée" not in page and cancelled.id


def test_filters_by_field_audience_and_commune(
    client, world, make_session, make_activity, make_venue
):
    talk = make_activity(title="Groupe de parole", field=Field.isolation, audience=Audience.carers)
    eymet_hall = make_venue(name="Salle d'Eymet", commune=world.far_commune)
    make_session(activity=talk, venue=eymet_hall)

    by_field = text_of(client.get("/?field=isolation"))
    assert "Groupe de parole" in by_field
    assert world.session.activity.title not in by_field

    by_audience = text_of(client.get("/?audience=carers"))
    assert "Groupe de parole" in by_audience
    assert world.session.activity.title not in by_audience

    by_commune = text_of(client.get(f"/?commune={world.commune.id}"))
    assert world.session.activity.title in by_commune
    assert "Groupe de parole" not in by_commune


def test_sessions_after_a_date(client, world, make_session, make_activity):
    later = make_session(
        activity=make_activity(title="Atelier de janvier"),
        starts_at=dt.datetime.combine(dt.date.today() + dt.timedelta(days=30), dt.time(10)),
    )
    day = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    page = text_of(client.get(f"/?date={day}"))
    assert "Atelier de janvier" in page and later.id
    assert world.session.activity.title not in page


def test_carer_sees_sessions_nearest_to_the_chosen_person_first(
    client, world, login, make_session, make_activity, make_venue
):
    eymet_hall = make_venue(name="Salle d'Eymet", commune=world.far_commune)
    make_session(
        activity=make_activity(title="Atelier à Eymet"),
        venue=eymet_hall,
        starts_at=world.session.starts_at + dt.timedelta(days=1),
    )
    login(world.carer)
    near_jeanne = text_of(client.get(f"/?pour={world.person.id}"))  # Jeanne lives in Lalinde
    assert near_jeanne.index(world.session.activity.title) < near_jeanne.index("Atelier à Eymet")
    assert "près de chez Jeanne Delmas" in near_jeanne
    assert "à moins d'1 km" in near_jeanne
    near_louis = text_of(client.get(f"/?pour={world.other_person.id}"))  # Louis lives in Eymet
    assert near_louis.index("Atelier à Eymet") < near_louis.index(world.session.activity.title)


def test_carer_cannot_pick_someone_they_do_not_help(client, world, login):
    login(world.carer)
    page = text_of(client.get(f"/?pour={world.stranger.id}"))
    assert "Paul Faure" not in page


@pytest.mark.parametrize(
    "query",
    [
        "?date=pas-une-date",
        "?date=2026-13-45",
        "?field=<script>",
        "?commune=abc",
        "?commune=99999999999999999999999",
        "?pour=-1",
        "?audience=%00",
        "?date=9999-12-31",
        "?date=0001-01-01",
    ],
)
def test_nasty_filters_never_crash(client, world, query):
    response = client.get("/" + query)
    assert response.status_code == 200
    assert "<script>" not in response.get_data(as_text=True).split("<main", 1)[1]


def test_bad_date_is_explained_next_to_the_field(client, world):
    page = text_of(client.get("/?date=pas-une-date"))
    assert "date" in page.lower()
    assert "valide" in page


def test_a_year_typed_wrong_is_explained_and_the_agenda_still_shows(client, world):
    page = text_of(client.get("/?date=9999-12-31"))
    assert "Indiquez une date entre 2000 et 2099" in page
    assert world.session.activity.title in page  # the agenda falls back to today


@pytest.mark.parametrize(
    "url", ["/seances/abc", "/seances/-1", "/seances/99999999999999999999999999", "/seances/0"]
)
def test_odd_session_ids_are_404(client, world, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Page introuvable" in text_of(response)


def test_a_fresh_install_shows_an_empty_agenda_not_an_error(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Aucune activité n'est encore enregistrée" in text_of(response)
