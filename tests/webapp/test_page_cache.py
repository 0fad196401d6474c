"""The visitors' page cache (webapp/page_cache.py): served again without a query, never stale.

Every change committed anywhere (a booking through the web, an animator's edit, a test factory
on another connection, a bulk update) makes the next visitor's page fresh; signed-in users are
never served a stored page nor fill the cache. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, update

from scheduling.models import ActivitySession
from tests.webapp import animation_fixtures
from tests.webapp.conftest import post, sign_in, text_of
from webapp import create_app, page_cache
from webapp.page_cache import HEADER

animator = animation_fixtures.animator
as_animator = animation_fixtures.as_animator


@pytest.fixture
def statements(app: Any) -> Iterator[list[str]]:
    """The SQL the app sends, from now on."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    engine = app.extensions["navette_engine"]
    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def visit(app: Any, url: str) -> Any:
    """A visitor with no cookie at all (a fresh browser)."""
    response = app.test_client().get(url)
    assert response.status_code == 200, response.status_code
    return response


def seats_on(app: Any, session: Any) -> tuple[str, str]:
    """What a visitor's session page says of the seats, and whether it came from the cache."""
    response = visit(app, f"/seances/{session.id}")
    text = text_of(response)
    for words in ("places restantes", "place restante", "complet"):
        if words in text:
            start = text.index(words)
            return text[max(start - 3, 0) : start + len(words)].strip(), response.headers[HEADER]
    raise AssertionError(text)


def test_a_second_visit_is_served_from_the_cache_without_rendering(app, world, statements):
    for url in ("/", f"/seances/{world.session.id}", "/?field=isolation"):
        first = visit(app, url)
        assert first.headers[HEADER] == "miss"
        assert "Set-Cookie" not in first.headers  # a visitor gets no cookie from these pages
        statements.clear()
        second = visit(app, url)
        assert second.headers[HEADER] == "hit"
        assert second.get_data() == first.get_data()
        assert second.mimetype == "text/html"
        # The security headers are on the stored answer too.
        for name in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"):
            assert second.headers[name] == first.headers[name]
        assert "Cookie" in second.headers["Vary"]
        # Not one query through SQLAlchemy: the page was not rendered (the version is read on
        # the bare DBAPI connection).
        assert statements == []


def test_a_booking_made_through_the_web_shows_at_the_next_visit(app, world):
    assert seats_on(app, world.session) == ("5 places restantes", "miss")
    assert seats_on(app, world.session) == ("5 places restantes", "hit")
    carer = app.test_client()
    assert sign_in(carer, world.carer.username).status_code == 302
    data = {"person_id": world.person.id, "companions": 0, "pickup_address": ""}
    post(carer, f"/seances/{world.session.id}/reserver", data)
    booked = post(carer, f"/seances/{world.session.id}/reserver", {**data, "confirmed": "yes"})
    assert booked.status_code == 302, text_of(booked)
    assert seats_on(app, world.session) == ("4 places restantes", "miss")
    assert "4 places restantes" in text_of(visit(app, "/"))


def test_a_session_edited_by_the_animator_shows_at_the_next_visit(app, client, world, as_animator):
    assert seats_on(app, world.session)[0] == "5 places restantes"
    day = world.session.starts_at.date()
    data = {
        "activity_id": world.session.activity_id,
        "date": day.isoformat(),
        "start_time": "14:00",
        "end_time": "16:00",
        "venue_id": world.session.venue_id,
        "seats": 9,
        "wheelchair_places": 1,
        "animator_id": "",
        "booking_deadline_hours": 24,
        "transport_offered": "y",
        "frequency": "once",
        "until_date": "",
        "excluded_dates": "",
    }
    edited = post(client, f"/animation/seances/{world.session.id}/modifier", data)
    assert edited.status_code == 302, text_of(edited)
    assert seats_on(app, world.session) == ("9 places restantes", "miss")


