"""Browser tests: the app served from a thread, driven by headless Debian Chromium.

The database is a migrated SQLite file with a small world (a carer helping two persons,
a few sessions). `check_accessibility(page)` runs axe-core (WCAG 2.1 AA) and expects zero
violations. Screenshots go to test-results/ for a human to look at.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from scheduling.db import make_engine, make_session_factory
from scheduling.models import (
    Activity,
    ActivitySession,
    Audience,
    Centre,
    Commune,
    Field,
    Frequency,
    Mobility,
    Person,
    Role,
    SessionSeries,
    User,
    Venue,
    VenueKind,
)
from tests.conftest import upgrade_to_head
from webapp import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG21AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
PASSWORD = "mot-de-passe-demo"

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", autouse=True)
def _chromium_present() -> None:
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} absent : lancez bash scripts/setup.sh --dev"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "locale": "fr-FR", "timezone_id": "Europe/Paris"}


@pytest.fixture(scope="session")
def e2e_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("e2e") / "navette.sqlite3"
    url = f"sqlite:///{path}"
    upgrade_to_head(url)
    _seed(url)
    return url


def _seed(url: str) -> None:
    """A small territory around Bergerac: enough for the carer's pages."""
    engine = make_engine(url)
    db = make_session_factory(engine)()
    centre = Centre(name="CRT du Bergeracois", slug="bergerac", lat=44.8519, lon=0.4834)
    db.add(centre)
    db.flush()
    lalinde = Commune(
        centre_id=centre.id,
        insee="24229",
        name="Lalinde",
        postcode="24150",
        lat=44.8368,
        lon=0.7378,
    )
    eymet = Commune(
        centre_id=centre.id,
        insee="24167",
        name="Eymet",
        postcode="24500",
        lat=44.6686,
        lon=0.3989,
    )
    db.add_all([lalinde, eymet])
    db.flush()
    hall = Venue(
        centre_id=centre.id,
        name="Salle des fêtes de Lalinde",
        address="Place de la mairie",
        commune_id=lalinde.id,
        lat=44.837,
        lon=0.738,
        step_free=True,
        kind=VenueKind.hall,
    )
    eymet_hall = Venue(
        centre_id=centre.id,
        name="Foyer rural d'Eymet",
        address="2 rue du Temple",
        commune_id=eymet.id,
        lat=44.668,
        lon=0.399,
        step_free=False,
        kind=VenueKind.hall,
    )
    db.add_all([hall, eymet_hall])
    jeanne = Person(
        centre_id=centre.id,
        first_name="Jeanne",
        last_name="Delmas",
        phone="05 53 61 00 01",
        address="3 rue des Tilleuls",
        commune_id=lalinde.id,
        lat=44.838,
        lon=0.741,
        mobility=Mobility.walker,
    )
    louis = Person(
        centre_id=centre.id,
        first_name="Louis",
        last_name="Roux",
        phone="05 53 23 00 02",
        address="Le Bourg",
        commune_id=eymet.id,
        lat=44.67,
        lon=0.40,
    )
    db.add_all([jeanne, louis])
    db.flush()
    animator = User(
        centre_id=centre.id,
        username="animation",
        password_hash=generate_password_hash(PASSWORD),
        role=Role.animator,
        display_name="Claire Animatrice",
        email="animation@example.org",
    )
    carer = User(
        centre_id=centre.id,
        username="aidant",
        password_hash=generate_password_hash(PASSWORD),
        role=Role.carer,
        display_name="Marie Delmas",
        email="marie@example.org",
    )
    carer.helped_persons = [jeanne, louis]
    db.add_all([animator, carer])
    memory = Activity(
        centre_id=centre.id,
        title="Atelier mémoire",
        description="Exercices en petit groupe.",
        field=Field.care_prevention,
        audience=Audience.older_people,
    )
    balance = Activity(
        centre_id=centre.id,
        title="Gym douce et équilibre",
        description="Prévenir les chutes.",
        field=Field.care_prevention,
        audience=Audience.older_people,
    )
    talk = Activity(
        centre_id=centre.id,
        title="Café des aidants",
        description="Un moment pour souffler.",
        field=Field.isolation,
        audience=Audience.carers,
    )
    db.add_all([memory, balance, talk])
    db.flush()
    base = dt.datetime.combine(dt.date.today() + dt.timedelta(days=3), dt.time(14, 30))
    series = SessionSeries(
        activity_id=balance.id,
        frequency=Frequency.weekly,
        first_date=base.date(),
        until_date=base.date() + dt.timedelta(days=21),
        start_time=dt.time(10),
        end_time=dt.time(11, 30),
        venue_id=hall.id,
        seats=8,
        wheelchair_places=1,
        transport_offered=True,
    )
    db.add(series)
    db.flush()
    sessions = [
        ActivitySession(
            centre_id=centre.id,
            activity_id=memory.id,
            venue_id=hall.id,
            starts_at=base,
            ends_at=base + dt.timedelta(hours=1, minutes=30),
            seats=10,
            wheelchair_places=2,
            transport_offered=True,
            animator_id=animator.id,
        ),
        ActivitySession(
            centre_id=centre.id,
            activity_id=talk.id,
            venue_id=eymet_hall.id,
            starts_at=base + dt.timedelta(days=1),
            ends_at=base + dt.timedelta(days=1, hours=2),
            seats=12,
            wheelchair_places=0,
            transport_offered=False,
        ),
    ]
    for week in range(4):
        day = base.date() + dt.timedelta(days=7 * week)
        sessions.append(
            ActivitySession(
                centre_id=centre.id,
                activity_id=balance.id,
                series_id=series.id,
                venue_id=hall.id,
                starts_at=dt.datetime.combine(day, dt.time(10)),
                ends_at=dt.datetime.combine(day, dt.time(11, 30)),
                seats=8,
                wheelchair_places=1,
                transport_offered=True,
            )
        )
    db.add_all(sessions)
    db.commit()
    db.close()
    engine.dispose()


@pytest.fixture(scope="session")
def live_server(e2e_db_url: str) -> Iterator[str]:
    app = create_app({"DATABASE_URL": e2e_db_url, "SECRET_KEY": "clé-e2e", "MAIL_SERVER": None})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["navette_engine"].dispose()


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    return live_server


@pytest.fixture(scope="session", autouse=True)
def _results_folder() -> Path:
    RESULTS.mkdir(exist_ok=True)
    return RESULTS


def screenshot(page: Any, name: str) -> Path:
    path = RESULTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def check_accessibility(page: Any) -> None:
    """axe-core, WCAG 2.1 A and AA rules: zero violations."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG21AA}, "resultTypes": ["violations"]},
    )
    assert results.violations_count == 0, results.generate_report()


def sign_in(page: Any, base: str, username: str = "aidant") -> None:
    page.goto(base + "/connexion")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


__all__ = ["check_accessibility", "screenshot", "shutil", "sign_in"]
