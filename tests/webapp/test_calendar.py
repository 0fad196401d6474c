"""Calendar feeds on the web: public agenda, private token feeds, 'Mon calendrier', 304s."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import icalendar
import pytest
from sqlalchemy import select

from scheduling.models import (
    BookingStatus,
    CalendarToken,
    Driver,
    Field,
    Role,
    Vehicle,
    VehicleKind,
)
from scheduling.transport_models import (
    DayStatus,
    Leg,
    Round,
    RoundStop,
    StopKind,
    TransportDay,
)
from tests.webapp.conftest import PASSWORD, post, read, text_of
from tests.webapp.ical_checks import by_uid, events, rfc5545_problems

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def feed(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype == "text/calendar"
    assert rfc5545_problems(response.data) == []
    return response


def subscribe(client, kind):
    """Create my link on 'Mon calendrier' and return the feed's path."""
    post(client, "/calendrier/creer", {"kind": kind})
    page = client.get("/calendrier").get_data(as_text=True)
    found = re.search(r"http://navette\.test(/calendrier/[A-Za-z0-9_-]{43}\.ics)", page)
    assert found, page
    return found.group(1)


# --- public agenda ---------------------------------------------------------------------------


def test_public_agenda_lists_sessions_with_place_and_filters(
    client, world, make_session, make_activity, make_venue
):
    talk = make_activity(title="Café des aidants", field=Field.isolation)
    far_venue = make_venue(name="Mairie d'Eymet", commune=world.far_commune)
    far = make_session(activity=talk, venue=far_venue)

    ics = feed(client, f"/centres/{world.centre.slug}/agenda.ics").data
    uids = set(by_uid(ics))
    slug = world.centre.slug
    assert uids == {
        f"session-{world.session.id}@{slug}.navette",
        f"session-{far.id}@{slug}.navette",
    }
    mine = by_uid(ics)[f"session-{world.session.id}@{slug}.navette"][0]
    assert str(mine["LOCATION"]) == "Salle des fêtes de Lalinde, Place de la mairie, 24150 Lalinde"
    assert mine["GEO"].to_ical() == "44.8368;0.7378"
    assert "À apporter" in str(mine["DESCRIPTION"])
    assert mine["SEQUENCE"] == 0

    by_commune = feed(client, f"/centres/{slug}/agenda.ics?commune=24167").data
    assert set(by_uid(by_commune)) == {f"session-{far.id}@{slug}.navette"}
    by_field = feed(client, f"/centres/{slug}/agenda.ics?field=care_prevention").data
    assert set(by_uid(by_field)) == {f"session-{world.session.id}@{slug}.navette"}
    # The deployment's default centre answers at /agenda.ics.
    assert set(by_uid(feed(client, "/agenda.ics").data)) == uids

    assert client.get(f"/centres/{slug}/agenda.ics?commune=00000").status_code == 404
    assert client.get(f"/centres/{slug}/agenda.ics?field=cuisine").status_code == 404
    assert client.get("/centres/nulle-part/agenda.ics").status_code == 404


def test_conditional_get_answers_304_until_something_changes(client, world, login, make_user, db):
    url = f"/centres/{world.centre.slug}/agenda.ics"
    first = feed(client, url)
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    since = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304

    staff = make_user(role=Role.animator, password=PASSWORD)
    login(staff)
    post(client, f"/animation/seances/{world.session.id}/annuler", {"reason": "Neige"})
    changed = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    [event] = events(changed.data)
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 1
    assert changed.headers["ETag"] != first.headers["ETag"]


# --- private feeds and their tokens ---------------------------------------------------------------


