"""Faults: the database restarts during traffic, a solver job is killed mid-way.

1. The app is served by a real WSGI server (werkzeug, threaded) in a thread, on a PostgreSQL
   cluster of the test's own (initdb + pg_ctl in a temporary folder, on a free port: the shared
   server on 5432 that other tests use is never touched). Clients keep asking for pages, and a
   signed-in carer keeps booking, while the cluster is stopped and started again. During the
   outage every answer is the French 503 page (never a traceback, never a 500) and no booking
   refused then is saved; every booking the carer was told about is there; once the cluster is
   back, the same server and app process (same engine and pool) serve and book normally
   again, with no restart.
   Where a private cluster cannot be made (no initdb, no ``postgres`` user), the outage is
   played on a database of the test's own on the shared server instead: connections refused
   (``ALLOW_CONNECTIONS false``) and every session of it killed (``pg_terminate_backend``),
   then allowed again. The test says which in its output.
2. A build job's solver process is killed (SIGKILL) while it searches: the day's published
   rounds are exactly as before, the coordinator reads in French that the build failed, and a
   new build started from the page completes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import http.cookiejar
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from scheduling.db import make_engine
from scheduling.models import (
    Activity,
    ActivitySession,
    Audience,
    Booking,
    BookingStatus,
    Centre,
    Commune,
    Field,
    Mobility,
    Person,
    Role,
    SessionStatus,
    User,
    Venue,
    VenueKind,
)
from scheduling.transport_models import (
    DayStatus,
    JobStatus,
    Round,
    RoundStop,
    StopKind,
    TransportDay,
    TransportSettings,
)
from tests.conftest import PG_ADMIN_URL, _libpq_url, _unavailable, upgrade_to_head
from tests.webapp import transport_fixtures
from tests.webapp.conftest import PASSWORD, post, read, text_of
from tests.webapp.transport_fixtures import TransportWorld
from webapp import create_app
from webapp.db import get_engine

transport_world = transport_fixtures.transport_world
transport_app = transport_fixtures.transport_app
fake_geocoder = transport_fixtures.fake_geocoder

OUTAGE_TITLE = "Service momentanément indisponible"
SESSION_TITLE = "Atelier mémoire de la panne"


# --- 1. the database restarts during traffic ------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PrivateCluster:
    """A throw-away PostgreSQL cluster: initdb in a temporary folder, pg_ctl start/stop."""

    def __init__(self) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not bins:
            raise RuntimeError("initdb introuvable sous /usr/lib/postgresql")
        self.bin = bins[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="navette-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.as_postgres = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self.as_postgres, *args], check=True, capture_output=True, text=True, timeout=60
        )

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Outage:
    """How this test cuts its database and brings it back."""

    url: str
    how: str
    cut: Callable[[], None]
    restore: Callable[[], None]


def _create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(_libpq_url(admin_url), autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')


@contextlib.contextmanager
def _private_cluster_outage() -> Iterator[Outage]:
    cluster = PrivateCluster()
    try:
        cluster.init()
        cluster.start()
        _create_database(cluster.url(), "navette")
        yield Outage(
            cluster.url("navette"),
            f"redémarrage réel d'un cluster PostgreSQL privé (port {cluster.port})",
            cluster.stop,
            cluster.start,
        )
    finally:
        cluster.remove()


@contextlib.contextmanager
def _shared_server_outage() -> Iterator[Outage]:
    admin_url = _libpq_url(PG_ADMIN_URL.render_as_string(hide_password=False))
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        _unavailable(f"PostgreSQL injoignable sur {admin_url} : {error}".strip())
    name = f"navette_panne_{secrets.token_hex(6)}"
    admin.execute(f'CREATE DATABASE "{name}"')

    def cut() -> None:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )

    def restore() -> None:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')

    try:
        url = PG_ADMIN_URL.set(database=name).render_as_string(hide_password=False)
        yield Outage(
            url, "repli : connexions refusées et coupées sur le serveur partagé", cut, restore
        )
    finally:
        restore()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def outage() -> Iterator[Outage]:
    """A migrated database that the test may cut: a private cluster if one can be made."""
    try:
        context = _private_cluster_outage()
        found = context.__enter__()
    except (RuntimeError, KeyError, OSError, subprocess.SubprocessError, psycopg.Error) as error:
        print(f"Pas de cluster privé ({error}) : repli sur le serveur partagé.")
        context = _shared_server_outage()
        found = context.__enter__()
    try:
        print(f"Panne jouée par {found.how}.")
        upgrade_to_head(found.url)
        yield found
    finally:
        context.__exit__(None, None, None)


@dataclass
class Seeded:
    session_id: int
    carer: str  # username
    person_ids: list[int]


WRITERS_PERSONS = 80  # each is booked at most once: the writer's attempts are bounded too


def _seed(url: str) -> Seeded:
    """A centre with one session (room for everyone) and a carer who helps many persons."""
    engine = make_engine(url)
    try:
        with DbSession(engine) as db:
            centre = Centre(
                name="CRT de la panne", slug="crt-panne", address="Bergerac", lat=44.85, lon=0.48
            )
            db.add(centre)
            db.flush()
            commune = Commune(
                centre_id=centre.id,
                insee="24037",
                name="Bergerac",
                postcode="24100",
                lat=44.85,
                lon=0.48,
            )
            db.add(commune)
            db.flush()
            venue = Venue(
                centre_id=centre.id,
                name="Salle des fêtes",
                address="Place de la mairie",
                commune_id=commune.id,
                lat=44.85,
                lon=0.48,
                step_free=True,
                kind=VenueKind.hall,
            )
            activity = Activity(
                centre_id=centre.id,
                title=SESSION_TITLE,
                description="",
                active=True,
                field=Field.care_prevention,
                audience=Audience.older_people,
            )
            db.add_all([venue, activity])
            db.flush()
            starts = dt.datetime.combine(dt.date.today() + dt.timedelta(days=3), dt.time(14))
            session = ActivitySession(
                centre_id=centre.id,
                activity_id=activity.id,
                venue_id=venue.id,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=2),
                seats=WRITERS_PERSONS,
                wheelchair_places=1,
                status=SessionStatus.scheduled,
            )
            persons = [
                Person(
                    centre_id=centre.id,
                    first_name="Odette",
                    last_name=f"Panne{i}",
                    phone="05 53 00 00 00",
                    address=f"{i} rue du Marché",
                    commune_id=commune.id,
                    lat=44.85,
                    lon=0.48,
                    mobility=Mobility.walks,
                )
                for i in range(WRITERS_PERSONS)
            ]
            carer = User(
                centre_id=centre.id,
                username="aidante-panne",
                password_hash=generate_password_hash(PASSWORD),
                role=Role.carer,
                display_name="Aidante de la panne",
                email="aidante-panne@example.org",
                active=True,
            )
            carer.helped_persons = persons
            db.add_all([session, carer, *persons])
            db.commit()
            return Seeded(session.id, carer.username, [p.id for p in persons])
    finally:
        engine.dispose()


@dataclass
class Answer:
    phase: str  # when the request was sent, and when its answer came back
    ended: str
    status: int
    body: str
    retry_after: str | None


@dataclass
class Traffic:
    """Clients asking for pages in a loop, bounded in count and time, until told to stop."""

    port: int
    paths: list[str]
    phase: str = "avant"
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    MAX_REQUESTS = 3000
    MAX_SECONDS = 45.0

    def client(self) -> None:
        deadline = time.monotonic() + self.MAX_SECONDS
        n = 0
        while not self.stop.is_set() and time.monotonic() < deadline and n < self.MAX_REQUESTS:
            phase = self.phase
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                conn.request("GET", self.paths[n % len(self.paths)])
                response = conn.getresponse()
                body = response.read().decode("utf-8", "replace")
                retry_after = response.getheader("Retry-After")
                self.answers.append(Answer(phase, self.phase, response.status, body, retry_after))
            finally:
                conn.close()
            n += 1
            time.sleep(0.01)

    def within(self, phase: str) -> list[Answer]:
        """The answers to requests sent and answered during ``phase``."""
        return [a for a in self.answers if a.phase == a.ended == phase]

    def wait_for(self, phase: str, status: int, count: int, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if sum(1 for a in self.within(phase) if a.status == status) >= count:
                return
            time.sleep(0.05)
        seen = [(a.phase, a.ended, a.status) for a in self.answers[-10:]]
        raise AssertionError(f"pas {count} réponses {status} en phase {phase} : {seen}")


@dataclass
class Attempt:
    phase: str
    ended: str
    person_id: int
    status: int
    booking_id: int | None
    body: str


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Writer:
    """A signed-in carer booking one person after another over HTTP, until told to stop."""

    traffic: Traffic
    seeded: Seeded
    attempts: list[Attempt] = field(default_factory=list)

    def run(self) -> None:
        base = f"http://127.0.0.1:{self.traffic.port}"
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

        def token(path: str) -> str:
            found = CSRF.search(opener.open(base + path, timeout=30).read().decode())
            assert found, path
            return found.group(1)

        form = {"username": self.seeded.carer, "password": PASSWORD}
        form["csrf_token"] = token("/connexion")
        opener.open(base + "/connexion", urlencode(form).encode(), timeout=30).read()
        csrf = token("/")  # the signed-in page has the sign-out form
        deadline = time.monotonic() + self.traffic.MAX_SECONDS
        for person_id in self.seeded.person_ids:
            if self.traffic.stop.is_set() or time.monotonic() > deadline:
                return
            phase = self.traffic.phase
            data = {"csrf_token": csrf, "person_id": person_id, "companions": 0}
            data |= {"pickup_address": "", "confirmed": "yes"}
            url = f"{base}/seances/{self.seeded.session_id}/reserver"
            try:
                with opener.open(url, urlencode(data).encode(), timeout=30) as response:
                    status, body, landed = response.status, response.read(), response.geturl()
            except urllib.error.HTTPError as error:
                status, body, landed = error.code, error.read(), ""
            booked = re.search(r"/reservations/(\d+)", landed)
            self.attempts.append(
                Attempt(
                    phase,
                    self.traffic.phase,
                    person_id,
                    status,
                    int(booked.group(1)) if booked else None,
                    body.decode("utf-8", "replace"),
                )
            )
            time.sleep(0.02)

    def within(self, phase: str) -> list[Attempt]:
        return [a for a in self.attempts if a.phase == a.ended == phase]

    def wait_for(self, phase: str, booked: bool, count: int, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            done = [a for a in self.within(phase) if (a.booking_id is not None) == booked]
            if len(done) >= count:
                return
            time.sleep(0.05)
        seen = [(a.phase, a.ended, a.status) for a in self.attempts[-10:]]
        raise AssertionError(f"pas {count} réservations ({booked}) en phase {phase} : {seen}")


def test_the_database_restarting_during_traffic_gives_a_french_503_then_service_resumes(
    outage: Outage,
) -> None:
    seeded = _seed(outage.url)
    app = create_app(
        {
            "DATABASE_URL": outage.url,
            "SECRET_KEY": "clé-de-test",
            "NAVETTE_QUEUE": "memory",
            "SESSION_COOKIE_SECURE": False,  # plain http on the loopback
        }
    )
    engine = get_engine(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    traffic = Traffic(server.server_port, ["/", f"/seances/{seeded.session_id}"])
    writer = Writer(traffic, seeded)
    clients = [threading.Thread(target=traffic.client) for _ in range(3)]
    clients.append(threading.Thread(target=writer.run))
    try:
        for client in clients:
            client.start()
        traffic.wait_for("avant", 200, 6)
        writer.wait_for("avant", True, 2)
        traffic.phase = "coupure"  # requests in flight while the server goes down
        outage.cut()
        traffic.phase = "panne"
        traffic.wait_for("panne", 503, 6)
        writer.wait_for("panne", False, 2)
        traffic.phase = "reprise"  # the server is starting again
        outage.restore()
        traffic.phase = "après"
        traffic.wait_for("après", 200, 9)
        writer.wait_for("après", True, 3)
    finally:
        traffic.stop.set()
        for client in clients:
            client.join(timeout=40)
        server.shutdown()
        serving.join(timeout=10)
        engine.dispose()

    check = make_engine(outage.url)
    with check.connect() as connection:
        rows = connection.execute(
            select(Booking.id, Booking.person_id, Booking.status).where(
                Booking.session_id == seeded.session_id
            )
        ).all()
    check.dispose()
    answers = traffic.answers
    # Never a 500, never a traceback: a page, or the French "come back later" page.
    assert {a.status for a in answers} <= {200, 503}, sorted({a.status for a in answers})
    assert all("Traceback" not in a.body for a in answers)
    # While the database was away, every answer was the 503 page, which tells what to do.
    down = traffic.within("panne")
    assert down and all(a.status == 503 for a in down), [a.status for a in down]
    for answer in down:
        assert OUTAGE_TITLE in answer.body
        assert "Rien n’a été enregistré" in answer.body
        assert '<html lang="fr">' in answer.body
        assert answer.retry_after == "30"
    # Once it is back, the same server, app and engine serve the pages again, no restart:
    # after the first success, every answer is a success.
    after = [a for a in answers if a.phase == "après"]  # sent once the database was back
    first_ok = next(i for i, a in enumerate(after) if a.status == 200)
    assert all(a.status == 200 for a in after[first_ok:]), [a.status for a in after]
    assert any(SESSION_TITLE in a.body for a in after[first_ok:])
    assert get_engine(app) is engine
    # Before the outage, pages were plain pages too.
    assert all(a.status == 200 for a in traffic.within("avant"))

    # Bookings: each one the carer was told about is there, confirmed; none refused during the
    # outage was half-written; each after the restart was saved.
    attempts = writer.attempts
    assert {a.status for a in attempts} <= {200, 503}, sorted({a.status for a in attempts})
    saved = {person_id: (booking_id, status) for booking_id, person_id, status in rows}
    for attempt in attempts:
        if attempt.booking_id is not None:
            assert saved[attempt.person_id] == (attempt.booking_id, BookingStatus.confirmed)
    for attempt in writer.within("panne"):
        assert attempt.status == 503 and OUTAGE_TITLE in attempt.body
        assert attempt.person_id not in saved
    # A booking whose request met the cut may or may not be saved (the commit may have reached
    # the server before the answer was lost): any other saved one was acknowledged.
    told = {a.person_id for a in attempts if a.booking_id is not None}
    in_doubt = {a.person_id for a in attempts if a.booking_id is None and a.phase != a.ended}
    assert set(saved) - told <= in_doubt
    after_writes = [a for a in attempts if a.phase == "après"]
    assert after_writes and all(a.booking_id is not None for a in after_writes)


# The page never reaches the database it is given: one backend is enough.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_signed_in_coordinator_gets_the_503_page_while_the_database_is_unreachable(
    app: Flask, client: Any, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    """Loading the signed-in user fails too: the page must read nothing from the database."""
    from sqlalchemy.orm import sessionmaker

    login(make_user(role=Role.coordinator, password=PASSWORD))
    working = app.extensions["navette_session_factory"]
    nowhere = make_engine(f"postgresql://postgres@127.0.0.1:{_free_port()}/navette")
    app.extensions["navette_session_factory"] = sessionmaker(bind=nowhere)
    try:
        response = client.get("/transport/")
    finally:
        app.extensions["navette_session_factory"] = working
        nowhere.dispose()
    assert response.status_code == 503
    assert OUTAGE_TITLE in text_of(response)
    assert response.headers["Retry-After"] == "30"
    # The database is reachable again: the same app and session serve the page.
    assert client.get("/transport/", follow_redirects=True).status_code == 200


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_losing_the_database_at_the_commit_after_the_page_also_gives_the_503_page(
    app: Flask, client: Any
) -> None:
    """Flask hands what fails after the view (the request's commit) to the 500 handler."""
    from sqlalchemy.exc import OperationalError

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production (tests re-raise by default)

    @app.after_request
    def commit_fails(response: Any) -> Any:
        if response.status_code == 200:
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))
        return response

    response = client.get("/")
    assert response.status_code == 503
    assert OUTAGE_TITLE in text_of(response)


