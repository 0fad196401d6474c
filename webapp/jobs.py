"""Building a day's rounds in the background, on huey's task queue.

`NAVETTE_QUEUE` chooses the queue:
- unset or ``sqlite``: a SQLite file in the instance folder, consumed by a worker thread the web
  process starts on first use. Nothing to install or run: the embedded default.
- ``memory``: the same in memory (one process only).
- ``redis://host:port/db``: Redis, for deployments where many centres share worker processes
  (``flask --app webapp rounds worker``); set ``NAVETTE_EMBEDDED_WORKER=1`` to also consume
  from the web process.

A job writes its progress on the `TransportDay` row (short transactions) and builds the new plan
in memory; only the last transaction replaces the rounds. A job that fails or is killed before
that leaves the day exactly as it was; a job whose day was relaunched meanwhile (another job id)
throws its result away.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey, TaskWrapper

from scheduling.audit import SCHEDULED_TASK
from scheduling.models import Centre
from scheduling.transport import get_or_create_day, mark_job, save_plan, summary_words
from scheduling.transport_models import JobStatus, TransportDay
from webapp.auth import centre_clock
from webapp.db import act_as, session_scope
from webapp.geocoding import Geocoder, geocoder_for
from webapp.planning import gather, solve_rides

POLL_SECONDS = 0.2
TICK_SECONDS = 1.0
# huey's clock is UTC: 2 h 17 UTC is 3 h 17 or 4 h 17 in France, when nobody books.
PURGE_SCHEDULE = crontab(minute="17", hour="2")


@dataclass
class Queue:
    huey: Huey
    build: TaskWrapper
    embedded: bool
    worker: Worker | None = None


def make_queue(url: str, *, name: str = "navette", instance_path: str = "instance") -> Queue:
    """A huey queue for `url` with the build task registered on it."""
    huey: Huey
    if url.startswith(("redis://", "rediss://", "unix://")):
        huey = RedisHuey(name, url=url, results=False)
        embedded = os.environ.get("NAVETTE_EMBEDDED_WORKER", "") in ("1", "true", "yes")
    elif url == "memory":
        huey, embedded = MemoryHuey(name, results=False), True
    else:
        path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else ""
        filename = path or str(Path(instance_path) / "navette-jobs.sqlite3")
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
        huey, embedded = SqliteHuey(name, filename=filename, results=False), True
    # The result lives on the TransportDay row: huey need not keep it.
    build = huey.task(name="navette.build_rounds")(_build_rounds_task)
    # Every night, forget the personal data older than the retention duration (webapp/retention).
    huey.periodic_task(PURGE_SCHEDULE, name="navette.privacy_purge")(_privacy_purge_task)
    return Queue(huey=huey, build=build, embedded=embedded)


def queue_for(app: Flask | None = None) -> Queue:
    """The app's queue, made on first use (create_app opens no connection and no file)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    queue: Queue | None = app.extensions.get("navette_queue")
    if queue is None:
        url = app.config.get("NAVETTE_QUEUE") or os.environ.get("NAVETTE_QUEUE", "sqlite")
        queue = make_queue(url, instance_path=app.instance_path)
        app.extensions["navette_queue"] = queue
    return queue


class Worker(threading.Thread):
    """Takes tasks off the queue and runs them inside the app's context, one at a time."""

    def __init__(self, app: Flask, queue: Queue) -> None:
        super().__init__(name="navette-jobs", daemon=True)
        self.app = app
        self.queue = queue
        self.stopping = threading.Event()
        self.last_periodic_minute: dt.datetime | None = None

    def run(self) -> None:
        while not self.stopping.is_set():
            self.enqueue_periodic()
            if not self.run_one():
                self.stopping.wait(POLL_SECONDS)

    def enqueue_periodic(self, now: dt.datetime | None = None) -> int:
        """Once a minute, queue the periodic tasks due (what huey's own consumer does)."""
        huey = self.queue.huey
        now = now or (
            dt.datetime.now(dt.UTC).replace(tzinfo=None) if huey.utc else dt.datetime.now()
        )
        minute = now.replace(second=0, microsecond=0)
        if minute == self.last_periodic_minute:
            return 0
        self.last_periodic_minute = minute
        due = list(huey.read_periodic(minute))
        for task in due:
            huey.enqueue(task)
        return len(due)

    def run_one(self) -> bool:
        task = self.queue.huey.dequeue()
        if task is None:
            return False
        with self.app.app_context():
            act_as(SCHEDULED_TASK)  # even when `flask rounds worker` runs it from the command line
            try:
                self.queue.huey.execute(task)
            except Exception:  # the task recorded the failure on its day; keep consuming
                self.app.logger.exception("Échec d'une tâche en arrière-plan")
        return True

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)


def init_app(app: Flask) -> None:
    """Start the embedded worker with the first request (not in tests), so the nightly tasks run
    even on a day nobody builds rounds. create_app itself opens no file and starts no thread."""

    def start_once() -> None:
        if not app.testing and not app.extensions.get("navette_worker_started"):
            app.extensions["navette_worker_started"] = True
            ensure_worker(app, queue_for(app))

    app.before_request(start_once)