def test_a_change_on_another_connection_and_a_bulk_update_show_at_the_next_visit(
    app, db, world, make_booking, make_session, make_activity
):
    assert seats_on(app, world.session)[0] == "5 places restantes"
    agenda = text_of(visit(app, "/"))
    make_booking(world.session)  # the test's own session: another connection than the app's
    assert seats_on(app, world.session) == ("4 places restantes", "miss")

    db.execute(
        update(ActivitySession).where(ActivitySession.id == world.session.id).values(seats=2)
    )
    db.commit()
    assert seats_on(app, world.session) == ("1 place restante", "miss")

    added = make_session(activity=make_activity(title="Chorale du mardi"))
    assert "Chorale du mardi" not in agenda and added.id
    assert "Chorale du mardi" in text_of(visit(app, "/"))


def test_a_signed_in_user_is_never_served_a_stored_page_nor_fills_the_cache(app, world):
    visitor_page = visit(app, "/")
    carer = app.test_client()
    assert sign_in(carer, world.carer.username).status_code == 302
    signed_in = carer.get("/")
    assert HEADER not in signed_in.headers
    assert signed_in.get_data() != visitor_page.get_data()
    assert "Marie Delmas" in text_of(signed_in)
    # Their visit to a page no visitor asked yet leaves nothing behind.
    assert HEADER not in carer.get(f"/seances/{world.session.id}").headers
    assert visit(app, f"/seances/{world.session.id}").headers[HEADER] == "miss"
    # Nor is a request carrying an Authorization header or a session cookie served from it.
    assert HEADER not in app.test_client().get("/", headers={"Authorization": "x"}).headers
    for cookie in ("session=anything", "remember_token=anything"):
        assert (
            HEADER
            not in app.test_client(use_cookies=False).get("/", headers={"Cookie": cookie}).headers
        )


def test_each_query_string_and_each_centre_has_its_own_page(
    app, world, make_centre, make_session, make_activity, make_venue, make_commune
):
    assert visit(app, "/?field=isolation&audience=carers").headers[HEADER] == "miss"
    assert visit(app, "/?audience=carers&field=isolation").headers[HEADER] == "hit"
    assert visit(app, "/?field=isolation").headers[HEADER] == "miss"
    first = visit(app, "/")
    # The agenda's calendar link is absolute: an https visit gets its own page.
    secure = app.test_client().get("/", base_url="https://navette.test")
    assert secure.headers[HEADER] == "miss"
    assert "https://navette.test/" in secure.get_data(as_text=True)
    assert world.session.activity.title in text_of(first)

    other = make_centre(name="Centre de Bergerac")
    elsewhere = make_session(
        centre=other,
        activity=make_activity(title="Marche à Bergerac", centre=other),
        venue=make_venue(centre=other, commune=make_commune(centre=other)),
    )
    app.config["DEFAULT_CENTRE"] = other.slug
    page = visit(app, "/")
    assert page.headers[HEADER] == "miss"
    assert "Marche à Bergerac" in text_of(page) and elsewhere.id
    assert world.session.activity.title not in text_of(page)
    assert visit(app, "/").headers[HEADER] == "hit"
    app.config["DEFAULT_CENTRE"] = world.centre.slug
    back = visit(app, "/")
    assert world.session.activity.title in text_of(back)


def test_the_cache_can_be_turned_off(db_url, world):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "x", "PAGE_CACHE": False}
    )
    try:
        client = app.test_client()
        assert HEADER not in client.get("/").headers
        assert HEADER not in client.get("/").headers
    finally:
        app.extensions["navette_engine"].dispose()


def test_the_minute_of_the_centres_clock_is_part_of_the_key(app, world, monkeypatch):
    assert visit(app, "/").headers[HEADER] == "miss"
    assert visit(app, "/").headers[HEADER] == "hit"
    clock = page_cache._clock
    monkeypatch.setattr(page_cache, "_clock", lambda zone: clock(zone) + dt.timedelta(minutes=1))
    assert visit(app, "/").headers[HEADER] == "miss"