# --- 2. a solver job killed mid-way ---------------------------------------------------------


def _rounds_of(db: Any, centre_id: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The centre's rounds and stops, as plain values to compare before and after."""
    rounds = read(db, select(Round).where(Round.centre_id == centre_id).order_by(Round.id))
    stops = read(
        db,
        select(RoundStop).join(Round).where(Round.centre_id == centre_id).order_by(RoundStop.id),
    )
    return (
        [(r.id, r.vehicle_id, r.driver_id, r.status, r.starts_at, r.ends_at) for r in rounds],
        [
            (
                s.id,
                s.round_id,
                s.booking_id,
                s.leg,
                s.kind,
                s.seq,
                s.planned_begin,
                s.promised_from,
                s.promised_to,
            )
            for s in stops
        ],
    )


def _day(db: Any, centre_id: int) -> TransportDay:
    days = read(db, select(TransportDay).where(TransportDay.centre_id == centre_id))
    assert len(days) == 1
    return days[0]


def _solver_process(seconds: float = 40) -> int:
    """The pid of the build's helper process, once it has OR-Tools loaded (so it is solving)."""
    import multiprocessing

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for child in multiprocessing.active_children():
            if child.pid is None:
                continue
            with contextlib.suppress(OSError):
                if "ortools" in Path(f"/proc/{child.pid}/maps").read_text():
                    return child.pid
        time.sleep(0.05)
    raise AssertionError("aucun processus de calcul n'a démarré")


def _wait_for_end(db: Any, centre_id: int, seconds: float = 40) -> TransportDay:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        day = _day(db, centre_id)
        if day.job_status in (JobStatus.done, JobStatus.failed):
            return day
        time.sleep(0.1)
    raise AssertionError("le calcul n'a pas fini à temps")


# SQLite, the default deployment: the job's worker thread and the pages share its write lock.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("published", [True, False], ids=["publiees", "brouillon"])
def test_a_solver_killed_mid_way_leaves_the_rounds_and_the_coordinator_can_start_again(
    published: bool,
    transport_app: Flask,
    transport_world: TransportWorld,
    make_booking: Callable[..., Any],
    db: Any,
    client: Any,
    login: Callable[..., Any],
) -> None:
    world = transport_world
    centre_id, day_url = world.centre.id, f"/transport/jour/{world.day.isoformat()}"
    for person in world.persons:
        make_booking(world.session, person=person, transport_out=True, transport_back=True)
    db.commit()
    login(world.coordinator)
    # Rounds built, as a draft or published (each passenger then has a promised pickup time).
    from webapp.jobs import run_build

    run_build(transport_app, centre_id, world.day, None, 1)
    if published:
        assert post(client, f"{day_url}/publier").status_code == 302
    before = _rounds_of(db, centre_id)
    rounds, stops = before
    assert rounds and stops
    expected = DayStatus.published if published else DayStatus.draft
    assert all(r[3] is expected for r in rounds), rounds
    assert all(s[7] is not None for s in stops if s[4] is StopKind.pickup) == published
    summary_before = _day(db, centre_id).summary

    # A long search, started from the page as the coordinator does, killed while it runs.
    settings = read(db, select(TransportSettings).where(TransportSettings.centre_id == centre_id))
    settings[0].solver_time_limit_s = 60
    db.commit()
    assert post(client, f"{day_url}/construire").status_code == 302
    pid = _solver_process()
    time.sleep(0.5)
    assert _day(db, centre_id).job_status is JobStatus.running
    os.kill(pid, signal.SIGKILL)

    _wait_for_end(db, centre_id)
    assert _rounds_of(db, centre_id) == before
    # Read last: each read() expires what the test session holds (a lazy load would leave a
    # transaction open, holding SQLite's write lock).
    day = _day(db, centre_id)
    assert day.job_status is JobStatus.failed
    assert day.job_message.startswith("Le calcul a échoué : le calculateur s'est arrêté")
    assert "terminated" not in day.job_message  # no English from the process pool
    assert day.summary == summary_before
    page = text_of(client.get(day_url + "?auto=non"))
    assert "Relancez le calcul. Les tournées ci-dessous n'ont pas changé." in page

    # The build page still works: a new build starts a new helper and completes.
    settings = read(db, select(TransportSettings).where(TransportSettings.centre_id == centre_id))
    settings[0].solver_time_limit_s = 1
    db.commit()
    assert post(client, f"{day_url}/construire").status_code == 302
    day = _wait_for_end(db, centre_id, seconds=60)
    assert day.job_status is JobStatus.done, day.job_message
    assert "4 passagers" in day.job_message


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_a_wrong_query_is_a_logged_500_not_an_outage(
    app: Flask, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A missing column (a forgotten migration, a bug) must not pass for a database outage:
    SQLite files it under OperationalError, PostgreSQL under ProgrammingError; both are 500s,
    logged with their traceback."""
    from sqlalchemy import text

    from webapp.db import get_db

    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/essai-colonne-absente")
    def wrong_query() -> str:
        get_db().execute(
            text("SELECT no_such_column FROM persons WHERE last_name = :n"), {"n": "Dupont"}
        )
        return "jamais"

    response = client.get("/essai-colonne-absente")
    assert response.status_code == 500
    assert "Retry-After" not in response.headers
    assert any(record.exc_info for record in caplog.records)