def ensure_worker(app: Flask, queue: Queue) -> None:
    if queue.embedded and (queue.worker is None or not queue.worker.is_alive()):
        queue.worker = Worker(app, queue)
        queue.worker.start()


def enqueue_build(
    app: Flask, centre_id: int, day: dt.date, *, time_limit: float | None = None
) -> str:
    """Mark the day queued and hand the build to the queue; returns the job id."""
    job_id = uuid.uuid4().hex
    with session_scope(app) as db:
        row = get_or_create_day(db, centre_id, day)
        row.job_id = job_id
        row.job_progress = 0
        mark_job(row, JobStatus.queued, progress=0, message="En attente d'un calculateur…")
    queue = queue_for(app)
    ensure_worker(app, queue)
    queue.build(centre_id, day.isoformat(), job_id, time_limit)
    return job_id


# --- the tasks -------------------------------------------------------------------------------


def _privacy_purge_task() -> None:
    from webapp.retention import nightly_purge

    nightly_purge(current_app._get_current_object())  # type: ignore[attr-defined]


def _build_rounds_task(
    centre_id: int, day_iso: str, job_id: str, time_limit: float | None
) -> dict[str, Any]:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return run_build(app, centre_id, dt.date.fromisoformat(day_iso), job_id, time_limit)


def run_build(
    app: Flask,
    centre_id: int,
    day: dt.date,
    job_id: str | None,
    time_limit: float | None,
    *,
    now: dt.datetime | None = None,
    geocoder: Geocoder | None = None,
) -> dict[str, Any]:
    """Build the day's rounds; used by the queue, `flask rounds build` and the demo."""
    if now is None:
        with session_scope(app) as db:
            # To the second: the journal tells a new build by its built_at having changed, and
            # two builds of a day may fall in the same minute.
            now = centre_clock(db.get(Centre, centre_id), to_the_second=True)
    reporter = _Reporter(app, centre_id, day, job_id)
    try:
        if not reporter.update(JobStatus.running, 5, "Lecture des réservations et des adresses"):
            return {"discarded": True}
        with session_scope(app) as db:
            row = get_or_create_day(db, centre_id, day)
            rides = gather(db, row, geocoder or geocoder_for(app), now)
            limit = float(time_limit or rides.settings.solver_time_limit_s)
        reporter.limit = limit
        reporter.update(JobStatus.running, 10, f"Calcul des tournées ({limit:g} s au plus)")
        reporter.solving_since = time.monotonic()
        with reporter.ticking():
            plan = solve_rides(
                rides,
                time_limit=limit,
                progress=reporter.solver_says,
                separate_process=job_id is not None,  # queued jobs share the web process
            )
        with session_scope(app) as db:
            row = get_or_create_day(db, centre_id, day)
            if job_id is not None and row.job_id != job_id:
                return {"discarded": True}  # relaunched meanwhile: the newer job wins
            bookings = {b.id: b for b in _reload(db, rides.bookings)}
            save_plan(db, row, plan, now=now, bookings=bookings)
            message = _done_message(row)
            mark_job(row, JobStatus.done, progress=100, message=message)
            return dict(row.summary)
    except Exception as error:
        reporter.update(JobStatus.failed, None, f"Le calcul a échoué : {error}")
        raise


def _reload(db: Any, bookings: dict[int, Any]) -> list[Any]:
    from scheduling.models import Booking

    return [db.get(Booking, booking_id) for booking_id in bookings]


def _done_message(row: TransportDay) -> str:
    return summary_words(row.summary)


class _Reporter:
    """Writes the job's progress on its day, in its own short transactions."""

    def __init__(self, app: Flask, centre_id: int, day: dt.date, job_id: str | None) -> None:
        self.app, self.centre_id, self.day, self.job_id = app, centre_id, day, job_id
        self.limit = 10.0
        self.solving_since: float | None = None
        self.said = "recherche des meilleures tournées"

    def update(self, status: JobStatus, progress: int | None, message: str) -> bool:
        """Record progress; False when the day now belongs to another job."""
        with session_scope(self.app) as db:
            row = get_or_create_day(db, self.centre_id, self.day)
            if self.job_id is not None and row.job_id not in (None, self.job_id):
                return False
            mark_job(row, status, progress=progress, message=message)
            return True

    def solver_says(self, message: str) -> None:
        self.said = message

    def _progress(self) -> int:
        elapsed = time.monotonic() - (self.solving_since or time.monotonic())
        return 10 + int(85 * min(1.0, elapsed / max(self.limit, 0.1)))

    @contextlib.contextmanager
    def ticking(self) -> Iterator[None]:
        """While the solver works (it speaks rarely), move the progress bar with the clock."""
        if self.job_id is None:
            yield
            return
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(TICK_SECONDS):
                self.update(JobStatus.running, self._progress(), f"Calcul : {self.said}")

        ticker = threading.Thread(target=tick, name="navette-progress", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join(timeout=10)
