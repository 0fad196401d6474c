"""Browser tests: the app served from a thread, driven by headless Debian Chromium.

The database is a migrated SQLite file with a small world (a carer helping two persons,
a few sessions). `check_accessibility(page)` runs axe-core (WCAG 2.1 AA) and expects zero
violations. Screenshots go to test-results/ for a human to look at.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import math
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from werkzeug.serving import make_server

from scheduling.models import (
    Activity,
    ActivitySession,
    Audience,
    Centre,
    Field,
    Frequency,
    Mobility,
    Person,
    Role,
    SessionSeries,
    Venue,
    VenueKind,
)
from tests.conftest import upgrade_to_head
from tests.e2e.seeds import PASSWORD, add_lalinde_and_eymet, add_lalinde_hall, add_user, database
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


# Page zoom at 200 %, as a person sets it in Chromium (Settings > Appearance > Page zoom, or
# Ctrl and +): the profile's default zoom level, which Chromium counts in steps of 20 %
# (level = log(zoom) / log(1.2)). In a 1280 × 800 window the page then lays out in a viewport
# of 640 × 400 CSS pixels, drawn with 2 screen pixels per CSS pixel: text, images and boxes
# twice as big, media queries seeing 640 px. Neither a 640 px viewport at 100 % (text stays
# small, the window stays 800 px tall in CSS pixels), a high-density screen
# (--force-device-scale-factor=2: the layout stays 1280 px wide), pinch zoom
# (Emulation.setPageScaleFactor: nothing reflows) nor CSS `zoom` on the root (media queries
# still see 1280 px) is the same thing.
ZOOM = 2.0
ZOOM_WINDOW = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def zoomed_context(
    browser_type: Any, browser_type_launch_args: dict[str, Any], tmp_path_factory: Any
) -> Iterator[Any]:
    """A Chromium of its own whose profile zooms every page to 200 %, in a 1280 × 800 window."""
    profile = tmp_path_factory.mktemp("chromium-zoom-200")
    (profile / "Default").mkdir()
    level = math.log(ZOOM) / math.log(1.2)
    preferences = {"partition": {"default_zoom_level": {"x": level}}}
    (profile / "Default" / "Preferences").write_text(json.dumps(preferences))
    context = browser_type.launch_persistent_context(
        str(profile),
        **browser_type_launch_args,
        viewport=ZOOM_WINDOW,
        locale="fr-FR",
        timezone_id="Europe/Paris",
    )
    yield context
    context.close()


def zoomed_screenshot(page: Any, name: str) -> Path:
    """The whole page as the zoomed screen shows it, 2 image pixels per CSS pixel: screenful
    after screenful, as Chromium draws it (DevTools' own capture of what is on screen), pasted
    one under the other. Playwright's captures place their clip in CSS pixels while the
    browser zoom counts screen pixels: they keep the top left quarter, or a blank screen."""
    from PIL import Image  # Pillow comes with WeasyPrint

    cdp = page.context.new_cdp_session(page)
    height, screen = page.evaluate(
        "() => [Math.ceil(document.documentElement.scrollHeight), window.innerHeight]"
    )
    sheet = Image.new("RGB", (ZOOM_WINDOW["width"], int(height * ZOOM)), "white")
    for top in range(0, height, screen):
        page.evaluate("top => window.scrollTo(0, top)", top)
        at = page.evaluate("() => window.scrollY")  # the last screen stops at the page's end
        shot = base64.b64decode(cdp.send("Page.captureScreenshot", {"format": "png"})["data"])
        sheet.paste(Image.open(io.BytesIO(shot)), (0, int(at * ZOOM)))
    cdp.detach()
    page.evaluate("() => window.scrollTo(0, 0)")
    path = RESULTS / f"{name}.png"
    sheet.save(path)
    return path


def assert_zoomed(page: Any) -> None:
    """The page really is at 200 %: half the window's width in CSS pixels, 2 pixels each."""
    seen = page.evaluate("() => [window.innerWidth, window.devicePixelRatio]")
    expected = [ZOOM_WINDOW["width"] / ZOOM, ZOOM]
    assert seen == expected, f"zoom non appliqué par Chromium : {seen} au lieu de {expected}"


@pytest.fixture(scope="session")
def e2e_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("e2e") / "navette.sqlite3"
    url = f"sqlite:///{path}"
    upgrade_to_head(url)
    with database(url) as db:
        _seed(db)
    return url


def _seed(db: Any) -> None:
    """A small territory around Bergerac: enough for the carer's pages."""
    centre = Centre(name="CRT du Bergeracois", slug="bergerac", lat=44.8519, lon=0.4834)
    db.add(centre)
    db.flush()
    lalinde, eymet = add_lalinde_and_eymet(db, centre)
    hall = add_lalinde_hall(db, centre, lalinde, step_free=True, kind=VenueKind.hall)
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
    animator = add_user(
        db, centre, "animation", Role.animator, "Claire Animatrice", email="animation@example.org"
    )
    carer = add_user(db, centre, "aidant", Role.carer, "Marie Delmas", email="marie@example.org")
    carer.helped_persons = [jeanne, louis]
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


@pytest.fixture(scope="session")
def live_server(e2e_db_url: str) -> Iterator[str]:
    app = create_app(
        {
            "DATABASE_URL": e2e_db_url,
            "SECRET_KEY": "clé-e2e",
            "MAIL_SERVER": None,
            # Rounds are built by a worker thread of this app, on a queue of its own (the
            # default SQLite queue file in instance/ is shared with other runs), and the
            # address service is never called.
            "NAVETTE_QUEUE": "memory",
            "GEOCODER": "offline",
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    queue = app.extensions.get("navette_queue")
    if queue is not None and queue.worker is not None:
        queue.worker.stop()
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


# The element that has the focus: its role, its accessible name (roughly: label, aria-label or
# text) and whether its focus ring shows (an outline of 2 px or more, or a shadow).
ACTIVE_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {role: '', name: '', visible: false};
  const tag = el.tagName.toLowerCase();
  const type = (el.getAttribute('type') || '').toLowerCase();
  let role = tag === 'a' ? 'link' : tag;
  if (tag === 'button' || (tag === 'input' && type === 'submit')) role = 'button';
  else if (tag === 'input' && (type === 'checkbox' || type === 'radio')) role = type;
  else if (tag === 'input') role = 'textbox';
  let name = el.getAttribute('aria-label') || '';
  if (!name && el.labels && el.labels.length) name = el.labels[0].textContent;
  if (!name) name = el.textContent || el.value || '';
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const shadow = !!s.boxShadow && s.boxShadow !== 'none';
  return {role, name: name.replace(/\\s+/g, ' ').trim(), visible: outline || shadow};
}"""


def tab_to(page: Page, role: str, name: str, back: bool = False, limit: int = 120) -> str:
    """Press Tab (or Shift+Tab) until the focus is on `role` named like `name`; its name.

    Every stop on the way must show its focus, not only the one looked for."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        active = page.evaluate(ACTIVE_JS)
        seen.append(f"{active['role']} « {active['name'][:40]} »")
        if active["role"]:  # '' : the focus left the page (past its last stop)
            assert active["visible"], f"focus invisible sur {seen[-1]} ; arrêts : {seen}"
        if active["role"] == role and re.search(name, active["name"]):
            return str(active["name"])
    raise AssertionError(f"{role} « {name} » jamais atteint au clavier ; arrêts : {seen}")


def follow(page: Page) -> None:
    """Enter on the focused link or button, then wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.fixture()
def no_script_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        java_script_enabled=False, locale="fr-FR", timezone_id="Europe/Paris"
    )
    yield context.new_page()
    context.close()


__all__ = [
    "PASSWORD",
    "assert_zoomed",
    "check_accessibility",
    "follow",
    "screenshot",
    "shutil",
    "sign_in",
    "tab_to",
    "zoomed_screenshot",
]
