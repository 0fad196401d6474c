"""The audit log of the rounds: who asked for a build, the job that built them, who published
them, what a driver marked; the command line and the job are named as such."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from scheduling.audit import AuditEntry, AuditKind
from scheduling.models import Role
from scheduling.transport_models import JobStatus, StopKind, TransportDay
from tests.scheduling.driving_builders import make_driver, make_round, make_vehicle
from tests.webapp import transport_fixtures
from tests.webapp.conftest import PASSWORD, post, read, sign_in
from tests.webapp.transport_fixtures import TransportWorld

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

transport_world = transport_fixtures.transport_world
transport_app = transport_fixtures.transport_app
fake_geocoder = transport_fixtures.fake_geocoder


def entries(db: Any, centre_id: int) -> list[AuditEntry]:
    found: list[AuditEntry] = read(
        db, select(AuditEntry).where(AuditEntry.centre_id == centre_id).order_by(AuditEntry.id)
    )
    return found


@pytest.fixture
def short_solves(transport_world: TransportWorld, transport_app: Any, db: Any) -> TransportWorld:
    from scheduling.transport import transport_settings

    transport_settings(db, transport_world.centre.id).solver_time_limit_s = 1
    db.commit()
    return transport_world


def _book_all(world: TransportWorld, make_booking: Callable[..., Any]) -> None:
    for person in world.persons:
        make_booking(world.session, person=person, transport_out=True, transport_back=True)


def _wait_done(db: Any, centre_id: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        days = read(db, select(TransportDay).where(TransportDay.centre_id == centre_id))
        if days and days[0].job_status in (JobStatus.done, JobStatus.failed):
            return
        time.sleep(0.1)
    raise AssertionError("calcul trop long")


def test_build_and_publish_name_the_coordinator_and_the_job(
    client: Any,
    login: Any,
    short_solves: TransportWorld,
    make_booking: Callable[..., Any],
    db: Any,
) -> None:
    world = short_solves
    _book_all(world, make_booking)
    centre_id, day, coordinator_id = world.centre.id, world.day.isoformat(), world.coordinator.id
    login(world.coordinator)
    assert post(client, f"/transport/jour/{day}/construire").status_code == 302
    _wait_done(db, centre_id)
    assert post(client, f"/transport/jour/{day}/publier").status_code == 302

    requested, built, published = entries(db, centre_id)
    assert {e.kind for e in (requested, built, published)} == {AuditKind.rounds}
    assert (requested.action, requested.actor_id) == ("rounds.build_requested", coordinator_id)
    assert (built.action, built.actor_label, built.actor_id) == (
        "rounds.built",
        "tâche planifiée",
        None,
    )
    assert (published.action, published.actor_id) == ("rounds.published", coordinator_id)
    assert published.summary.startswith("Tournées du ")
    assert "publiées (" in published.summary


def test_a_build_from_the_command_line_says_so(
    transport_app: Any, short_solves: TransportWorld, make_booking: Callable[..., Any], db: Any
) -> None:
    world = short_solves
    _book_all(world, make_booking)
    centre_id = world.centre.id
    runner = transport_app.test_cli_runner()
    result = runner.invoke(args=["rounds", "build", world.day.isoformat(), "--time-limit", "1"])
    assert result.exit_code == 0, result.output

    [built] = entries(db, centre_id)
    assert (built.action, built.actor_label) == ("rounds.built", "ligne de commande")


def test_two_builds_within_a_minute_are_two_entries(
    transport_app: Any, short_solves: TransportWorld, make_booking: Callable[..., Any], db: Any
) -> None:
    from webapp.jobs import run_build

    world = short_solves
    _book_all(world, make_booking)
    centre_id = world.centre.id
    db.commit()
    # A build is stamped to the second (the same built_at would hide the second build):
    # a coordinator who rebuilds a moment later sees both.
    run_build(transport_app, centre_id, world.day, None, 1)
    time.sleep(1.0)
    run_build(transport_app, centre_id, world.day, None, 1)

    assert [e.action for e in entries(db, centre_id)] == ["rounds.built", "rounds.built"]


def test_a_drivers_mark_and_its_undoing_are_logged(
    client: Any, world: Any, db: Any, make_user: Any, make_session: Any, make_booking: Any
) -> None:
    today = dt.datetime.now(ZoneInfo("Europe/Paris")).date()
    driver_user = make_user(
        username="chauffeur", role=Role.driver, display_name="Marc Vidal", password=PASSWORD
    )
    session = make_session(
        venue=world.session.venue, starts_at=dt.datetime.combine(today, dt.time(14, 30))
    )
    booking = make_booking(session, person=world.person, transport_out=True)
    round_ = make_round(
        db,
        bookings=[booking],
        date=today,
        driver=make_driver(db, driver_user),
        vehicle=make_vehicle(db, world.centre.id),
    )
    stop = next(s for s in round_.stops if s.kind is StopKind.pickup)
    stop_id, centre_id, person_id = stop.id, world.centre.id, world.person.id
    db.commit()
    sign_in(client, "chauffeur")
    post(client, f"/chauffeur/arrets/{stop_id}/pointage", {"status": "picked_up"})
    post(client, f"/chauffeur/arrets/{stop_id}/pointage", {"status": "planned"})

    marked, undone = entries(db, centre_id)
    assert (marked.action, marked.object_id, marked.person_id) == (
        "rounds.stop_marked",
        stop_id,
        person_id,
    )
    assert marked.actor_label == "Marc Vidal (Chauffeur)"
    assert marked.summary.startswith("Pointé « Pris(e) en charge » : prise en charge (aller)")
    assert undone.action == "rounds.stop_unmarked"
    assert undone.summary.startswith("Pointage annulé : prise en charge (aller), tournée du ")


def test_the_worker_command_names_its_builds_a_scheduled_task(
    transport_app: Any, short_solves: TransportWorld, make_booking: Callable[..., Any], db: Any
) -> None:
    import click

    from webapp.jobs import Worker, make_queue

    world = short_solves
    _book_all(world, make_booking)
    centre_id = world.centre.id
    queue = make_queue("memory", name=f"journal-{centre_id}")
    queue.build(centre_id, world.day.isoformat(), None, 1.0)
    # `flask rounds worker` runs the worker in the command's own thread.
    with click.Context(click.Command("worker")):
        assert Worker(transport_app, queue).run_one()

    [built] = entries(db, centre_id)
    assert (built.action, built.actor_label) == ("rounds.built", "tâche planifiée")
