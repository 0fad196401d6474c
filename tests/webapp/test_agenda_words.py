"""French wording and distances used by the agenda (no database)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from flask import Flask

from webapp import fr
from webapp.agenda import Availability, haversine_km
from webapp.fr import fr_date, fr_when, with_town


def test_french_dates():
    when = fr_when(dt.datetime(2026, 11, 24, 14, 30), dt.datetime(2026, 11, 24, 16))
    assert when == "mardi 24 novembre, 14\u00a0h\u00a030 – 16\u00a0h\u00a000"
    assert fr_date(dt.date(2026, 12, 1)) == "mardi 1er décembre"


def test_a_date_in_another_year_names_its_year():
    today = dt.date(2026, 11, 22)
    assert fr_date(dt.date(2027, 1, 5), today=today) == "mardi 5 janvier 2027"
    assert fr_date(dt.date(2026, 12, 1), today=today) == "mardi 1er décembre"
    when = fr_when(dt.datetime(2027, 1, 5, 14), dt.datetime(2027, 1, 5, 16), today=today)
    assert when.startswith("mardi 5 janvier 2027, 14")


def test_pages_name_the_year_of_a_date_next_year():
    app = Flask(__name__)
    fr.init_app(app)
    next_year = dt.date(dt.date.today().year + 1, 1, 5)
    page = app.jinja_env.from_string("{{ d | fr_date }} / {{ fr_when(t) }}")
    text = page.render(d=next_year, t=dt.datetime.combine(next_year, dt.time(14)))
    assert text.count(f"5 janvier {next_year.year}") == 2


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("Place de la Mairie", "Place de la Mairie, 24150 Lalinde"),
        ("Place de la Mairie, 24150 Lalinde", "Place de la Mairie, 24150 Lalinde"),
        ("", "24150 Lalinde"),
    ],
)
def test_a_venue_address_names_its_town_once(address, expected):
    lalinde = SimpleNamespace(name="Lalinde", postcode="24150")
    assert with_town(address, lalinde) == expected


def test_haversine_bergerac_lalinde_is_about_twenty_km():
    assert haversine_km(44.8519, 0.4834, 44.8368, 0.7378) == pytest.approx(20.3, abs=0.2)


@pytest.mark.parametrize(
    ("seats", "wheelchairs", "seats_text", "wheelchair_text"),
    [
        (3, 1, "3 places restantes", "dont 1 place pour fauteuil roulant"),
        (1, 2, "1 place restante", "dont 2 places pour fauteuil roulant"),
        (0, 0, "complet — liste d'attente", "aucune place pour fauteuil roulant"),
    ],
)
def test_seats_in_words(seats, wheelchairs, seats_text, wheelchair_text):
    a = Availability(seats_left=seats, wheelchair_left=wheelchairs, waitlisted=0)
    assert a.seats_text == seats_text
    assert a.wheelchair_text == wheelchair_text
