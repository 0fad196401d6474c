"""Booking as a carer: form, confirmation step, e-mail, Mes réservations, cancel, waitlist."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from scheduling.models import (
    Booking,
    BookingStatus,
    Mobility,
    Notification,
    NotificationChannel,
    Role,
    SessionStatus,
)
from scheduling.sessions import cancel_session
from tests.webapp.conftest import post, read, text_of

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def book(client, session_id, person_id, **answers):
    """Fill in the booking form, then confirm it, as a carer would."""
    data = {"person_id": person_id, "companions": 0, **answers}
    check = post(client, f"/seances/{session_id}/reserver", data)
    assert check.status_code == 200, text_of(check)
    assert "Vérifiez, puis confirmez" in text_of(check), text_of(check)
    return post(client, f"/seances/{session_id}/reserver", {**data, "confirmed": "yes"})


def bookings_of(db, person):
    return read(db, select(Booking).where(Booking.person_id == person.id).order_by(Booking.id))


def test_book_with_transport_confirms_and_mails_the_carer(client, world, login, db, smtp_sink):
    login(world.carer)
    form = client.get(f"/seances/{world.session.id}/reserver?pour={world.person.id}")
    page = form.get_data(as_text=True)
    assert "3 rue des Tilleuls, 24150 Lalinde" in page  # address prefilled from the person
    assert "se déplace seul(e)" in text_of(form)  # mobility shown from the person

    response = book(
        client,
        world.session.id,
        world.person.id,
        transport_out="y",
        transport_back="y",
        pickup_address="3 rue des Tilleuls, 24150 Lalinde",
    )
    assert response.status_code == 302
    confirmation = text_of(client.get(response.headers["Location"]))
    assert "Réservation confirmée" in confirmation
    assert "Aller et retour" in confirmation

    [booking] = bookings_of(db, world.person)
    assert booking.status is BookingStatus.confirmed
    assert booking.transport_out and booking.transport_back
    assert booking.booked_by_id == world.carer.id

    mails = smtp_sink.to("marie@example.org")
    assert len(mails) == 1
    assert "Réservation confirmée" in mails[0]["Subject"]
    assert "Jeanne Delmas" in mails[0].get_body(("plain",)).get_content()


def test_confirmation_step_writes_nothing_until_confirmed(client, world, login, db):
    login(world.carer)
    response = post(
        client,
        f"/seances/{world.session.id}/reserver",
        {"person_id": world.person.id, "companions": 1},
    )
    assert "Vérifiez, puis confirmez" in text_of(response)
    assert bookings_of(db, world.person) == []


def test_edit_from_the_confirmation_step_keeps_the_answers(client, world, login):
    login(world.carer)
    response = post(
        client,
        f"/seances/{world.session.id}/reserver",
        {"person_id": world.person.id, "companions": 2, "edit": "1"},
    )
    assert 'value="2"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("companions", "message"),
    [("abc", "entier"), ("-1", "entre 0 et 3"), ("99999999999999999999", "entre 0 et 3")],
)
def test_bad_companions_are_refused_next_to_the_field_with_the_value_kept(
    client, world, login, db, companions, message
):
    login(world.carer)
    response = post(
        client,
        f"/seances/{world.session.id}/reserver",
        {"person_id": world.person.id, "companions": companions, "confirmed": "yes"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in text_of(response)
    assert f'value="{companions}"' in html
    assert 'aria-invalid="true"' in html
    assert bookings_of(db, world.person) == []


def test_transport_without_address_is_refused(client, world, login, db):
    login(world.carer)
    response = post(
        client,
        f"/seances/{world.session.id}/reserver",
        {"person_id": world.person.id, "companions": 0, "transport_out": "y", "pickup_address": ""},
    )
    assert "Indiquez l'adresse où le véhicule viendra la chercher." in text_of(response)


def test_junk_person_id_is_a_form_error_not_a_crash(client, world, login, db):
    login(world.carer)
    for junk in ("abc", "", "99999999999999999999999"):
        response = post(
            client,
            f"/seances/{world.session.id}/reserver",
            {"person_id": junk, "companions": 0, "confirmed": "yes"},
        )
        assert response.status_code == 200
    assert read(db, select(Booking)) == []


def test_duplicate_booking_is_refused_in_french(client, world, login, db):
    login(world.carer)
    book(client, world.session.id, world.person.id)
    response = book(client, world.session.id, world.person.id)
    assert response.status_code == 200
    assert "Jeanne Delmas est déjà inscrit(e) à cette séance." in text_of(response)
    assert len(bookings_of(db, world.person)) == 1


def test_full_session_offers_the_waitlist(client, world, login, db, make_booking, make_session):
    full = make_session(seats=2, venue=world.session.venue)
    make_booking(full, companions=1)
    login(world.carer)
    form = text_of(client.get(f"/seances/{full.id}/reserver?pour={world.person.id}"))
    assert "Cette séance est complète" in form
    assert "liste d'attente" in form
    response = book(client, full.id, world.person.id)
    page = text_of(client.get(response.headers["Location"]))
    assert "Inscription sur la liste d'attente" in page
    assert "position 1" in page
    [booking] = bookings_of(db, world.person)
    assert booking.status is BookingStatus.waitlisted


def test_mes_reservations_lists_status_in_words_and_cancel_frees_the_seat(
    client, world, login, db, make_booking, make_session, make_person, make_user, smtp_sink
):
    small = make_session(seats=1, venue=world.session.venue)
    login(world.carer)
    book(client, small.id, world.person.id)
    # Someone else's person waits for that seat; their carer has an e-mail address.
    waiting_person = make_person(first_name="Odette", last_name="Brun")
    make_user(
        username="aidant-odette", email="odette.fille@example.org", helped_persons=[waiting_person]
    )
    waiting = make_booking(small, person=waiting_person, status=BookingStatus.waitlisted)
    book(client, small.id, world.other_person.id)  # second in line

    page = text_of(client.get("/reservations"))
    assert "confirmée" in page
    assert "liste d'attente, position 2" in page

    [mine] = [b for b in bookings_of(db, world.person)]
    confirm_page = client.get(f"/reservations/{mine.id}/annuler")
    assert "Oui, annuler la réservation" in text_of(confirm_page)
    assert bookings_of(db, world.person)[0].status is BookingStatus.confirmed  # GET changed nothing

    response = post(client, f"/reservations/{mine.id}/annuler")
    assert response.status_code == 302
    assert "est annulée. La place est libérée." in text_of(client.get("/reservations"))

    assert read(db, Booking, mine.id).status is BookingStatus.cancelled
    assert read(db, Booking, waiting.id).status is BookingStatus.confirmed  # first in line
    assert bookings_of(db, world.other_person)[0].status is BookingStatus.waitlisted
    promoted_mails = smtp_sink.to("odette.fille@example.org")
    assert len(promoted_mails) == 1
    assert "place s'est libérée" in promoted_mails[0]["Subject"]
    [sent] = read(
        db, select(Notification).where(Notification.recipient == "odette.fille@example.org")
    )
    assert sent.sent_at is not None


def test_a_booking_the_centre_cancelled_says_so_with_the_reason(
    client, world, login, db, make_booking, make_user, now
):
    make_booking(world.session, person=world.person)
    staff = make_user(username="animatrice", role=Role.animator)
    cancel_session(db, actor=staff, now=now, session_id=world.session.id, reason="Salle inondée")
    db.commit()
    login(world.carer)
    page = text_of(client.get("/reservations"))
    assert "Jeanne Delmas : séance annulée par le centre (Salle inondée)" in page


def test_promoted_person_without_email_goes_on_the_call_list(
    client, world, login, db, make_booking, make_session, make_person
):
    small = make_session(seats=1, venue=world.session.venue)
    login(world.carer)
    book(client, small.id, world.person.id)
    alone = make_person(first_name="Gaston", last_name="Lafon", phone="05 53 11 22 33")
    make_booking(small, person=alone, status=BookingStatus.waitlisted)
    [mine] = bookings_of(db, world.person)
    post(client, f"/reservations/{mine.id}/annuler")
    [call] = read(db, select(Notification).where(Notification.person_id == alone.id))
    assert call.channel is NotificationChannel.phone_call
    assert call.recipient == "05 53 11 22 33"


def test_waitlist_skips_a_wheelchair_when_no_wheelchair_place_is_free(
    client, world, login, db, make_booking, make_session, make_person
):
    session = make_session(seats=2, wheelchair_places=1, venue=world.session.venue)
    login(world.carer)
    book(client, session.id, world.person.id)
    make_booking(session, mobility=Mobility.wheelchair)  # takes the only wheelchair place
    chair = make_person(mobility=Mobility.wheelchair)
    walker = make_person(mobility=Mobility.walker)
    skipped = make_booking(
        session, person=chair, status=BookingStatus.waitlisted, mobility=Mobility.wheelchair
    )
    promoted = make_booking(
        session, person=walker, status=BookingStatus.waitlisted, mobility=Mobility.walker
    )
    [mine] = bookings_of(db, world.person)
    post(client, f"/reservations/{mine.id}/annuler")
    assert read(db, Booking, skipped.id).status is BookingStatus.waitlisted
    assert read(db, Booking, promoted.id).status is BookingStatus.confirmed


def test_session_page_speaks_plain_french(client, world):
    page = text_of(client.get(f"/seances/{world.session.id}"))
    assert "5 places restantes" in page
    assert "Accès de plain-pied" in page
    assert re.search(r"(Lundi|Mardi|Mercredi|Jeudi|Vendredi|Samedi|Dimanche) \d", page)
    assert re.search(r"14 h 00 – 16 h 00", page)
    assert "Se connecter pour réserver" in page


def test_a_venue_typed_with_its_town_names_the_town_once(
    client, world, login, make_venue, make_session
):
    venue = make_venue(commune=world.commune, address="Place de la Mairie, 24150 Lalinde")
    session = make_session(venue=venue, transport_offered=True)
    page = text_of(client.get(f"/seances/{session.id}"))
    assert "Place de la Mairie, 24150 Lalinde" in page and "Lalinde, 24150 Lalinde" not in page
    login(world.carer)
    form = text_of(client.get(f"/seances/{session.id}/reserver?pour={world.person.id}"))
    assert "Place de la Mairie, 24150 Lalinde —" in form
    assert "chez elle ou chez lui" not in form  # one plain sentence, whoever it is
    assert "trajet entre le domicile de Jeanne Delmas et l'activité" in form


@pytest.mark.parametrize(
    ("situation", "message"),
    [
        ({"status": SessionStatus.cancelled}, "Cette séance est annulée."),
        ({"starts_at": dt.datetime.now() - dt.timedelta(hours=1)}, "Cette séance est déjà passée."),
        (
            {"booking_deadline": dt.datetime.now() - dt.timedelta(minutes=5)},
            "La date limite de réservation est dépassée.",
        ),
    ],
)
def test_closed_sessions_say_why_in_french(
    client, world, login, make_session, db, situation, message
):
    closed = make_session(venue=world.session.venue, **situation)
    login(world.carer)
    page = text_of(client.get(f"/seances/{closed.id}/reserver?pour={world.person.id}"))
    assert message in page
    response = post(
        client,
        f"/seances/{closed.id}/reserver",
        {"person_id": world.person.id, "companions": 0, "confirmed": "yes"},
    )
    assert message in text_of(response)
    assert bookings_of(db, world.person) == []


def test_a_wheelchair_user_is_told_when_the_session_has_no_wheelchair_place(
    client, world, login, make_session, make_person, make_user, db
):
    no_chair = make_session(venue=world.session.venue, wheelchair_places=0)
    rolling = make_person(first_name="Marcel", last_name="Vidal", mobility=Mobility.wheelchair)
    carer = make_user(
        username="aidant-marcel", password="mot-de-passe-solide", helped_persons=[rolling]
    )
    login(carer)
    response = book(client, no_chair.id, rolling.id)
    assert "Cette séance n'a pas de place pour un fauteuil roulant." in text_of(response)
    assert bookings_of(db, rolling) == []


def test_agenda_and_session_page_show_what_is_already_booked(client, world, login):
    login(world.carer)
    book(client, world.session.id, world.person.id)
    agenda = text_of(client.get(f"/?pour={world.person.id}"))
    assert "Déjà réservé pour Jeanne Delmas" in agenda
    page = text_of(client.get(f"/seances/{world.session.id}"))
    assert "Jeanne Delmas est déjà inscrit(e) pour cette séance." in page
    assert "Réserver pour une autre personne" in page


def test_transport_boxes_are_ignored_when_the_session_offers_none(
    client, world, login, make_session, db
):
    walk_in = make_session(venue=world.session.venue, transport_offered=False)
    login(world.carer)
    form = text_of(client.get(f"/seances/{walk_in.id}/reserver?pour={world.person.id}"))
    assert "Pas de transport proposé" in form
    book(client, walk_in.id, world.person.id, transport_out="y", pickup_address="ailleurs")
    [booking] = bookings_of(db, world.person)
    assert not booking.transport_out and not booking.transport_back