def test_carer_subscribes_then_revokes_and_renews(client, world, login, make_booking, db):
    booking = make_booking(world.session, person=world.person, transport_out=True)
    login(world.carer)
    page = client.get("/calendrier")
    assert "S'abonner" not in text_of(page)
    path = subscribe(client, "carer")
    html = client.get("/calendrier").get_data(as_text=True)
    token = path.split("/")[-1].removesuffix(".ics")
    assert f'href="webcal://navette.test/calendrier/{token}.ics"' in html
    assert (
        "https://calendar.google.com/calendar/r?cid=webcal%3A%2F%2Fnavette.test%2Fcalendrier%2F"
        + token
    ) in html
    assert (
        "https://outlook.live.com/calendar/0/addfromweb?url=http%3A%2F%2Fnavette.test%2Fcalendrier%2F"
        + token
    ) in html

    client.get("/")  # the feed needs no session: calendar apps have none
    [event] = events(feed(client, path).data)
    assert str(event["UID"]) == f"booking-{booking.id}@{world.centre.slug}.navette"
    assert "Transport demandé (aller)" in str(event["DESCRIPTION"])
    assert event.walk("VALARM")

    [row] = read(db, select(CalendarToken))
    post(client, f"/calendrier/{row.id}/renouveler")
    assert client.get(path).status_code == 404
    new_path = subscribe(client, "carer")
    assert new_path != path
    assert client.get(new_path).status_code == 200
    [new_row] = read(db, select(CalendarToken).where(CalendarToken.revoked_at.is_(None)))
    post(client, f"/calendrier/{new_row.id}/revoquer")
    assert client.get(new_path).status_code == 404


def test_nobody_revokes_someone_elses_link(client, world, login, db):
    login(world.carer)
    subscribe(client, "carer")
    other = SimpleNamespace(username=world.other_carer.username)
    [row] = read(db, select(CalendarToken))
    post(client, "/deconnexion")
    login(other)
    assert post(client, f"/calendrier/{row.id}/revoquer").status_code == 404
    assert read(db, CalendarToken, row.id).revoked_at is None
    assert post(client, "/calendrier/creer", {"kind": "animator"}).status_code == 302
    assert read(db, select(CalendarToken).where(CalendarToken.kind == "animator")) == []


def test_carer_feed_after_a_booking_is_cancelled(client, world, login, make_booking):
    kept = make_booking(world.session, person=world.person)
    gone = make_booking(world.session, person=world.other_person)
    login(world.carer)
    path = subscribe(client, "carer")
    before = by_uid(feed(client, path).data)
    assert len(before) == 2

    post(client, f"/reservations/{gone.id}/annuler")
    after = by_uid(feed(client, path).data)
    slug = world.centre.slug
    [cancelled] = after[f"booking-{gone.id}@{slug}.navette"]
    [still] = after[f"booking-{kept.id}@{slug}.navette"]
    assert cancelled["STATUS"] == "CANCELLED"
    assert cancelled["SEQUENCE"] == 1
    assert not cancelled.walk("VALARM")
    assert still["STATUS"] == "CONFIRMED"
    assert still["SEQUENCE"] == 0


def test_staff_give_a_person_without_account_a_link(
    client, world, login, make_user, make_booking, db
):
    mine = make_booking(world.session, person=world.stranger)
    make_booking(world.session, person=world.person)
    staff = make_user(role=Role.coordinator, password=PASSWORD)
    login(staff)
    page = client.get(f"/calendrier/personnes/{world.stranger.id}")
    assert "Créer son lien" in text_of(page)
    post(client, f"/calendrier/personnes/{world.stranger.id}")
    html = client.get(f"/calendrier/personnes/{world.stranger.id}").get_data(as_text=True)
    path = re.search(r"http://navette\.test(/calendrier/[A-Za-z0-9_-]{43}\.ics)", html).group(1)
    ics = feed(client, path).data
    assert set(by_uid(ics)) == {f"booking-{mine.id}@{world.centre.slug}.navette"}
    assert "Paul Faure" in str(events(ics)[0]["SUMMARY"])

    stranger_id = world.stranger.id
    [row] = read(db, select(CalendarToken))
    post(client, f"/calendrier/{row.id}/revoquer", {"person_id": stranger_id})
    assert client.get(path).status_code == 404


