"""The coordinator picks the driver of each round by hand (before or after publication), and
drivers are told when a choice or a rebuild published again changes their rounds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from scheduling import calendars
from scheduling.audit import AuditEntry
from scheduling.models import (
    Booking,
    BookingStatus,
    Driver,
    FeedKind,
    Notification,
    NotificationKind,
    Role,
)
from scheduling.transport import get_or_create_day, publish_day, transport_settings
from scheduling.transport_models import Round, TransportDay
from tests.webapp import transport_fixtures
from tests.webapp.conftest import csrf_token, post, read, sign_in, text_of
from tests.webapp.transport_fixtures import TransportWorld
from webapp.db import session_scope
from webapp.jobs import run_build

transport_world = transport_fixtures.transport_world
transport_app = transport_fixtures.transport_app
fake_geocoder = transport_fixtures.fake_geocoder

NOT_DECLARED = "pas de disponibilité déclarée ce jour-là"


@pytest.fixture
def world(
    transport_world: TransportWorld,
    transport_app: Any,
    make_user: Callable[..., Any],
    make_booking: Callable[..., Any],
    db: Any,
) -> TransportWorld:
    """Three passengers booked with rides; a second driver, Bernard, who works every day."""
    transport_settings(db, transport_world.centre.id).solver_time_limit_s = 1
    bernard = make_user(
        username="bernard",
        display_name="Bernard Volant",
        role=Role.driver,
        email="bernard@crt.example",
        password=transport_fixtures.PASSWORD,
    )
    db.add(
        Driver(
            centre_id=transport_world.centre.id,
            user_id=bernard.id,
            available_from=dt.time(7),
            available_until=dt.time(20),
            weekdays=[0, 1, 2, 3, 4, 5, 6],
        )
    )
    for person in transport_world.persons[:3]:
        make_booking(transport_world.session, person=person, transport_out=True)
    db.commit()
    return transport_world


def _build(app: Any, world: TransportWorld, db: Any) -> None:
    centre_id = world.centre.id
    db.commit()  # reading the id may begin a transaction (SQLite: the write lock)
    run_build(app, centre_id, world.day, None, 1)


def _publish(app: Any, world: TransportWorld, db: Any, now: dt.datetime) -> None:
    centre_id = world.centre.id
    db.commit()
    with app.app_context(), session_scope(app) as session:
        publish_day(session, get_or_create_day(session, centre_id, world.day), now)


def _driver_id(db: Any, username: str) -> int:
    found = next(d.id for d in read(db, select(Driver)) if d.user.username == username)
    db.commit()  # the lazy load of `user` began a transaction
    return found


def _rounds(db: Any) -> list[Round]:
    return list(read(db, select(Round).order_by(Round.id)))


def _driver_mails(db: Any) -> list[Notification]:
    return list(
        read(
            db,
            select(Notification)
            .where(Notification.kind == NotificationKind.transport_changed)
            .order_by(Notification.id),
        )
    )


def _coordinator(app: Any, db: Any) -> Any:
    db.commit()
    client = app.test_client()
    assert sign_in(client, "coordinatrice").status_code == 302
    return client


def test_a_round_nobody_could_drive_gets_a_driver_chosen_by_hand(
    transport_app: Any, world: TransportWorld, db: Any
) -> None:
    # Alain declared no day of that week: the build leaves the rounds without a driver.
    alain = read(db, Driver, world.driver.id)
    alain.weekdays = [(world.day.weekday() + 1) % 7]
    db.commit()
    bernard_id = _driver_id(db, "bernard")
    read(db, Driver, bernard_id).weekdays = [(world.day.weekday() + 2) % 7]
    db.commit()
    _build(transport_app, world, db)
    client = _coordinator(transport_app, db)
    day = world.day.isoformat()
    page = text_of(client.get(f"/transport/jour/{day}"))
    assert "aucun chauffeur disponible" in page, page
    assert "choisir le chauffeur" in page
    form = client.get(f"/transport/jour/{day}/chauffeurs")
    assert form.status_code == 200
    text = text_of(form)
    assert f"Alain Chauffeur ({NOT_DECLARED})" in text
    assert f"Bernard Volant ({NOT_DECLARED})" in text
    alain_id = world.driver.id
    round_ = _rounds(db)[0]
    round_id, vehicle = round_.id, round_.vehicle_id
    response = post(
        client, f"/transport/jour/{day}/chauffeurs", {f"round-{round_id}": str(alain_id)}
    )
    assert response.status_code == 302
    assert read(db, Round, round_id).driver_id == alain_id
    assert _driver_mails(db) == []  # a draft: nobody to tell yet
    # The choice outlives a rebuild: the vehicle's new round keeps its driver.
    _build(transport_app, world, db)
    assert [r.driver_id for r in _rounds(db) if r.vehicle_id == vehicle] == [alain_id]
    assert "Alain Chauffeur" in text_of(client.get(f"/transport/jour/{day}"))


def test_drivers_who_declared_the_weekday_come_first(
    transport_app: Any, world: TransportWorld, db: Any
) -> None:
    alain = read(db, Driver, world.driver.id)
    alain.weekdays = [(world.day.weekday() + 1) % 7]
    db.commit()
    _build(transport_app, world, db)
    client = _coordinator(transport_app, db)
    html = client.get(f"/transport/jour/{world.day.isoformat()}/chauffeurs").get_data(as_text=True)
    assert html.index("Bernard Volant</option>") < html.index(
        f"Alain Chauffeur ({NOT_DECLARED})</option>"
    )


def test_changing_the_driver_of_a_published_round_tells_both_and_moves_the_sheet(
    transport_app: Any, world: TransportWorld, db: Any, now: dt.datetime, smtp_sink: Any
) -> None:
    _build(transport_app, world, db)
    alain_round = next(r for r in _rounds(db) if r.driver_id == world.driver.id)
    round_id = alain_round.id
    _publish(transport_app, world, db, now)
    alain_user = read(db, type(world.driver_user), world.driver_user.id)
    alain_feed = calendars.create_my_token(db, actor=alain_user, now=now, kind=FeedKind.driver)
    assert alain_feed.value is not None
    alain_token = alain_feed.value.token
    db.commit()
    alain = transport_app.test_client()
    assert sign_in(alain, "chauffeur").status_code == 302
    sheet = f"/chauffeur/tournees/{round_id}"
    assert alain.get(sheet).status_code == 200
    feed = f"/calendrier/{alain_token}.ics"
    assert f"round-{round_id}" in alain.get(feed).get_data(as_text=True)

    client = _coordinator(transport_app, db)
    bernard_id = _driver_id(db, "bernard")
    response = post(
        client,
        f"/transport/jour/{world.day.isoformat()}/chauffeurs",
        {f"round-{round_id}": str(bernard_id)},
        follow_redirects=True,
    )
    assert "Chauffeurs enregistrés ; 2 chauffeurs prévenus par e-mail." in text_of(response)
    assert read(db, Round, round_id).driver_id == bernard_id
    mails = {n.recipient: n.body for n in _driver_mails(db)}
    assert set(mails) == {"alain@crt.example", "bernard@crt.example"}
    assert "Tournée retirée" in mails["alain@crt.example"]
    assert "Nouvelle tournée" in mails["bernard@crt.example"]
    assert "arrêts)" in mails["bernard@crt.example"]  # a pickup and a drop-off at least
    assert smtp_sink.to("bernard@crt.example") and smtp_sink.to("alain@crt.example")
    # At once: Alain's sheet and feed lose the round, Bernard's has it.
    assert alain.get(sheet).status_code == 404
    assert f"round-{round_id}" not in alain.get(feed).get_data(as_text=True)
    bernard = transport_app.test_client()
    assert sign_in(bernard, "bernard").status_code == 302
    assert bernard.get(sheet).status_code == 200


def test_each_driver_chosen_changed_or_taken_off_by_hand_is_in_the_journal_without_names(
    transport_app: Any, world: TransportWorld, db: Any
) -> None:
    _build(transport_app, world, db)
    round_id = next(r.id for r in _rounds(db) if r.driver_id == world.driver.id)
    alain_id, centre_id, coordinator_id = world.driver.id, world.centre.id, world.coordinator.id
    bernard_id = _driver_id(db, "bernard")
    client = _coordinator(transport_app, db)
    page = f"/transport/jour/{world.day.isoformat()}/chauffeurs"
    for choice in (str(bernard_id), str(bernard_id), "", str(alain_id)):  # the 2nd changes nothing
        assert post(client, page, {f"round-{round_id}": choice}).status_code == 302

    logged = read(
        db,
        select(AuditEntry)
        .where(AuditEntry.centre_id == centre_id, AuditEntry.action.like("rounds.driver%"))
        .order_by(AuditEntry.id),
    )
    assert [(e.action, e.object_type, e.object_id, e.actor_id) for e in logged] == [
        ("rounds.driver_changed", "round", round_id, coordinator_id),
        ("rounds.driver_removed", "round", round_id, coordinator_id),
        ("rounds.driver_chosen", "round", round_id, coordinator_id),
    ]
    assert logged[0].summary.startswith("Chauffeur changé : tournée du ")
    for entry in logged:
        assert "Alain" not in entry.summary and "Bernard" not in entry.summary
        assert entry.person_id is None


def test_another_centres_driver_or_junk_is_refused_next_to_the_field_and_nothing_saved(
    transport_app: Any,
    world: TransportWorld,
    db: Any,
    now: dt.datetime,
    make_centre: Callable[..., Any],
    make_user: Callable[..., Any],
) -> None:
    _build(transport_app, world, db)
    _publish(transport_app, world, db, now)
    other = make_centre(slug="ailleurs", name="Ailleurs")
    stranger = make_user(centre=other, role=Role.driver, display_name="Zoé Lointaine")
    foreign = Driver(
        centre_id=other.id,
        user_id=stranger.id,
        available_from=dt.time(7),
        available_until=dt.time(20),
        weekdays=[0, 1, 2, 3, 4, 5, 6],
    )
    db.add(foreign)
    db.commit()
    foreign_id = foreign.id
    db.commit()
    before = {r.id: r.driver_id for r in _rounds(db)}
    round_ids = sorted(before)
    client = _coordinator(transport_app, db)
    url = f"/transport/jour/{world.day.isoformat()}/chauffeurs"
    assert "Zoé Lointaine" not in text_of(client.get(url))
    bernard_id = _driver_id(db, "bernard")
    for value in (str(foreign_id), "pas-un-nombre", "9" * 40, "²", "-3"):
        data = {f"round-{round_id}": str(bernard_id) for round_id in round_ids}
        data[f"round-{round_ids[0]}"] = value  # one bad choice: nothing at all is saved
        response = post(client, url, data)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "Choix invalide" in html
        assert f'id="round-{round_ids[0]}-error"' in html
        assert "Rien n&#39;a été enregistré" in html or "Rien n'a été enregistré" in html
        assert {r.id: r.driver_id for r in _rounds(db)} == before
        assert _driver_mails(db) == []
    # Without the CSRF token: refused, nothing saved.
    response = client.post(url, data={f"round-{round_ids[0]}": str(bernard_id)})
    assert response.status_code == 400
    assert {r.id: r.driver_id for r in _rounds(db)} == before


@pytest.mark.parametrize("role", [Role.carer, Role.animator, Role.driver])
def test_only_the_coordination_chooses_drivers(
    transport_app: Any,
    world: TransportWorld,
    db: Any,
    make_user: Callable[..., Any],
    role: Role,
) -> None:
    _build(transport_app, world, db)
    user = make_user(role=role, password=transport_fixtures.PASSWORD)
    before = {r.id: r.driver_id for r in _rounds(db)}
    username = user.username
    db.commit()
    client = transport_app.test_client()
    assert sign_in(client, username).status_code == 302
    url = f"/transport/jour/{world.day.isoformat()}/chauffeurs"
    assert client.get(url).status_code == 403
    token = csrf_token(client, "/")
    data = {"csrf_token": token, f"round-{min(before)}": ""}
    assert client.post(url, data=data).status_code == 403
    assert {r.id: r.driver_id for r in _rounds(db)} == before


def test_a_rebuild_published_again_tells_each_driver_what_changed_once(
    transport_app: Any,
    world: TransportWorld,
    db: Any,
    now: dt.datetime,
    make_booking: Callable[..., Any],
    smtp_sink: Any,
) -> None:
    # Bernard drives nothing at first (he declared no day); Alain drives every round.
    bernard_id = _driver_id(db, "bernard")
    read(db, Driver, bernard_id).weekdays = []
    db.commit()
    _build(transport_app, world, db)
    _publish(transport_app, world, db, now)
    assert {r.driver_id for r in _rounds(db)} == {world.driver.id}
    # Behind the rounds' back (no re-plan): Jeanne cancels, Marcel books with a ride.
    jeanne = read(db, select(Booking).where(Booking.person_id == world.persons[0].id))[0]
    jeanne.status = BookingStatus.cancelled
    make_booking(world.session, person=world.persons[3], transport_out=True)
    db.commit()
    _build(transport_app, world, db)  # the manual rebuild of the published day
    assert _driver_mails(db) == []  # nobody is told before the day is published again
    client = _coordinator(transport_app, db)
    day = world.day.isoformat()
    response = post(client, f"/transport/jour/{day}/publier", follow_redirects=True)
    assert response.status_code == 200
    mails = _driver_mails(db)
    assert [n.recipient for n in mails] == ["alain@crt.example"]  # one message, Alain's
    body = mails[0].body
    assert body.startswith("Vos tournées du ")
    assert "arrêt ajouté" in body and "Marcel Passager" in body
    assert "arrêt retiré" in body and "Jeanne Passager" in body
    assert smtp_sink.to("alain@crt.example")
    # Published again with nothing changed: nobody is told twice.
    post(client, f"/transport/jour/{day}/publier")
    assert len(_driver_mails(db)) == 1


def test_a_driver_who_loses_or_gains_a_round_in_a_rebuild_is_told(
    transport_app: Any, world: TransportWorld, db: Any, now: dt.datetime
) -> None:
    bernard_id = _driver_id(db, "bernard")
    read(db, Driver, bernard_id).weekdays = []
    db.commit()
    _build(transport_app, world, db)
    _publish(transport_app, world, db, now)
    # Alain stops working that weekday; Bernard now does: the rebuild gives him the rounds.
    read(db, Driver, world.driver.id).weekdays = []
    db.commit()
    read(db, Driver, bernard_id).weekdays = [world.day.weekday()]
    db.commit()
    _build(transport_app, world, db)
    assert {r.driver_id for r in _rounds(db)} == {bernard_id}
    _publish(transport_app, world, db, now)
    mails = {n.recipient: n.body for n in _driver_mails(db)}
    assert set(mails) == {"alain@crt.example", "bernard@crt.example"}
    assert "Tournée retirée" in mails["alain@crt.example"]
    assert "Nouvelle tournée" in mails["bernard@crt.example"]
    day = read(db, select(TransportDay))[0]
    assert day.summary["rounds"] >= 1  # the page's figures are still there


def test_a_driver_chosen_by_hand_whose_account_is_switched_off_drives_nothing_after_a_rebuild(
    transport_app: Any, world: TransportWorld, db: Any
) -> None:
    bernard_id = _driver_id(db, "bernard")
    read(db, Driver, bernard_id).weekdays = []
    db.commit()
    _build(transport_app, world, db)
    alain_id = world.driver.id
    round_id = _rounds(db)[0].id
    client = _coordinator(transport_app, db)
    url = f"/transport/jour/{world.day.isoformat()}/chauffeurs"
    assert post(client, url, {f"round-{round_id}": str(alain_id)}).status_code == 302
    read(db, type(world.driver_user), world.driver_user.id).active = False
    db.commit()
    # Switched off: no longer offered, and the rebuild gives his rounds to nobody.
    assert "Alain Chauffeur" not in text_of(client.get(url))
    _build(transport_app, world, db)
    assert {r.driver_id for r in _rounds(db)} == {None}


def test_the_drivers_page_belongs_to_the_day_in_the_transport_menu(
    transport_app: Any, world: TransportWorld, db: Any
) -> None:
    _build(transport_app, world, db)
    client = _coordinator(transport_app, db)
    html = client.get(f"/transport/jour/{world.day.isoformat()}/chauffeurs").get_data(as_text=True)
    assert 'aria-current="page">Tournées du jour</a>' in html
    assert 'aria-current="page">Chauffeurs</a>' not in html


def test_a_day_without_rounds_has_no_drivers_page(
    transport_app: Any, world: TransportWorld, db: Any
) -> None:
    client = _coordinator(transport_app, db)
    day = (world.day + dt.timedelta(days=1)).isoformat()
    assert client.get(f"/transport/jour/{day}/chauffeurs").status_code == 404
    assert post(client, f"/transport/jour/{day}/chauffeurs", {}).status_code == 404


def test_a_late_booking_fitted_into_a_published_day_is_announced_to_its_driver(
    transport_app: Any, world: TransportWorld, db: Any, now: dt.datetime
) -> None:
    bernard_id = _driver_id(db, "bernard")
    read(db, Driver, bernard_id).weekdays = []
    db.commit()
    _build(transport_app, world, db)
    _publish(transport_app, world, db, now)
    newcomer = world.persons[3]
    world.carer.helped_persons.append(newcomer)
    session_id, newcomer_id, carer = world.session.id, newcomer.id, world.carer.username
    db.commit()
    client = transport_app.test_client()
    assert sign_in(client, carer).status_code == 302
    form = {
        "person_id": str(newcomer_id),
        "companions": "0",
        "transport_out": "y",
        "pickup_address": "4 route du Bourg",
        "confirmed": "yes",
    }
    assert post(client, f"/seances/{session_id}/reserver", form).status_code == 302
    mails = _driver_mails(db)
    assert [n.recipient for n in mails] == ["alain@crt.example"]
    assert "arrêt ajouté" in mails[0].body and "Marcel Passager" in mails[0].body


def test_one_driver_for_two_rounds_at_the_same_time_is_refused_next_to_the_field(
    transport_app: Any, world: TransportWorld, db: Any
) -> None:
    _build(transport_app, world, db)
    (first,) = [r for r in _rounds(db) if r.vehicle_id == world.minibus.id]
    # A second round, in the car, over the same hours (as a build with more riders gives).
    overlapping = Round(
        centre_id=world.centre.id,
        day_id=first.day_id,
        vehicle_id=world.car.id,
        starts_at=first.starts_at + dt.timedelta(minutes=10),
        ends_at=first.ends_at + dt.timedelta(minutes=10),
    )
    db.add(overlapping)
    db.commit()
    ids = (first.id, overlapping.id)
    before = {r.id: r.driver_id for r in _rounds(db)}
    bernard_id = _driver_id(db, "bernard")
    client = _coordinator(transport_app, db)
    url = f"/transport/jour/{world.day.isoformat()}/chauffeurs"

    response = post(client, url, {f"round-{i}": str(bernard_id) for i in ids})
    assert response.status_code == 200
    assert "Ce chauffeur conduit aussi" in text_of(response)
    assert {r.id: r.driver_id for r in _rounds(db)} == before
    # One after the other is fine: the car leaves once the minibus is back.
    later = read(db, Round, overlapping.id)
    duration = later.ends_at - later.starts_at
    later.starts_at = first.ends_at + dt.timedelta(minutes=5)
    later.ends_at = later.starts_at + duration
    db.commit()
    assert post(client, url, {f"round-{i}": str(bernard_id) for i in ids}).status_code == 302
    assert {r.id: r.driver_id for r in _rounds(db) if r.id in ids} == dict.fromkeys(ids, bernard_id)
