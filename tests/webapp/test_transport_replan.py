"""After publication: a late booking must fit without breaking a promise, a cancellation
re-plans with the least disturbance, and whoever is concerned is told."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from scheduling.models import Booking, BookingStatus, Notification, NotificationKind
from scheduling.transport import get_or_create_day, publish_day
from scheduling.transport_models import Round, RoundStop, StopKind, TransportDay
from tests.webapp import transport_fixtures
from tests.webapp.conftest import post, read, sign_in, text_of
from tests.webapp.transport_fixtures import TransportWorld
from webapp.db import session_scope
from webapp.jobs import run_build

transport_world = transport_fixtures.transport_world
transport_app = transport_fixtures.transport_app
fake_geocoder = transport_fixtures.fake_geocoder


def _publish(
    app: Any, world: TransportWorld, make_booking: Callable[..., Any], db: Any, now: dt.datetime
) -> dict[str, Any]:
    ids = [
        make_booking(world.session, person=p, transport_out=True, transport_back=True).id
        for p in world.persons[:3]
    ]
    centre_id = world.centre.id
    run_build(app, centre_id, world.day, None, 1)
    with app.app_context(), session_scope(app) as session:
        publish_day(session, get_or_create_day(session, centre_id, world.day), now)
    db.commit()
    return {"booking_ids": ids, "centre_id": centre_id, "promises": _promises(db, centre_id)}


@pytest.fixture
def published(
    transport_app: Any,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    db: Any,
    now: dt.datetime,
) -> dict[str, Any]:
    """Three passengers with promised windows; Jeanne (whose carer signs in) is one of them."""
    return _publish(transport_app, transport_world, make_booking, db, now)


def _sign_in(client: Any, db: Any, user: Any) -> None:
    """Sign in, ending the test's transaction first (SQLite: one writer at a time)."""
    username = user.username
    db.commit()
    assert sign_in(client, username).status_code == 302


def _promises(db: Any, centre_id: int) -> dict[tuple[int, str], tuple[dt.datetime, dt.datetime]]:
    stops = read(db, select(RoundStop).join(Round).where(Round.centre_id == centre_id))
    return {
        (s.booking_id, s.leg.value): (s.promised_from, s.promised_to, s.planned_begin)
        for s in stops
        if s.kind is StopKind.pickup
    }


def _kept(before: dict[Any, Any], after: dict[Any, Any]) -> None:
    for key, (start, end, _) in before.items():
        if key not in after:
            continue
        new_start, new_end, begin = after[key]
        assert (new_start, new_end) == (start, end), f"promesse changée pour {key}"
        assert start <= begin <= end, f"heure prévue hors de la promesse pour {key}"


def test_a_late_booking_that_fits_is_added_with_its_own_promise_and_others_kept(
    client: Any,
    transport_world: TransportWorld,
    published: dict[str, Any],
    db: Any,
    smtp_sink: Any,
) -> None:
    world = transport_world
    newcomer = world.persons[3]
    world.carer.helped_persons.append(newcomer)
    session_id, newcomer_id = world.session.id, newcomer.id
    _sign_in(client, db, world.carer)
    response = post(
        client,
        f"/seances/{session_id}/reserver",
        {
            "person_id": str(newcomer_id),
            "companions": "0",
            "transport_out": "y",
            "transport_back": "y",
            "pickup_address": "4 route du Bourg",
            "confirmed": "yes",
        },
    )
    assert response.status_code == 302, text_of(response)
    booking = read(db, select(Booking).where(Booking.person_id == newcomer_id))[0]
    assert booking.transport_out and booking.transport_back
    booking_id = booking.id
    after = _promises(db, published["centre_id"])
    _kept(published["promises"], after)
    assert (booking_id, "outbound") in after and (booking_id, "return") in after
    page = text_of(client.get(f"/reservations/{booking_id}")).replace("\u00a0", " ")
    assert "Aller : prise en charge entre" in page
    day = read(db, select(TransportDay))[0]
    assert any("ajouté(e) aux tournées" in c for c in day.summary["changes"])
    # The confirmation e-mail carries the promised windows too.
    confirmations = [
        m.get_body(("plain",)).get_content()
        for m in smtp_sink.to("marie@example.org")
        if "Réservation confirmée" in str(m["Subject"])
    ]
    assert confirmations
    assert all("Aller : prise en charge entre" in body for body in confirmations)


def test_a_late_booking_that_would_break_a_promise_gets_the_seat_without_transport(
    client: Any,
    login: Any,
    transport_app: Any,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    db: Any,
    smtp_sink: Any,
    now: dt.datetime,
) -> None:
    world = transport_world
    # One vehicle with four seats carries the three promised passengers together; the
    # newcomer comes with three companions, so needs the four seats alone, at the same time.
    world.minibus.seats = 4
    world.car.available_from, world.car.available_until = dt.time(6), dt.time(7)
    db.commit()
    published = _publish(transport_app, world, make_booking, db, now)
    newcomer = world.persons[3]
    world.carer.helped_persons.append(newcomer)
    session_id, newcomer_id, day_iso = world.session.id, newcomer.id, world.day.isoformat()
    _sign_in(client, db, world.carer)
    response = post(
        client,
        f"/seances/{session_id}/reserver",
        {
            "person_id": str(newcomer_id),
            "companions": "3",
            "transport_out": "y",
            "transport_back": "y",
            "pickup_address": "4 route du Bourg",
            "confirmed": "yes",
        },
        follow_redirects=True,
    )
    page = text_of(response)
    assert "Le transport ne peut pas être assuré ce jour-là" in page
    assert "autre date" in page
    booking = read(db, select(Booking).where(Booking.person_id == newcomer_id))[0]
    assert booking.status is BookingStatus.confirmed  # the seat is kept
    assert not booking.transport_out and not booking.transport_back
    assert _promises(db, published["centre_id"]) == published["promises"]  # nothing moved
    day = read(db, select(TransportDay))[0]
    assert [r["person"] for r in day.summary["refusals"]] == ["Marcel Passager"]
    mails = [m.get_body(("plain",)).get_content() for m in smtp_sink.to("marie@example.org")]
    assert any("sans transport" in body for body in mails)
    # The coordinator sees why on the day page.
    coordinator = transport_app.test_client()
    sign_in(coordinator, "coordinatrice")
    page = text_of(coordinator.get(f"/transport/jour/{day_iso}"))
    assert "Transport refusé à Marcel Passager" in page