def test_carer_cannot_make_a_link_for_a_person(client, world, login):
    login(world.carer)
    assert client.get(f"/calendrier/personnes/{world.person.id}").status_code == 403


def test_revoked_or_unknown_token_is_404(client, world):
    assert client.get("/calendrier/" + "x" * 43 + ".ics").status_code == 404
    assert client.get("/calendrier/" + "x" * 300 + ".ics").status_code == 404


def test_animator_feed_counts_who_is_booked(client, world, login, make_user, make_booking, db):
    staff = make_user(role=Role.animator, password=PASSWORD, display_name="Sophie Lacoste")
    world.session.animator_id = staff.id
    db.commit()
    make_booking(world.session, person=world.person, companions=1)
    make_booking(world.session, person=world.other_person, status=BookingStatus.waitlisted)
    login(staff)
    path = subscribe(client, "animator")
    [event] = events(feed(client, path).data)
    assert "2 inscrits sur 5 places" in str(event["SUMMARY"])
    assert "1 personne en liste d'attente" in str(event["DESCRIPTION"])
    assert str(event["UID"]) == f"session-{world.session.id}@{world.centre.slug}.navette"


@pytest.fixture
def published_round(db, world, make_user, make_booking):
    """Tomorrow's... a published round that picks Jeanne up for the world's session."""
    driver_user = make_user(role=Role.driver, password=PASSWORD, display_name="Luc Chauffeur")
    vehicle = Vehicle(
        centre_id=world.centre.id,
        name="Minibus 1",
        kind=VehicleKind.minibus,
        seats=8,
        depot_lat=44.85,
        depot_lon=0.48,
        available_from=dt.time(7),
        available_until=dt.time(19),
    )
    driver = Driver(
        centre_id=world.centre.id,
        user_id=driver_user.id,
        available_from=dt.time(7),
        available_until=dt.time(19),
    )
    db.add_all([vehicle, driver])
    db.flush()
    start = world.session.starts_at
    day = TransportDay(
        centre_id=world.centre.id,
        date=start.date(),
        status=DayStatus.published,
        published_at=start - dt.timedelta(days=1),
    )
    db.add(day)
    db.flush()
    round_ = Round(
        centre_id=world.centre.id,
        day_id=day.id,
        vehicle_id=vehicle.id,
        driver_id=driver.id,
        status=DayStatus.published,
        starts_at=start - dt.timedelta(minutes=70),
        ends_at=start - dt.timedelta(minutes=10),
        distance_km=23.4,
    )
    db.add(round_)
    db.flush()
    booking = make_booking(world.session, person=world.person, transport_out=True)
    pickup = start - dt.timedelta(minutes=40)
    db.add(
        RoundStop(
            round_id=round_.id,
            seq=1,
            booking_id=booking.id,
            leg=Leg.outbound,
            kind=StopKind.pickup,
            address="3 rue des Tilleuls, 24150 Lalinde",
            lat=44.84,
            lon=0.74,
            planned_arrival=pickup,
            planned_begin=pickup,
            planned_departure=pickup + dt.timedelta(minutes=2),
            promised_from=pickup - dt.timedelta(minutes=5),
            promised_to=pickup + dt.timedelta(minutes=10),
        )
    )
    db.commit()
    return driver_user, round_, booking


def test_carer_feed_shows_the_promised_pickup_window(client, world, login, published_round):
    _, _, booking = published_round
    login(world.carer)
    path = subscribe(client, "carer")
    [event] = events(feed(client, path).data)
    assert str(event["UID"]) == f"booking-{booking.id}@{world.centre.slug}.navette"
    assert (
        "Aller : le véhicule passe entre 13 h 15 et 13 h 30, 3 rue des Tilleuls, 24150 Lalinde."
        in str(event["DESCRIPTION"])
    )


