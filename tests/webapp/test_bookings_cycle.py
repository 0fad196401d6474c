"""Joining a whole cycle of a recurring workshop in one step."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from scheduling.models import Booking, BookingStatus, Frequency, SessionSeries
from tests.webapp.conftest import post, read, text_of

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def cycle(db, world, make_session, make_booking):
    """Three weekly sessions; the second one is already full."""
    venue = world.session.venue
    activity = world.session.activity
    first = dt.datetime.combine(dt.date.today() + dt.timedelta(days=2), dt.time(10))
    series = SessionSeries(
        activity_id=activity.id,
        frequency=Frequency.weekly,
        first_date=first.date(),
        until_date=first.date() + dt.timedelta(days=14),
        start_time=dt.time(10),
        end_time=dt.time(11),
        venue_id=venue.id,
        seats=4,
        wheelchair_places=1,
        transport_offered=True,
    )
    db.add(series)
    db.commit()
    sessions = [
        make_session(
            activity=activity,
            venue=venue,
            series_id=series.id,
            seats=4,
            starts_at=first + dt.timedelta(days=7 * week),
        )
        for week in range(3)
    ]
    make_booking(sessions[1], companions=3)  # fills the 4 seats
    db.commit()
    return series, sessions


def test_join_the_whole_cycle_full_sessions_go_on_their_waitlist(
    client, world, login, db, cycle, smtp_sink
):
    series, sessions = cycle
    login(world.carer)
    page = text_of(client.get(f"/seances/{sessions[0].id}"))
    assert "S'inscrire à tout le cycle (3 séances)" in page

    url = f"/cycles/{series.id}/inscrire"
    form = text_of(client.get(f"{url}?pour={world.person.id}"))
    assert "complet — liste d'attente" in form
    data = {
        "person_id": world.person.id,
        "companions": 0,
        "transport_out": "y",
        "pickup_address": "3 rue des Tilleuls, 24150 Lalinde",
    }
    check = post(client, url, data)
    assert "Confirmer l'inscription aux 3 séances" in text_of(check)
    response = post(client, url, {**data, "confirmed": "yes"})
    assert response.status_code == 302

    result = text_of(client.get(response.headers["Location"]))
    assert "Inscription au cycle enregistrée" in result
    assert result.count("confirmée") == 2
    assert "liste d'attente, position 1" in result

    bookings = read(
        db,
        select(Booking).where(Booking.person_id == world.person.id).order_by(Booking.session_id),
    )
    assert [b.status for b in bookings] == [
        BookingStatus.confirmed,
        BookingStatus.waitlisted,
        BookingStatus.confirmed,
    ]
    assert all(b.transport_out and not b.transport_back for b in bookings)
    mails = smtp_sink.to("marie@example.org")
    assert len(mails) == 1  # one e-mail for the whole cycle
    assert "Inscription au cycle" in mails[0]["Subject"]


def test_cycle_of_another_centre_or_nonsense_id_is_404(client, world, login, cycle):
    login(world.carer)
    for series_id in ("999999", "99999999999999999999999999"):
        assert client.get(f"/cycles/{series_id}/inscrire").status_code == 404
    assert client.get("/cycles/abc/inscrire").status_code == 404


def test_cycle_result_of_a_stranger_is_404(client, world, login, cycle):
    series, _ = cycle
    login(world.carer)
    url = f"/cycles/{series.id}/inscription?pour={world.stranger.id}"
    assert client.get(url).status_code == 404
