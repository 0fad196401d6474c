"""Building rounds on the task queue: the embedded default and Redis, progress, failures."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from scheduling.transport_models import JobStatus, Round, RoundStop, TransportDay
from tests.webapp import transport_fixtures
from tests.webapp.conftest import read
from tests.webapp.transport_fixtures import TransportWorld
from webapp.jobs import Queue, Worker, enqueue_build, make_queue, run_build

transport_world = transport_fixtures.transport_world
transport_app = transport_fixtures.transport_app
fake_geocoder = transport_fixtures.fake_geocoder

REDIS_URL = os.environ.get("NAVETTE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _wait_for_job(
    db: Any, centre_id: int, seconds: float = 30, seen: list[tuple[str, int]] | None = None
) -> TransportDay:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        days = read(db, select(TransportDay).where(TransportDay.centre_id == centre_id))
        if days and seen is not None:
            seen.append((days[0].job_status.value, days[0].job_progress))
        if days and days[0].job_status in (JobStatus.done, JobStatus.failed):
            return days[0]
        time.sleep(0.1)
    raise AssertionError("le calcul n'a pas fini à temps")


def _book_everyone(world: TransportWorld, make_booking: Callable[..., Any]) -> list[int]:
    return [
        make_booking(world.session, person=p, transport_out=True, transport_back=True).id
        for p in world.persons
    ]


def test_the_embedded_queue_builds_the_day_in_a_worker_thread(
    app: Any,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    db: Any,
    tmp_path: Any,
    fake_geocoder: Any,
) -> None:
    # The default queue: a SQLite file consumed by a thread of the web process.
    app.config["GEOCODER"] = fake_geocoder
    app.config["NAVETTE_QUEUE"] = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    booking_ids = _book_everyone(transport_world, make_booking)
    centre_id = transport_world.centre.id
    db.commit()
    seen: list[tuple[str, int]] = []
    try:
        enqueue_build(app, centre_id, transport_world.day, time_limit=2)
        day = _wait_for_job(db, centre_id, seen=seen)
    finally:
        queue: Queue = app.extensions["navette_queue"]
        assert queue.worker is not None and queue.worker.name == "navette-jobs"
        queue.worker.stop()
    assert day.job_status is JobStatus.done, day.job_message
    assert day.job_progress == 100
    assert "passager" in day.job_message
    # The bar moved while the solver worked, not only at the start and the end.
    assert any(status == "running" and 10 < progress < 100 for status, progress in seen), seen
    stops = read(db, select(RoundStop).join(Round).where(Round.centre_id == centre_id))
    assert {s.booking_id for s in stops} == set(booking_ids)


@pytest.fixture
def redis_queue() -> Iterator[Queue]:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis injoignable sur {REDIS_URL} : {error}")
        pytest.skip(f"Redis injoignable sur {REDIS_URL}")
    # A queue name of its own: other test sessions may use the same Redis at the same time.
    queue = make_queue(REDIS_URL, name=f"navette-test-{uuid.uuid4().hex}")
    yield queue
    queue.huey.flush()


def test_the_redis_queue_builds_the_day_on_a_separate_worker(
    app: Any,
    redis_queue: Queue,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    db: Any,
    fake_geocoder: Any,
) -> None:
    app.config["GEOCODER"] = fake_geocoder
    app.extensions["navette_queue"] = redis_queue
    assert not redis_queue.embedded  # with Redis, workers are separate by default
    booking_ids = _book_everyone(transport_world, make_booking)
    centre_id = transport_world.centre.id
    db.commit()
    enqueue_build(app, centre_id, transport_world.day, time_limit=1)
    assert redis_queue.huey.pending_count() == 1  # the task really waits in Redis
    days = read(db, select(TransportDay).where(TransportDay.centre_id == centre_id))
    assert days[0].job_status is JobStatus.queued
    worker = Worker(app, redis_queue)
    worker.start()
    try:
        day = _wait_for_job(db, centre_id)
    finally:
        worker.stop()
    assert day.job_status is JobStatus.done, day.job_message
    stops = read(db, select(RoundStop).join(Round).where(Round.centre_id == centre_id))
    assert {s.booking_id for s in stops} == set(booking_ids)
    assert redis_queue.huey.pending_count() == 0


class BrokenGeocoder:
    def locate(self, address: str) -> tuple[float, float] | None:
        raise RuntimeError("service d'adresses en panne")


def test_a_failed_job_leaves_the_day_as_it_was(
    transport_app: Any,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    make_person: Callable[..., Any],
    db: Any,
) -> None:
    world = transport_world
    _book_everyone(world, make_booking)
    centre_id, day_date = world.centre.id, world.day
    run_build(transport_app, centre_id, day_date, None, 1)
    before = read(db, select(RoundStop).join(Round).where(Round.centre_id == centre_id))
    snapshot = sorted((s.id, s.round_id, s.planned_begin) for s in before)
    # A new booking whose address must be looked up, with the address service broken.
    stranger = make_person(lat=None, lon=None)
    make_booking(
        world.session, person=stranger, transport_out=True, pickup_address="12 rue Inconnue"
    )
    db.commit()
    transport_app.config["GEOCODER"] = BrokenGeocoder()
    enqueue_build(transport_app, centre_id, day_date, time_limit=1)
    day = _wait_for_job(db, centre_id)
    assert day.job_status is JobStatus.failed
    assert "service d'adresses en panne" in day.job_message
    after = read(db, select(RoundStop).join(Round).where(Round.centre_id == centre_id))
    assert sorted((s.id, s.round_id, s.planned_begin) for s in after) == snapshot


def test_a_job_overtaken_by_a_newer_one_throws_its_result_away(
    transport_app: Any,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    db: Any,
) -> None:
    world = transport_world
    _book_everyone(world, make_booking)
    centre_id = world.centre.id
    db.commit()
    # Queued but never consumed (as if its worker was killed), then relaunched.
    queue = make_queue("memory", name="navette-overtaken")
    transport_app.extensions["navette_queue"] = queue
    queue.embedded = False
    first = enqueue_build(transport_app, centre_id, world.day, time_limit=1)
    second = enqueue_build(transport_app, centre_id, world.day, time_limit=1)
    assert first != second
    assert run_build(transport_app, centre_id, world.day, first, 1) == {"discarded": True}
    assert read(db, select(Round).where(Round.centre_id == centre_id)) == []
    summary = run_build(transport_app, centre_id, world.day, second, 1)
    assert summary["passengers"] == 4


def test_a_build_is_dated_on_the_centres_clock_not_the_servers(
    transport_app: Any,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    db: Any,
) -> None:
    world = transport_world
    _book_everyone(world, make_booking)
    world.centre.timezone = "Asia/Tokyo"  # far from the server's clock whatever it is set to
    db.commit()
    run_build(transport_app, world.centre.id, world.day, None, 1)
    tokyo = dt.datetime.now(ZoneInfo("Asia/Tokyo")).replace(tzinfo=None)
    (day,) = read(db, select(TransportDay).where(TransportDay.centre_id == world.centre.id))
    assert abs(day.built_at - tokyo) < dt.timedelta(minutes=2)
