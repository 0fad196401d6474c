"""The coordinator's transport pages: access, vehicles, drivers, build/progress/result, pins,
publication, and the `flask rounds build` command."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from scheduling.models import Driver, Mobility, Role, Vehicle, VehicleKind
from scheduling.transport_models import JobStatus, Round, RoundStop, StopKind, TransportDay
from tests.webapp import transport_fixtures
from tests.webapp.conftest import post, read, text_of
from tests.webapp.transport_fixtures import TransportWorld

transport_world = transport_fixtures.transport_world
transport_app = transport_fixtures.transport_app
fake_geocoder = transport_fixtures.fake_geocoder


@pytest.fixture
def world(transport_world: TransportWorld, transport_app: Any, db: Any) -> TransportWorld:
    # Short solves in tests.
    from scheduling.transport import transport_settings

    transport_settings(db, transport_world.centre.id).solver_time_limit_s = 1
    db.commit()
    return transport_world


def _book_all(world: TransportWorld, make_booking: Callable[..., Any]) -> list[int]:
    return [
        make_booking(world.session, person=p, transport_out=True, transport_back=True).id
        for p in world.persons
    ]


def _wait_done(db: Any, centre_id: int) -> TransportDay:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        days = read(db, select(TransportDay).where(TransportDay.centre_id == centre_id))
        if days and days[0].job_status in (JobStatus.done, JobStatus.failed):
            return days[0]
        time.sleep(0.1)
    raise AssertionError("calcul trop long")


@pytest.mark.parametrize("role", [Role.carer, Role.animator, Role.driver])
def test_only_coordinators_reach_the_transport_pages(
    client: Any, login: Any, make_user: Callable[..., Any], world: TransportWorld, role: Role
) -> None:
    user = make_user(role=role, password=transport_fixtures.PASSWORD)
    day = world.day.isoformat()
    login(user)
    urls = (
        f"/transport/jour/{day}",
        "/transport/vehicules",
        "/transport/vehicules/nouveau",
        "/transport/chauffeurs",
        "/transport/reglages",
    )
    for url in urls:
        assert client.get(url).status_code == 403
    assert post(client, f"/transport/jour/{day}/construire").status_code == 403
    assert post(client, f"/transport/jour/{day}/publier").status_code == 403


def test_a_visitor_is_sent_to_sign_in(client: Any, world: TransportWorld) -> None:
    response = client.get("/transport/vehicules")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_another_centres_vehicle_and_driver_answer_404(
    client: Any,
    login: Any,
    world: TransportWorld,
    make_centre: Callable[..., Any],
    make_user: Callable[..., Any],
    db: Any,
) -> None:
    other = make_centre()
    vehicle = Vehicle(
        centre_id=other.id,
        name="Autre",
        kind=VehicleKind.minibus,
        seats=8,
        wheelchair_places=0,
        depot_lat=44.8,
        depot_lon=0.5,
        available_from=dt.time(8),
        available_until=dt.time(18),
    )
    someone = make_user(centre=other, role=Role.driver)
    driver = Driver(
        centre_id=other.id,
        user_id=someone.id,
        available_from=dt.time(8),
        available_until=dt.time(18),
    )
    db.add_all([vehicle, driver])
    db.commit()
    vehicle_id, driver_id = vehicle.id, driver.id
    login(world.coordinator)
    assert client.get(f"/transport/vehicules/{vehicle_id}").status_code == 404
    assert client.get(f"/transport/chauffeurs/{driver_id}").status_code == 404
    assert client.get("/transport/vehicules/99999999999999999999").status_code == 404
    page = text_of(client.get("/transport/vehicules"))
    assert "Minibus" in page and "Autre" not in page


def test_a_day_out_of_any_plausible_year_is_not_found_rather_than_a_crash(
    client: Any, login: Any, world: TransportWorld
) -> None:
    login(world.coordinator)
    for day in ("9999-12-31", "0001-01-01", "2026-02-31", "demain"):
        assert client.get(f"/transport/jour/{day}").status_code == 404, day
    response = client.get("/transport/?date=9999-12-31", follow_redirects=True)
    assert response.status_code == 200
    assert "Cette date n'est pas valide" in text_of(response)


def test_a_vehicle_form_with_mistakes_keeps_what_was_typed(
    client: Any, login: Any, world: TransportWorld, db: Any
) -> None:
    login(world.coordinator)
    centre_id = world.centre.id
    data = {
        "name": "Navette du Bourg",
        "kind": "minibus",
        "seats": "9",
        "wheelchair_places": "deux",
        "depot_address": "Mairie de Lalinde",
        "depot_lat": "44,83",
        "depot_lon": "0.73",
        "available_from": "17:00",
        "available_until": "08:00",
    }
    response = post(client, "/transport/vehicules/nouveau", data)
    assert response.status_code == 200
    page = text_of(response)
    assert "L'heure de fin doit être après l'heure de début." in page
    assert 'value="Navette du Bourg"' in response.get_data(as_text=True)
    assert read(db, select(Vehicle).where(Vehicle.name == "Navette du Bourg")) == []

    data.update(wheelchair_places="1", depot_lat="44.83", available_until="18:30")
    response = post(client, "/transport/vehicules/nouveau", data)
    assert response.status_code == 302
    saved = read(db, select(Vehicle).where(Vehicle.name == "Navette du Bourg"))
    assert len(saved) == 1 and saved[0].centre_id == centre_id
    assert (saved[0].seats, saved[0].wheelchair_places) == (9, 1)
    assert saved[0].available_until == dt.time(18, 30)
    assert "Navette du Bourg" in text_of(client.get("/transport/vehicules"))


def test_a_driver_works_the_days_and_hours_the_coordinator_ticks(
    client: Any, login: Any, world: TransportWorld, db: Any
) -> None:
    login(world.coordinator)
    driver_id = world.driver.id
    response = post(
        client,
        f"/transport/chauffeurs/{driver_id}",
        {
            "user_id": str(world.driver_user.id),
            "phone": "06 11 22 33 44",
            "weekdays": ["1", "3"],
            "available_from": "09:00",
            "available_until": "12:00",
        },
    )
    assert response.status_code == 302
    driver = read(db, Driver, driver_id)
    assert driver.weekdays == [1, 3]
    assert driver.available_until == dt.time(12)
    page = text_of(client.get("/transport/chauffeurs"))
    assert "mardi, jeudi" in page and "9 h 00 – 12 h 00" in page


def test_build_shows_progress_then_rounds_with_map_and_table_then_publish(
    client: Any,
    login: Any,
    world: TransportWorld,
    make_booking: Callable[..., Any],
    db: Any,
    smtp_sink: Any,
) -> None:
    booking_ids = _book_all(world, make_booking)
    centre_id, day = world.centre.id, world.day.isoformat()
    login(world.coordinator)
    empty = text_of(client.get(f"/transport/jour/{day}"))
    assert "Construire les tournées" in empty
    response = post(client, f"/transport/jour/{day}/construire")
    assert response.status_code == 302
    waiting = client.get(f"/transport/jour/{day}").get_data(as_text=True)
    # Either still computing (the page refreshes itself) or already done.
    if "<progress" in waiting:
        assert '<meta http-equiv="refresh" content="5; url=/transport/jour/' in waiting
        assert "maj=1#calcul" in waiting
        assert "Arrêter la mise à jour automatique" in waiting
    assert _wait_done(db, centre_id).job_status is JobStatus.done
    html = client.get(f"/transport/jour/{day}").get_data(as_text=True)
    page = text_of(client.get(f"/transport/jour/{day}"))
    assert '<meta http-equiv="refresh"' not in html
    assert "<svg" in html and "<polyline" in html and "Lalinde" in html
    assert "4 passagers" in page
    assert "Jeanne Passager" in page and "Prise en charge" in page
    assert "Publier les tournées" in page
    assert "(s)" not in page and re.search(r"\b1 place\b", page)

    response = post(client, f"/transport/jour/{day}/publier")
    assert response.status_code == 302
    page = text_of(client.get(f"/transport/jour/{day}"))
    assert "publiées" in page
    assert re.search(r"\((1 message envoyé|[2-9]\d* messages envoyés) ou à téléphoner\)", page)
    stops = read(db, select(RoundStop).where(RoundStop.booking_id.in_(booking_ids)))
    pickups = [s for s in stops if s.kind is StopKind.pickup]
    assert pickups and all(s.promised_from is not None for s in pickups)
    # The carer of Jeanne got her promised windows by e-mail.
    mails = smtp_sink.to("marie@example.org")
    assert any("prise en charge entre" in m.get_body(("plain",)).get_content() for m in mails)


def test_a_running_build_can_be_followed_without_the_page_reloading_itself(
    client: Any, login: Any, world: TransportWorld, db: Any
) -> None:
    """WCAG 2.2.1: the reader may stop the self-reload and follow the build with a plain link."""
    from scheduling.transport import get_or_create_day, mark_job

    day = world.day.isoformat()
    row = get_or_create_day(db, world.centre.id, world.day)
    mark_job(row, JobStatus.running, progress=40, message="Calcul des tournées")
    db.commit()
    login(world.coordinator)
    auto = client.get(f"/transport/jour/{day}").get_data(as_text=True)
    # Each reload is another address (maj=N): a link to the page's own address, fragment
    # included, would only scroll.
    assert f'content="5; url=/transport/jour/{day}?maj=1#calcul"' in auto
    assert f'href="/transport/jour/{day}?maj=1&amp;auto=non#calcul">Arrêter la mise' in auto
    manual = client.get(f"/transport/jour/{day}?maj=1&auto=non").get_data(as_text=True)
    assert '<meta http-equiv="refresh"' not in manual
    assert f'href="/transport/jour/{day}?maj=2&amp;auto=non#calcul">Voir où en est' in manual
    assert f'href="/transport/jour/{day}?maj=2#calcul">Reprendre la mise à jour' in manual
    # Building again from that page keeps the page still.
    assert '<input type="hidden" name="auto" value="non">' in manual
    response = post(client, f"/transport/jour/{day}/construire", {"auto": "non"})
    assert response.headers["Location"].endswith(f"/transport/jour/{day}?auto=non#calcul")
    _wait_done(db, world.centre.id)


def test_pinning_a_passenger_re_solves_around_that_vehicle(
    client: Any,
    login: Any,
    world: TransportWorld,
    make_booking: Callable[..., Any],
    db: Any,
) -> None:
    booking_ids = _book_all(world, make_booking)
    centre_id, day, car_id = world.centre.id, world.day.isoformat(), world.car.id
    login(world.coordinator)
    post(client, f"/transport/jour/{day}/construire")
    _wait_done(db, centre_id)
    target = booking_ids[2]
    response = post(
        client,
        f"/transport/jour/{day}/epingler",
        {"booking_id": str(target), "leg": "outbound", "vehicle_id": str(car_id)},
    )
    assert response.status_code == 302
    assert _wait_done(db, centre_id).job_status is JobStatus.done
    stops = read(db, select(RoundStop).join(Round).where(RoundStop.booking_id == target))
    outbound = [(s.round_id, s.pinned) for s in stops if s.leg.value == "outbound"]
    rounds = {r.id: r.vehicle_id for r in read(db, select(Round))}
    assert {rounds[round_id] for round_id, _ in outbound} == {car_id}
    assert all(pinned for _, pinned in outbound)
    html = client.get(f"/transport/jour/{day}").get_data(as_text=True)
    assert "placé(e) à la main" in html


def test_pinning_another_centres_booking_answers_404(
    client: Any,
    login: Any,
    world: TransportWorld,
    make_centre: Callable[..., Any],
    make_session: Callable[..., Any],
    make_booking: Callable[..., Any],
) -> None:
    other = make_centre()
    session = make_session(centre=other, starts_at=dt.datetime.combine(world.day, dt.time(14)))
    booking_id = make_booking(session, transport_out=True).id
    login(world.coordinator)
    response = post(
        client,
        f"/transport/jour/{world.day.isoformat()}/epingler",
        {"booking_id": str(booking_id), "leg": "outbound", "vehicle_id": str(world.car.id)},
    )
    assert response.status_code == 404


def test_the_cli_builds_a_day_and_prints_its_summary(
    transport_app: Any,
    world: TransportWorld,
    make_booking: Callable[..., Any],
    make_person: Callable[..., Any],
    db: Any,
) -> None:
    world.minibus.wheelchair_places = 0
    db.commit()
    _book_all(world, make_booking)
    chair = make_person(mobility=Mobility.wheelchair, first_name="Rose", last_name="Fauteuil")
    make_booking(world.session, person=chair, mobility=Mobility.wheelchair, transport_out=True)
    runner = transport_app.test_cli_runner()
    result = runner.invoke(args=["rounds", "build", world.day.isoformat(), "--time-limit", "1"])
    assert result.exit_code == 0, result.output
    assert re.search(r"\d tournées?, 4 passagers, \d+,\d km", result.output)
    assert "Rose Fauteuil (aller) : aucun véhicule n'a de place pour un fauteuil roulant" in (
        result.output
    )
    assert "  1 trajet non servi :" in result.output.splitlines()

    bad = runner.invoke(args=["rounds", "build", "demain"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output


def test_coordinates_typed_for_an_address_not_found_are_used_at_the_next_build(
    client: Any,
    login: Any,
    world: TransportWorld,
    make_booking: Callable[..., Any],
    make_person: Callable[..., Any],
    fake_geocoder: Any,
    db: Any,
) -> None:
    lost = make_person(lat=None, lon=None, first_name="Rose", last_name="Égarée")
    booking_id = make_booking(
        world.session, person=lost, transport_out=True, pickup_address="Lieu-dit Inconnu"
    ).id
    centre_id, day = world.centre.id, world.day.isoformat()
    login(world.coordinator)
    post(client, f"/transport/jour/{day}/construire")
    _wait_done(db, centre_id)
    page = text_of(client.get(f"/transport/jour/{day}"))
    assert "Rose Égarée , Lieu-dit Inconnu : adresse introuvable" in page

    bad = post(
        client,
        f"/transport/jour/{day}/coordonnees",
        {"booking_id": str(booking_id), "lat": "quarante-quatre", "lon": "0,7"},
    )
    assert bad.status_code == 200
    html = bad.get_data(as_text=True)
    assert "Indiquez un nombre, par exemple 44,8368." in text_of(bad)
    assert 'value="quarante-quatre"' in html and 'value="0,7"' in html

    good = post(
        client,
        f"/transport/jour/{day}/coordonnees",
        {"booking_id": str(booking_id), "lat": "44,8512", "lon": "0,6601"},
    )
    assert good.status_code == 302
    post(client, f"/transport/jour/{day}/construire")
    assert _wait_done(db, centre_id).summary["unlocated"] == []
    stops = read(db, select(RoundStop).where(RoundStop.booking_id == booking_id))
    pickup = next(s for s in stops if s.kind is StopKind.pickup)
    assert (pickup.lat, pickup.lon) == (44.8512, 0.6601)
    assert fake_geocoder.asked == ["Lieu-dit Inconnu"]  # asked once, then typed by hand


def test_the_coordinator_sets_the_max_ride_rule_used_by_the_next_build(
    client: Any, login: Any, world: TransportWorld, db: Any
) -> None:
    login(world.coordinator)
    page = client.get("/transport/reglages")
    assert page.status_code == 200 and 'value="30"' in page.get_data(as_text=True)
    values = {
        "outbound_earliest_min": "40",
        "outbound_latest_min": "45",  # later than the earliest: refused
        "return_latest_min": "20",
        "boarding_walks_min": "2",
        "boarding_walker_min": "5",
        "boarding_wheelchair_min": "10",
        "alighting_min": "2",
        "max_ride_floor_min": "35",
        "max_ride_factor": "1,8",
        "max_ride_cap_min": "75",
        "promise_window_min": "20",
        "speed_kmh": "40",
        "circuity": "1,4",
        "osrm_url": "",
        "solver_time_limit_s": "3",
    }
    bad = post(client, "/transport/reglages", values)
    assert bad.status_code == 200
    assert "L'arrivée au plus tard doit être plus proche du début." in text_of(bad)
    assert 'value="1,8"' in bad.get_data(as_text=True)
    values["outbound_latest_min"] = "10"
    assert post(client, "/transport/reglages", values).status_code == 302
    from scheduling.transport_models import TransportSettings

    [settings] = read(db, select(TransportSettings))
    assert settings.max_ride(10) == 35 and settings.max_ride(30) == 54
    assert settings.max_ride(60) == 75
    assert (settings.promise_window_min, settings.circuity, settings.osrm_url) == (20, 1.4, None)
