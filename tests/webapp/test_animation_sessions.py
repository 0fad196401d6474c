"""Animator pages: activities, one-off and recurring sessions, editing one occurrence."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from scheduling.models import Activity, ActivitySession, Audience, Field, SessionSeries
from tests.webapp import animation_fixtures
from tests.webapp.animation_fixtures import next_weekday
from tests.webapp.conftest import post, read, text_of

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

# Shared fixtures, made visible to pytest in this module.
animator = animation_fixtures.animator
as_animator = animation_fixtures.as_animator


def sessions_of(db, activity_id):
    return read(
        db,
        select(ActivitySession)
        .where(ActivitySession.activity_id == activity_id)
        .order_by(ActivitySession.starts_at),
    )


def series_form(world, first: dt.date, **overrides):
    data = {
        "activity_id": world.session.activity_id,
        "date": first.isoformat(),
        "start_time": "14:00",
        "end_time": "16:00",
        "venue_id": world.session.venue_id,
        "seats": 12,
        "wheelchair_places": 2,
        "animator_id": "",
        "booking_deadline_hours": 24,
        "transport_offered": "y",
        "frequency": "weekly",
        "until_date": (first + dt.timedelta(days=28)).isoformat(),
        "excluded_dates": "",
    }
    data.update(overrides)
    return data


def test_weekly_series_with_an_excluded_date_creates_the_right_occurrences(
    client, world, as_animator, db
):
    first = next_weekday(dt.date.today(), 1)  # a Tuesday to come
    skipped = first + dt.timedelta(days=14)
    before = {s.id for s in sessions_of(db, world.session.activity_id)}

    response = post(
        client,
        "/animation/seances/nouvelle",
        series_form(world, first, excluded_dates=skipped.strftime("%d/%m/%Y")),
    )
    assert response.status_code == 302, text_of(response)
    created = [s for s in sessions_of(db, world.session.activity_id) if s.id not in before]
    assert [s.starts_at for s in created] == [
        dt.datetime.combine(first + dt.timedelta(days=days), dt.time(14)) for days in (0, 7, 21, 28)
    ]
    assert all(s.ends_at.time() == dt.time(16) and s.seats == 12 for s in created)
    assert all(s.booking_deadline == s.starts_at - dt.timedelta(hours=24) for s in created)
    [series] = read(db, select(SessionSeries))
    assert series.excluded_dates == [skipped.isoformat()]

    page = text_of(client.get(response.headers["Location"]))
    assert "4 séances" in page
    assert "Série créée : 4 séances" in page


def test_a_one_off_session_is_created_and_shows_its_roster(client, world, as_animator, db):
    day = dt.date.today() + dt.timedelta(days=10)
    data = series_form(world, day, frequency="once", until_date="", seats=8)
    response = post(client, "/animation/seances/nouvelle", data)
    assert response.status_code == 302, text_of(response)
    created = sessions_of(db, world.session.activity_id)[-1]
    assert created.starts_at == dt.datetime.combine(day, dt.time(14))
    assert created.series_id is None and created.transport_offered
    assert "Personne n'est inscrit" in text_of(client.get(response.headers["Location"]))


def test_bad_session_input_is_explained_next_to_the_field_and_kept(client, world, as_animator, db):
    first = next_weekday(dt.date.today(), 3)
    count_before = len(sessions_of(db, world.session.activity_id))
    response = post(
        client,
        "/animation/seances/nouvelle",
        series_form(
            world,
            first,
            end_time="13:00",
            seats="douze",
            excluded_dates="le 3 mai",
        ),
    )
    assert response.status_code == 200
    html, page = response.get_data(as_text=True), text_of(response)
    assert "La fin doit être après le début." in page
    assert "« le » n'est pas une date" in page
    assert 'value="douze"' in html  # what was typed stays in the field
    assert 'value="13:00"' in html
    assert 'id="end_time-error"' in html  # the message sits next to its field
    assert len(sessions_of(db, world.session.activity_id)) == count_before


def test_a_series_needs_its_last_date(client, world, as_animator, db):
    first = next_weekday(dt.date.today(), 2)
    response = post(client, "/animation/seances/nouvelle", series_form(world, first, until_date=""))
    assert "Indiquez jusqu'à quand la séance se répète." in text_of(response)


def test_a_session_in_the_past_is_refused_by_the_rules(client, world, as_animator, db):
    yesterday = dt.date.today() - dt.timedelta(days=1)
    data = series_form(world, yesterday, frequency="once", until_date="")
    response = post(client, "/animation/seances/nouvelle", data)
    assert response.status_code == 200
    assert "La séance ne peut pas commencer dans le passé." in text_of(response)


@pytest.mark.parametrize(
    ("first", "until"),
    [("0001-01-01", ""), ("9999-12-20", "9999-12-31"), ("2027-01-05", "20277-01-01")],
)
def test_a_year_typed_wrong_is_explained_not_a_500(client, world, as_animator, db, first, until):
    before = len(sessions_of(db, world.session.activity_id))
    data = series_form(world, dt.date.today(), date=first, until_date=until)
    data["frequency"] = "weekly" if until else "once"
    response = post(client, "/animation/seances/nouvelle", data)
    assert response.status_code == 200
    assert "Indiquez une date entre 2000 et 2099" in text_of(response) or "valide" in text_of(
        response
    )
    assert len(sessions_of(db, world.session.activity_id)) == before

    response = post(client, f"/animation/seances/{world.session.id}/modifier", data)
    assert response.status_code in (200, 302)  # one occurrence has no last date to get wrong
    assert 2000 <= read(db, ActivitySession, world.session.id).starts_at.year <= 2099


def test_editing_one_occurrence_leaves_the_others(
    client, world, as_animator, db, make_booking, smtp_sink
):
    first = next_weekday(dt.date.today(), 4)
    post(client, "/animation/seances/nouvelle", series_form(world, first))
    series_id = read(db, select(SessionSeries))[-1].id
    activity_id = world.session.activity_id
    occurrences = [s for s in sessions_of(db, activity_id) if s.series_id == series_id]
    second = occurrences[1]
    make_booking(second, person=world.person)  # Jeanne, whose carer has an e-mail address

    form = client.get(f"/animation/seances/{second.id}/modifier").get_data(as_text=True)
    assert 'value="14:00"' in form and f'value="{second.starts_at.date().isoformat()}"' in form
    data = series_form(world, second.starts_at.date(), start_time="15:00", end_time="17:00")
    response = post(client, f"/animation/seances/{second.id}/modifier", data)
    assert response.status_code == 302, text_of(response)
    assert "Séance modifiée. 1 personne inscrite prévenue du changement." in text_of(
        client.get(response.headers["Location"])
    )

    after = {s.id: s for s in sessions_of(db, activity_id)}
    assert after[second.id].starts_at.time() == dt.time(15)
    assert all(
        after[s.id].starts_at.time() == dt.time(14) for s in occurrences if s.id != second.id
    )
    [mail] = smtp_sink.to("marie@example.org")
    assert "Séance modifiée" in mail["Subject"]
    assert "15 h 00" in mail.get_content()


def test_create_and_edit_an_activity(client, world, as_animator, db):
    centre_id = world.centre.id
    response = post(
        client,
        "/animation/activites/nouvelle",
        {
            "title": "Atelier nutrition",
            "field": "care_prevention",
            "audience": "older_people",
            "description": "Bien manger après 75 ans.",
            "active": "y",
        },
    )
    assert response.status_code == 302
    [activity] = read(db, select(Activity).where(Activity.title == "Atelier nutrition"))
    assert activity.field is Field.care_prevention and activity.centre_id == centre_id

    response = post(
        client,
        f"/animation/activites/{activity.id}/modifier",
        {"title": "Repas et nutrition", "field": "isolation", "audience": "carers"},
    )
    assert response.status_code == 302
    edited = read(db, Activity, activity.id)
    assert (edited.title, edited.field, edited.audience, edited.active) == (
        "Repas et nutrition",
        Field.isolation,
        Audience.carers,
        False,
    )
    assert "Repas et nutrition" in text_of(client.get("/animation/activites"))


def test_an_activity_needs_a_title_and_a_field(client, world, as_animator):
    response = post(client, "/animation/activites/nouvelle", {"title": " ", "audience": "carers"})
    page = text_of(response)
    assert "Indiquez le titre de l'activité." in page
    assert "Choisissez le volet de l'activité." in page


def test_the_error_summary_lists_the_fields_in_the_order_of_the_page(client, world, as_animator):
    page = client.get("/animation/seances/nouvelle").get_data(as_text=True)
    response = post(client, "/animation/seances/nouvelle", {"frequency": "once"})
    html = response.get_data(as_text=True)
    start = html.index('class="error-summary"')
    summary = html[start : html.index("</ul>", start)]
    linked = re.findall(r'href="#([\w-]+)"', summary)
    assert linked[:2] == ["activity_id", "date"]
    # The page asks them in that order too.
    assert page.index('id="activity_id"') < page.index('id="date"')