def test_a_cancellation_removes_the_stops_keeps_every_promise_and_tells_the_driver(
    client: Any,
    login: Any,
    transport_world: TransportWorld,
    published: dict[str, Any],
    db: Any,
    smtp_sink: Any,
) -> None:
    world = transport_world
    jeanne_booking = published["booking_ids"][0]
    before = published["promises"]
    _sign_in(client, db, world.carer)
    response = post(client, f"/reservations/{jeanne_booking}/annuler")
    assert response.status_code == 302
    stops = read(db, select(RoundStop).where(RoundStop.booking_id == jeanne_booking))
    assert stops == []
    after = _promises(db, published["centre_id"])
    assert set(after) == {k for k in before if k[0] != jeanne_booking}
    _kept(before, after)
    # Least disturbance: nobody's planned pickup time moved.
    for key in after:
        assert after[key][2] == before[key][2]
    day = read(db, select(TransportDay))[0]
    assert any("Annulation de Jeanne Passager" in c for c in day.summary["changes"])
    notes = read(
        db,
        select(Notification).where(Notification.kind == NotificationKind.transport_changed),
    )
    assert [n.recipient for n in notes] == ["alain@crt.example"]
    assert "Jeanne Passager" in notes[0].body
    assert smtp_sink.to("alain@crt.example")


def test_a_waitlist_promotion_must_fit_too(
    client: Any,
    login: Any,
    transport_world: TransportWorld,
    published: dict[str, Any],
    make_booking: Callable[..., Any],
    make_person: Callable[..., Any],
    db: Any,
    now: dt.datetime,
) -> None:
    world = transport_world
    # The session is full; someone far away waits with a transport request.
    world.session.seats = 3
    far = make_commune_far(db, world)
    waiting = make_person(commune=far, first_name="Lucien", last_name="Lointain")
    waiting_id = make_booking(
        world.session,
        person=waiting,
        status=BookingStatus.waitlisted,
        transport_out=True,
        transport_back=False,
        created_at=now,
    ).id
    _sign_in(client, db, world.carer)
    response = post(client, f"/reservations/{published['booking_ids'][0]}/annuler")
    assert response.status_code == 302
    promoted = read(db, Booking, waiting_id)
    assert promoted.status is BookingStatus.confirmed
    assert not promoted.transport_out  # did not fit: the seat without transport
    day = read(db, select(TransportDay))[0]
    assert [r["person"] for r in day.summary["refusals"]] == ["Lucien Lointain"]
    promo = read(db, select(Notification).where(Notification.booking_id == waiting_id))
    assert any("sans transport" in n.body for n in promo)


def make_commune_far(db: Any, world: TransportWorld) -> Any:
    from scheduling.models import Commune

    # Nontron, 80 km north: beyond the 90 minutes a ride may last.
    commune = Commune(
        centre_id=world.centre.id,
        insee="24311",
        name="Nontron",
        postcode="24300",
        lat=45.529,
        lon=0.662,
    )
    db.add(commune)
    db.commit()
    return commune


def test_cancelling_a_session_takes_its_passengers_out_of_the_rounds(
    client: Any,
    login: Any,
    transport_app: Any,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    make_session: Callable[..., Any],
    make_user: Callable[..., Any],
    db: Any,
    now: dt.datetime,
) -> None:
    from scheduling.models import Role

    world = transport_world
    # A second session the same afternoon, whose passenger shares the rounds.
    other = make_session(
        venue=world.venue,
        starts_at=dt.datetime.combine(world.day, dt.time(14, 30)),
        ends_at=dt.datetime.combine(world.day, dt.time(16)),
    )
    other_id = other.id
    stays = make_booking(other, person=world.persons[3], transport_out=True).id
    published = _publish(transport_app, world, make_booking, db, now)
    animator = make_user(role=Role.animator, password=transport_fixtures.PASSWORD)
    session_id = world.session.id
    _sign_in(client, db, animator)
    response = post(client, f"/animation/seances/{session_id}/annuler", {"reason": "Salle inondée"})
    assert response.status_code == 302
    stops = read(db, select(RoundStop).join(Round))
    assert {s.booking_id for s in stops} == {stays}
    after = _promises(db, published["centre_id"])
    _kept(published["promises"], after)
    day = read(db, select(TransportDay))[0]
    assert any(c.startswith("Annulation de ") for c in day.summary["changes"])
    assert other_id
