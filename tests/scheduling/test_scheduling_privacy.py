"""Editing a person, and the GDPR requests: export and erasure."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from scheduling.booking import book
from scheduling.models import BookingStatus, Mobility, Notification, Role
from scheduling.people import persons_visible_to, search_persons, update_person
from scheduling.privacy import erase_person, export_person


@pytest.fixture
def coordinator(make_user):
    return make_user(role=Role.coordinator)


def test_update_person_keeps_existing_bookings_as_booked(
    db, make_person, make_session, make_commune, coordinator, now
):
    person = make_person(mobility=Mobility.walks, address="1 rue Neuve")
    booking = book(
        db,
        session_id=make_session().id,
        person_id=person.id,
        actor=coordinator,
        now=now,
        transport_out=True,
    ).booking
    new_commune = make_commune(name="Mouleydier", lat=44.85, lon=0.59)
    result = update_person(
        db,
        actor=coordinator,
        person_id=person.id,
        first_name="Jeanne",
        last_name="Martin",
        commune_id=new_commune.id,
        phone="05.53.23.00.01",
        address="4 impasse du Moulin",
        mobility=Mobility.wheelchair,
    )
    assert result.ok, result.errors
    assert (person.phone, person.lat, person.lon) == ("05 53 23 00 01", 44.85, 0.59)
    assert booking.mobility is Mobility.walks
    assert booking.pickup_address.startswith("1 rue Neuve")


def test_a_carer_cannot_edit_someone_they_do_not_help(db, make_person, make_user):
    stranger = make_person()
    carer = make_user(role=Role.carer)
    result = update_person(
        db,
        actor=carer,
        person_id=stranger.id,
        first_name="X",
        last_name="Y",
        commune_id=stranger.commune_id,
    )
    assert result.errors == {"__all__": "Cette personne n'existe pas."}
    assert stranger.first_name == "Jeanne"


def test_export_gives_everything_held_about_the_person(
    db, make_person, make_session, make_user, coordinator, now
):
    person = make_person(email="leon@example.org", driver_notes="Code portail 1234")
    make_user(
        role=Role.carer,
        display_name="Sophie Martin",
        email="sophie@example.org",
        helped_persons=[person],
    )
    book(db, session_id=make_session().id, person_id=person.id, actor=coordinator, now=now)

    data = export_person(db, actor=coordinator, person_id=person.id)

    assert data["personne"]["courriel"] == "leon@example.org"
    assert data["personne"]["consignes pour le chauffeur"] == "Code portail 1234"
    assert data["aidants"] == ["Sophie Martin"]
    assert [b["état"] for b in data["réservations"]] == ["Confirmée"]
    assert [m["destinataire"] for m in data["messages"]] == [
        "leon@example.org",
        "sophie@example.org",
    ]


def test_erasure_blanks_the_person_frees_their_seats_and_keeps_anonymous_history(
    db, make_person, make_session, make_booking, make_user, coordinator, now
):
    person = make_person(first_name="Léon", last_name="Bonnet", email="leon@example.org")
    carer = make_user(role=Role.carer, helped_persons=[person])
    past = make_booking(make_session(starts_at=now - dt.timedelta(days=3)), person=person)
    upcoming = make_session(seats=1)
    seat = book(db, session_id=upcoming.id, person_id=person.id, actor=coordinator, now=now)
    waiting = book(
        db, session_id=upcoming.id, person_id=make_person().id, actor=coordinator, now=now
    ).booking

    animator = make_user(role=Role.animator)
    assert not erase_person(db, actor=animator, person_id=person.id, now=now).ok
    result = erase_person(db, actor=coordinator, person_id=person.id, now=now)

    assert result.ok
    assert person.full_name == f"Personne effacée n° {person.id}"
    assert (person.phone, person.email, person.address, person.lat) == (None, None, "", None)
    assert seat.booking.status is BookingStatus.cancelled
    assert waiting.status is BookingStatus.confirmed  # the waitlist moved up
    assert past.status is BookingStatus.confirmed and past.pickup_address == ""
    assert persons_visible_to(db, carer) == []
    assert search_persons(db, actor=coordinator, query="Bonnet") == []
    assert db.scalars(select(Notification).where(Notification.person_id == person.id)).all() == []


def test_erasure_forgets_the_home_on_past_rounds_and_welfare_alerts(
    db, make_person, make_session, make_booking, coordinator, now
):
    from scheduling.transport_models import RoundStop, StopKind, WelfareAlert
    from tests.scheduling.driving_builders import make_round, make_vehicle

    person = make_person(address="3 rue des Tilleuls", lat=44.84, lon=0.74)
    session = make_session(starts_at=now - dt.timedelta(days=3))
    booking = make_booking(session, person=person, transport_out=True)
    round_ = make_round(
        db,
        bookings=[booking],
        date=session.starts_at.date(),
        driver=None,
        vehicle=make_vehicle(db, person.centre_id),
    )
    pickup = next(s for s in round_.stops if s.kind is StopKind.pickup)
    alert = WelfareAlert(
        centre_id=person.centre_id,
        stop_id=pickup.id,
        person_id=person.id,
        address=pickup.address,
        raised_at=now - dt.timedelta(days=3),
    )
    db.add(alert)
    db.flush()
    venue_address = next(s for s in round_.stops if s.kind is StopKind.dropoff).address

    assert erase_person(db, actor=coordinator, person_id=person.id, now=now).ok

    stops = db.scalars(select(RoundStop).where(RoundStop.booking_id == booking.id)).all()
    pickup, dropoff = sorted(stops, key=lambda s: s.seq)
    assert "Tilleuls" not in pickup.address
    assert (pickup.lat, pickup.lon) == (person.commune.lat, person.commune.lon)
    assert dropoff.address == venue_address  # the venue is nobody's personal data
    assert alert.address == "" and alert.person_id == person.id  # the alert itself stays


def test_erasure_drops_the_persons_address_from_the_geocoding_cache_only(
    db, make_person, make_session, make_booking, coordinator, now
):
    from scheduling.booking import default_pickup_address
    from scheduling.transport_models import GeocodeEntry, GeocodeSource

    person = make_person(address="3 rue des Tilleuls")
    spouse = make_person(address="3 rue des Tilleuls", commune=person.commune)
    neighbour = make_person(address="5 rue des Tilleuls", commune=person.commune)
    session = make_session(starts_at=now - dt.timedelta(days=3))
    home = default_pickup_address(person)
    make_booking(session, person=person, pickup_address=home)
    make_booking(
        make_session(starts_at=now - dt.timedelta(days=10)),
        person=person,
        pickup_address="Chez sa fille, 24100 Bergerac",
    )
    make_booking(session, person=spouse, pickup_address=home)
    make_booking(session, person=neighbour, pickup_address=default_pickup_address(neighbour))
    for address in (home, "Chez sa fille, 24100 Bergerac", default_pickup_address(neighbour)):
        db.add(
            GeocodeEntry(
                centre_id=person.centre_id,
                address=address,
                lat=44.8,
                lon=0.7,
                source=GeocodeSource.manual,
                looked_up_at=now,
            )
        )
    db.flush()

    assert erase_person(db, actor=coordinator, person_id=person.id, now=now).ok

    cached = set(db.scalars(select(GeocodeEntry.address)))
    assert "Chez sa fille, 24100 Bergerac" not in cached
    assert home in cached  # the spouse is still picked up there
    assert default_pickup_address(neighbour) in cached


def test_erasure_closes_and_blanks_the_persons_own_account_and_her_alert_notes(
    db, make_person, make_user, coordinator, now
):
    from werkzeug.security import check_password_hash

    from scheduling.models import User
    from scheduling.transport_models import WelfareAlert

    person = make_person(first_name="Léa", last_name="Roux", address="5 rue du Lavoir")
    own = make_user(
        person_id=person.id,
        username="lea.roux",
        password="secret-de-lea",
        display_name="Léa Roux",
        email="lea.roux@example.org",
        phone="06 11 22 33 44",
    )
    carer = make_user(display_name="Paul Roux", helped_persons=[person])
    alert = WelfareAlert(
        centre_id=person.centre_id,
        person_id=person.id,
        address=person.address,
        note="La clé est chez la voisine, Mme Roux a une canne.",
        raised_at=now - dt.timedelta(days=2),  # recent: the retention purge would keep it
    )
    db.add(alert)
    db.flush()

    assert erase_person(db, actor=coordinator, person_id=person.id, now=now).ok
    db.commit()
    db.expire_all()

    account = db.get(User, own.id)
    assert account.person_id is None
    assert account.active is False
    assert (account.display_name, account.email, account.phone) == ("Compte effacé", None, None)
    assert account.username == f"compte-efface-{own.id}"
    assert not check_password_hash(account.password_hash, "secret-de-lea")
    # The carer is someone else: unlinked, not closed.
    carer = db.get(User, carer.id)
    assert carer.active and carer.display_name == "Paul Roux" and carer.helped_persons == []
    alert = db.get(WelfareAlert, alert.id)
    assert (alert.address, alert.note) == ("", "")
    assert alert.raised_at == now - dt.timedelta(days=2)  # still counted in the reports
