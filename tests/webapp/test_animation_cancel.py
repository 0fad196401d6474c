"""Cancelling a session: e-mail to whoever has one, the others on the staff's call list."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from scheduling.models import (
    ActivitySession,
    Booking,
    BookingStatus,
    Notification,
    NotificationChannel,
    SessionStatus,
)
from tests.webapp import animation_fixtures
from tests.webapp.conftest import post, read, text_of

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

# Shared fixtures, made visible to pytest in this module.
animator = animation_fixtures.animator
as_animator = animation_fixtures.as_animator


@pytest.fixture
def booked(world, make_person, make_booking):
    """Three bookings: a person with a carer (e-mail), one with her own e-mail, one with none."""
    with_email = make_person(
        first_name="Odette", last_name="Lasserre", email="odette@example.org", commune=world.commune
    )
    phone_only = make_person(
        first_name="Marcel", last_name="Chassaing", phone="05 53 27 40 12", commune=world.commune
    )
    bookings = [
        make_booking(world.session, person=world.person),
        make_booking(world.session, person=with_email),
        make_booking(world.session, person=phone_only),
    ]
    return [b.id for b in bookings]


def test_cancelling_mails_who_has_an_address_and_lists_the_others_to_call(
    client, world, as_animator, booked, db, smtp_sink
):
    session_id = world.session.id
    form = text_of(client.get(f"/animation/seances/{session_id}/annuler"))
    assert "2 personnes recevront un e-mail" in form
    assert "1 personne sera à appeler" in form

    response = post(
        client, f"/animation/seances/{session_id}/annuler", {"reason": "Animatrice malade"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/animation/appels")

    session = read(db, ActivitySession, session_id)
    assert session.status is SessionStatus.cancelled
    statuses = {b.status for b in read(db, select(Booking).where(Booking.id.in_(booked)))}
    assert statuses == {BookingStatus.cancelled}

    to_carer = smtp_sink.to("marie@example.org")
    to_person = smtp_sink.to("odette@example.org")
    assert len(to_carer) == 1 and len(to_person) == 1
    assert "Séance annulée" in to_carer[0]["Subject"]
    assert "Animatrice malade" in to_carer[0].get_content()
    assert "Jeanne Delmas" in to_carer[0].get_content()
    assert not [m for m in smtp_sink.messages if "chassaing" in str(m["To"]).lower()]

    calls = text_of(client.get("/animation/appels"))
    assert "Marcel Chassaing" in calls and "05 53 27 40 12" in calls
    assert "Séance annulée. 2 personnes prévenues par e-mail ; 1 appel à passer." in calls
    assert "Animatrice malade" in calls
    assert "Odette Lasserre" not in calls and "Jeanne Delmas" not in calls
    assert "E-mails qui ne sont pas partis" not in calls  # they all left


def test_a_call_ticked_as_done_leaves_the_list(client, world, as_animator, booked, db):
    session_id = world.session.id
    post(client, f"/animation/seances/{session_id}/annuler", {"reason": "Salle inondée"})
    [call] = read(
        db,
        select(Notification).where(Notification.channel == NotificationChannel.phone_call),
    )
    call_id = call.id
    assert 'href="tel:+33553274012"' in client.get("/animation/appels").get_data(as_text=True)

    response = post(client, f"/animation/appels/{call_id}/fait")
    assert response.status_code == 302
    assert "Appel à Marcel Chassaing noté comme fait." in text_of(
        client.get(response.headers["Location"])
    )
    assert read(db, Notification, call_id).done_at is not None
    assert "Aucun appel à passer." in text_of(client.get("/animation/appels"))


def test_a_cancellation_needs_a_reason(client, world, as_animator, booked, db):
    session_id = world.session.id
    response = post(client, f"/animation/seances/{session_id}/annuler", {"reason": "  "})
    assert response.status_code == 200
    assert "Indiquez le motif de l'annulation." in text_of(response)
    assert read(db, ActivitySession, session_id).status is SessionStatus.scheduled


def test_another_centres_call_cannot_be_ticked(
    client, world, as_animator, make_centre, make_person, db
):
    other = make_centre()
    person = make_person(centre=other)
    from tests.conftest import _save  # the factories' own commit helper

    call = _save(
        db,
        Notification(
            centre_id=other.id,
            person_id=person.id,
            kind="session_cancelled",
            channel=NotificationChannel.phone_call,
            recipient="05 53 00 00 00",
            subject="Séance annulée",
            body="…",
            created_at=world.session.starts_at,
        ),
    )
    call_id = call.id
    assert post(client, f"/animation/appels/{call_id}/fait").status_code == 404
    assert read(db, Notification, call_id).done_at is None


def test_e_mails_that_could_not_leave_are_shown_to_call(
    app, client, world, as_animator, booked, db
):
    import socket

    with socket.socket() as closed:  # a port nobody listens on: the SMTP server is "down"
        closed.bind(("127.0.0.1", 0))
        app.config["MAIL_PORT"] = closed.getsockname()[1]
    session_id = world.session.id
    post(client, f"/animation/seances/{session_id}/annuler", {"reason": "Grève des transports"})
    page = text_of(client.get("/animation/appels"))
    assert "E-mails qui ne sont pas partis" in page
    assert "Odette Lasserre" in page and "e-mail à odette@example.org" in page
    assert "Jeanne Delmas" in page and "e-mail à marie@example.org" in page