def test_driver_feed_lists_published_rounds_at_the_first_pickup(
    client, world, login, published_round, db
):
    driver_user, round_, _ = published_round
    login(driver_user)
    path = subscribe(client, "driver")
    [event] = events(feed(client, path).data)
    assert str(event["UID"]) == f"round-{round_.id}@{world.centre.slug}.navette"
    assert str(event["LOCATION"]) == "3 rue des Tilleuls, 24150 Lalinde"
    assert "Premier passage à 13 h 20" in str(event["DESCRIPTION"])
    assert event.decoded("DTSTART").replace(tzinfo=None) == round_.starts_at

    # Re-published (after a re-plan): subscribed calendars must take the new version.
    round_.day.published_at += dt.timedelta(hours=2)
    round_.starts_at += dt.timedelta(minutes=15)
    db.commit()
    [again] = events(feed(client, path).data)
    assert again["SEQUENCE"] > event["SEQUENCE"]


def test_confirmation_email_carries_the_booking_as_ics(client, world, login, smtp_sink):
    login(world.carer)
    data = {"person_id": world.person.id, "companions": 0, "confirmed": "yes"}
    post(client, f"/seances/{world.session.id}/reserver", data)
    [mail] = smtp_sink.to("marie@example.org")
    [attachment] = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    ics = attachment.get_content()
    ics = ics if isinstance(ics, bytes) else ics.encode()
    assert rfc5545_problems(ics) == []
    [event] = events(ics)
    assert event["STATUS"] == "CONFIRMED"
    assert event.decoded("DTSTART").replace(tzinfo=None) == world.session.starts_at
    assert isinstance(icalendar.Calendar.from_ical(ics), icalendar.Calendar)


def test_erasing_a_person_revokes_their_calendar_link(client, world, make_user, db, now):
    from scheduling import calendars, privacy

    staff = make_user(role=Role.coordinator)
    token = calendars.create_person_token(
        db, actor=staff, now=now, person_id=world.stranger.id
    ).value
    db.commit()
    assert client.get(f"/calendrier/{token.token}.ics").status_code == 200
    assert privacy.erase_person(db, actor=staff, person_id=world.stranger.id, now=now).ok
    db.commit()
    assert client.get(f"/calendrier/{token.token}.ics").status_code == 404


def test_agenda_page_offers_its_feed_with_the_same_filters(client, world):
    slug = world.centre.slug
    page = client.get(f"/?commune={world.commune.id}&field=care_prevention")
    html = page.get_data(as_text=True)
    url = f"http://navette.test/centres/{slug}/agenda.ics?commune=24229&amp;field=care_prevention"
    assert f'href="{url}"' in html
    assert 'href="webcal://navette.test/centres/' in html
    ics = feed(client, url.replace("&amp;", "&").removeprefix("http://navette.test")).data
    assert set(by_uid(ics)) == {f"session-{world.session.id}@{slug}.navette"}


def test_last_modified_moves_when_bytes_change_without_a_dtstamp(client, world, db):
    url = f"/centres/{world.centre.slug}/agenda.ics"
    first = feed(client, url)
    world.session.venue.name = "Salle polyvalente"  # no change counter on venues
    db.commit()
    since = {"If-Modified-Since": first.headers["Last-Modified"]}
    renamed = client.get(url, headers=since)
    assert renamed.status_code == 200
    assert "Salle polyvalente" in str(events(renamed.data)[0]["LOCATION"])
    assert renamed.last_modified > first.last_modified
    later = {"If-Modified-Since": renamed.headers["Last-Modified"]}
    assert client.get(url, headers=later).status_code == 304


def test_location_names_the_town_once_when_the_address_already_has_it(
    client, world, make_session, make_venue
):
    # The demo and most typed addresses already end with the postcode and town.
    hall = make_venue(
        name="Salle polyvalente", commune=world.commune, address="Place du 8 mai, 24150 Lalinde"
    )
    session = make_session(venue=hall)

    ics = feed(client, f"/centres/{world.centre.slug}/agenda.ics").data
    event = by_uid(ics)[f"session-{session.id}@{world.centre.slug}.navette"][0]
    assert str(event["LOCATION"]) == "Salle polyvalente, Place du 8 mai, 24150 Lalinde"
