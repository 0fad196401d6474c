"""Every page each role can reach, checked in Chromium: axe-core, reflow, visible focus.

For each role the test signs in, then walks the links of the menus and of the pages (same
origin, GET only, one page per route shape, at most MAX_PAGES), and on each page:
- axe-core with the WCAG 2.0/2.1 A and AA rules finds nothing;
- at 320 px wide (a small phone, or 400 % zoom) the page does not scroll sideways;
- at 200 % page zoom (WCAG 1.4.4), the real thing: a second Chromium, signed in as the same
  person, whose profile zooms every page to 200 % in a 1280 × 800 window (see ZOOM in
  conftest.py), opens the same page: it must not scroll sideways, no element may stick out of
  the screen unless it sits in a box that scrolls on its own (a wide table), and no box may
  cut its content off (overflow hidden with more inside than it shows). The whole page as
  the zoomed screen shows it goes to test-results/zoom-200-*.png (1280 px wide);
- a focused link or button shows an outline or a shadow (WCAG 2.4.7).
Forms that are safe to send empty (creation and edit forms, the booking's first step, the
sign-in and password forms) are sent empty, and the page with its error messages is checked
the same way, at 100 % and at 200 %. The states that matter are seeded: a full session with
a waiting list, a carer with a waiting booking, a carer with nothing booked yet, a driver with
no round.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy import select

from scheduling.models import (
    Booking,
    BookingStatus,
    Centre,
    Driver,
    Field,
    Person,
    Role,
    Venue,
)
from tests.e2e.conftest import (
    RESULTS,
    WCAG21AA,
    assert_zoomed,
    screenshot,
    sign_in,
    zoomed_screenshot,
)
from tests.e2e.seeds import (
    add_activity_session,
    add_user,
    database,
    seed_a_round_today,
)

MAX_PAGES = 60
FULL_TITLE = "Loto de l'hiver"
SKIPPED_SUFFIXES = (".pdf", ".ics", ".csv")

# Forms sent empty to see their error messages: creation and edit forms only, where an empty
# form cannot be accepted. Booking, attendance, cancellation and round-building forms would
# change the shared database that the other browser tests rely on.
EMPTY_FORM_PAGES = re.compile(
    r"^/(connexion|mot-de-passe|seances/\d+/reserver|cycles/\d+/inscrire"
    r"|animation/activites/(nouvelle|\d+/modifier)|animation/seances/(nouvelle|\d+/modifier)"
    r"|animation/telephone/personnes/nouvelle"
    r"|transport/(vehicules|chauffeurs)/(nouveau|\d+))$"
)

OVERFLOWING_ELEMENTS_JS = """() => {
  // Elements sticking out on the right, unless a scrolling box of their own holds them
  // (a wide table in an overflow-x: auto box is fine: the page itself does not scroll).
  const width = document.documentElement.clientWidth;
  const held = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if ((r.width === 0 && r.height === 0) || r.right <= width + 1) continue;
    if (held(el)) continue;
    out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
             + (typeof el.className === 'string' && el.className
                ? '.' + el.className.split(' ')[0] : '')
             + ' right=' + Math.round(r.right));
    if (out.length >= 5) break;
  }
  return out;
}"""

CUT_OFF_AT_ZOOM_JS = """() => {
  // What a reader at 200 % would miss: the page scrolling sideways, an element sticking out
  // of the screen (unless a box that scrolls sideways on its own holds it, like a wide
  // table), a box that hides part of its content (overflow hidden or clip, with more inside
  // than it shows). Texts hidden on purpose for screen readers (1 px, clipped) are left out.
  const width = document.documentElement.clientWidth;
  const out = [];
  const page = document.scrollingElement;
  if (page.scrollWidth > page.clientWidth + 1)
    out.push(`la page défile de côté (${page.scrollWidth} > ${page.clientWidth} px)`);
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className.trim()
       ? '.' + el.className.trim().split(/\\s+/)[0] : '');
  const text = el => (el.innerText || '').replace(/\\s+/g, ' ').trim().slice(0, 40);
  const forScreenReaders = el => {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.position === 'absolute' && (e.offsetWidth <= 1 || e.offsetHeight <= 1)
          && (s.overflow === 'hidden' || s.clip !== 'auto' || s.clipPath !== 'none')) return true;
    }
    return false;
  };
  const scrolls = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    const s = getComputedStyle(el);
    if (s.display === 'none' || s.visibility === 'hidden') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (forScreenReaders(el)) continue;
    if ((r.right > width + 1 || r.left < -1) && !scrolls(el))
      out.push(`${name(el)} « ${text(el)} » sort de l'écran `
               + `(${Math.round(r.left)} → ${Math.round(r.right)} px, écran ${width} px)`);
    const clipX = (s.overflowX === 'hidden' || s.overflowX === 'clip')
      && el.scrollWidth > el.clientWidth + 1;
    const clipY = (s.overflowY === 'hidden' || s.overflowY === 'clip')
      && el.scrollHeight > el.clientHeight + 1;
    if (clipX || clipY)
      out.push(`${name(el)} « ${text(el)} » coupe son contenu (${el.scrollWidth} × `
               + `${el.scrollHeight} px dans ${el.clientWidth} × ${el.clientHeight})`);
    if (out.length >= 8) break;
  }
  return out;
}"""

FOCUS_STYLE_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const shadow = s.boxShadow && s.boxShadow !== 'none';
  return {tag: el.tagName.toLowerCase(),
          text: (el.textContent || el.value || '').trim().slice(0, 40),
          visible: outline || !!shadow};
}"""


@dataclass
class Sweep:
    role: str
    visited: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    already_checked: list[str] = field(default_factory=list)
    zoomed: int = 0  # pages seen at 200 %

    def report(self) -> str:
        pages = "\n  ".join(self.visited)
        return (
            f"{self.role} : {len(self.problems)} problème(s) sur {len(self.visited)} pages"
            f" ({self.zoomed} vues aussi à 200 %)\n"
            + "\n".join(self.problems)
            + f"\nPages visitées :\n  {pages}"
            + (
                "\nMêmes pages déjà vérifiées pour un autre rôle : "
                + ", ".join(self.already_checked)
                if self.already_checked
                else ""
            )
        )


@dataclass(frozen=True)
class World:
    full_session_id: int
    carer_empty: str = "a11y.aidante"
    coordinator: str = "a11y.coordination"
    driver: str = "a11y.chauffeur"
    admin: str = "a11y.admin"


@pytest.fixture(scope="module")
def world(e2e_db_url: str) -> Iterator[World]:
    """Accounts for every role, a full session with a waiting list, in the shared centre."""
    with database(e2e_db_url) as db:
        centre = db.scalar(select(Centre).where(Centre.slug == "bergerac"))
        assert centre is not None
        hall = db.scalar(select(Venue).where(Venue.centre_id == centre.id))
        jeanne, louis = sorted(
            db.scalars(select(Person).where(Person.centre_id == centre.id)).all(),
            key=lambda p: p.first_name,
        )[:2]
        helped = Person(
            centre_id=centre.id,
            first_name="Odette",
            last_name="Fargues",  # not "Lafon": the animator flow registers a new Lafon
            phone="05 53 61 00 09",
            address="8 avenue de la Gare",
            commune_id=jeanne.commune_id,
            lat=jeanne.lat,
            lon=jeanne.lon,
        )
        db.add(helped)
        users = {
            "a11y.aidante": (Role.carer, "Hélène Fargues"),
            "a11y.coordination": (Role.coordinator, "Paul Coordinateur"),
            "a11y.chauffeur": (Role.driver, "Luc Chauffeur"),
            "a11y.admin": (Role.admin, "Anne Administratrice"),
        }
        accounts = {
            username: add_user(db, centre, username, role, name, email=f"{username}@example.org")
            for username, (role, name) in users.items()
        }
        accounts["a11y.aidante"].helped_persons = [helped]
        db.flush()
        db.add(
            Driver(
                centre_id=centre.id,
                user_id=accounts["a11y.chauffeur"].id,
                phone="06 12 34 56 78",
                available_from=dt.time(8),
                available_until=dt.time(18),
            )
        )
        # A one-seat session, already taken, with Louis (helped by `aidant`) waiting.
        assert hall is not None
        starts = dt.datetime.combine(dt.date.today() + dt.timedelta(days=12), dt.time(15))
        full = add_activity_session(
            db,
            centre,
            FULL_TITLE,
            description="Un après-midi de jeu, avec goûter.",
            field=Field.isolation,
            venue_id=hall.id,
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            seats=1,
        )
        now = dt.datetime.now()
        db.add_all(
            [
                Booking(
                    centre_id=centre.id,
                    session_id=full.id,
                    person_id=jeanne.id,
                    status=BookingStatus.confirmed,
                    created_at=now,
                ),
                Booking(
                    centre_id=centre.id,
                    session_id=full.id,
                    person_id=louis.id,
                    status=BookingStatus.waitlisted,
                    created_at=now,
                ),
            ]
        )
        db.commit()
        seed_a_round_today(db)
        yield World(full_session_id=full.id)


def slug(text: str) -> str:
    return re.sub(r"[^a-z]+", "-", text.lower().translate(str.maketrans("éè", "ee"))).strip("-")


def _route_shape(path: str, query: str) -> str:
    """'/seances/12/reserver?pour=3' -> '/seances/N/reserver?pour': one visit per shape."""
    keys = sorted({part.split("=")[0] for part in query.split("&") if part})
    return re.sub(r"\d+", "N", path) + ("?" + "&".join(keys) if keys else "")


def _page_links(page: Page, origin: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    links = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin:
            continue  # tel:, webcal:, mailto: and other sites
        if parts.path.endswith(SKIPPED_SUFFIXES) or parts.path.startswith("/static/"):
            continue
        links.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return links


def _check_page(page: Page, label: str, sweep: Sweep, shot: str | None = None) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG21AA}, "resultTypes": ["violations"]},
    )
    for v in results.response["violations"]:
        targets = [n["target"] for n in v["nodes"]][:4]
        sweep.problems.append(f"- {label} : axe {v['id']} ({v['impact']}) {targets}")

    focus = _focus_problem(page)
    if focus:
        sweep.problems.append(f"- {label} : {focus}")

    page.set_viewport_size({"width": 320, "height": 800})
    if shot:
        screenshot(page, f"{shot}-320px")
    scroll = page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    if scroll[0] > scroll[1] + 1:
        sticking = page.evaluate(OVERFLOWING_ELEMENTS_JS)
        sweep.problems.append(
            f"- {label} : à 320 px la page défile de côté ({scroll[0]} > {scroll[1]}) : {sticking}"
        )
    page.set_viewport_size({"width": 1280, "height": 900})


def _check_zoomed(zoomed: Page, label: str, sweep: Sweep) -> None:
    """The page open in the Chromium zoomed to 200 %: nothing scrolls sideways, nothing sticks
    out of the screen or is cut off; a full-page screenshot for a human to look at."""
    assert_zoomed(zoomed)
    sweep.zoomed += 1
    name = f"zoom-200-{slug(sweep.role)}-{sweep.zoomed:02d}-{slug(label)[:50] or 'accueil'}"
    zoomed_screenshot(zoomed, name)
    for problem in zoomed.evaluate(CUT_OFF_AT_ZOOM_JS):
        sweep.problems.append(f"- {label} : à 200 % {problem}")


def _focus_problem(page: Page) -> str | None:
    """Tab to the first few stops, then to the page's first button: each must show its focus."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    for _ in range(3):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_STYLE_JS)
        if state and not state["visible"]:
            return f"focus invisible sur {state['tag']} « {state['text']} »"
    button = page.locator("main button:visible, main .button:visible").first
    if button.count():
        button.focus()
        state = page.evaluate(FOCUS_STYLE_JS)
        if state and not state["visible"]:
            return f"focus invisible sur {state['tag']} « {state['text']} »"
    return None


def _send_empty_form(page: Page, zoomed: Page, path: str, sweep: Sweep) -> None:
    if not _submit_empty(page):
        return
    label = f"{path} [envoyé vide]"
    sweep.visited.append(label)
    if not page.locator(".field-error, .error-summary, [aria-invalid='true']").count():
        sweep.problems.append(f"- {label} : aucun message d'erreur affiché")
    _check_page(page, label, sweep)
    zoomed.goto(page.url)
    _submit_empty(zoomed)
    _check_zoomed(zoomed, label, sweep)


def _submit_empty(page: Page) -> bool:
    """Empty the text boxes of the page's first form that posts, and send it."""
    form = page.locator("main form[method='post' i]").first
    if not form.count():
        return False
    boxes = form.locator(
        "input:is([type=text],[type=email],[type=tel],[type=number],[type=date],[type=time],"
        "[type=password],[type=search],[type=url],:not([type])):visible, textarea:visible"
    )
    for i in range(boxes.count()):
        boxes.nth(i).fill("")
    form.locator("button[type=submit], button:not([type]), input[type=submit]").last.click()
    page.wait_for_load_state()
    return True


def _sweep(
    page: Page, zoomed: Page, origin: str, starts: list[str], sweep: Sweep, shared: set[str]
) -> None:
    """Breadth first from `starts`; `shared` holds the shapes a role of the family has checked.
    `zoomed` opens each page again at 200 %."""
    queue = list(starts)
    shapes: set[str] = set()
    while queue and len(sweep.visited) < MAX_PAGES:
        path = queue.pop(0)
        parts = urlsplit(path)
        shape = _route_shape(parts.path, parts.query)
        if shape in shapes:
            continue
        shapes.add(shape)
        if path not in starts and (shape in shared or shape in ONCE_CHECKED):
            sweep.already_checked.append(path)
            continue
        shared.add(shape)
        if shape in SAME_FOR_EVERY_ROLE:
            ONCE_CHECKED.add(shape)
        response = page.goto(origin + path)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        sweep.visited.append(f"{path} ({response.status})")
        if response.status >= 500:
            sweep.problems.append(f"- {path} : erreur {response.status}")
        # The first page of each role, photographed at 320 px for a human to look at.
        shot = f"balayage-{slug(sweep.role)}" if len(sweep.visited) == 1 else None
        _check_page(page, path, sweep, shot)
        zoomed.goto(origin + path)
        _check_zoomed(zoomed, path, sweep)
        queue.extend(link for link in _page_links(page, origin) if link not in queue)
        if EMPTY_FORM_PAGES.match(parts.path):
            _send_empty_form(page, zoomed, path, sweep)


ROLES = {
    # role: (username or None, first pages)
    "visiteur": (None, ["/", "/connexion", "/accessibilite"]),
    "aidant": ("aidant", ["/reservations", "/", "/seances/{full}", "/seances/{full}/reserver"]),
    # One person helped: the booking form comes at once; the full session: the waiting list.
    "aidant sans réservation": (
        "a11y.aidante",
        ["/reservations", "/calendrier", "/", "/seances/{full}/reserver"],
    ),
    "animateur": ("animation", ["/animation/", "/animation/seances/{full}"]),
    "coordinateur": (
        "a11y.coordination",
        ["/transport/", "/rapports/", "/chauffeur/alertes", "/animation/"],
    ),
    "chauffeur sans tournée": ("a11y.chauffeur", ["/chauffeur/"]),
    "chauffeur avec tournée": ("a11y.chauffeur.tournee", ["/chauffeur/"]),
    "administrateur": ("a11y.admin", ["/transport/", "/rapports/", "/animation/"]),
}
# Roles of a family share their pages (a carer's agenda, the staff's animation and transport
# pages): each page shape is checked once, by the first role of the family that reaches it;
# every role still checks its own first pages, with its own menu.
FAMILIES = {
    "aidant": "aidants",
    "aidant sans réservation": "aidants",
    "animateur": "personnel",
    "coordinateur": "personnel",
    "administrateur": "personnel",
}
FAMILY_SHAPES: dict[str, set[str]] = {"aidants": set(), "personnel": set()}
# Pages whose content does not depend on who reads them: checked once for all roles.
SAME_FOR_EVERY_ROLE = {"/accessibilite", "/mot-de-passe"}
ONCE_CHECKED: set[str] = set()


@pytest.fixture()
def role_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="fr-FR", timezone_id="Europe/Paris"
    )
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module", autouse=True)
def _no_stale_zoom_screenshots() -> None:
    """test-results/ is kept between runs: the pictures at 200 % are this run's only."""
    for old in RESULTS.glob("zoom-200-*.png"):
        old.unlink()


@pytest.fixture()
def zoomed_page(zoomed_context: BrowserContext) -> Iterator[Page]:
    """A tab of the Chromium zoomed to 200 %, signed in as nobody yet."""
    zoomed_context.clear_cookies()
    page = zoomed_context.new_page()
    yield page
    page.close()


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_of_a_role_is_accessible(
    role: str, role_page: Page, zoomed_page: Page, live_server: str, world: World
) -> None:
    username, starts = ROLES[role]
    if username:
        sign_in(role_page, live_server, username)
        # The same person in the zoomed Chromium: the session cookie, not a second sign-in.
        zoomed_page.context.add_cookies(role_page.context.cookies())
    sweep = Sweep(role)
    first = [s.format(full=world.full_session_id) for s in starts]
    shared = FAMILY_SHAPES[FAMILIES[role]] if role in FAMILIES else set()
    _sweep(role_page, zoomed_page, live_server, first, sweep, shared)
    print(sweep.report())
    assert len(sweep.visited) >= len(first), sweep.report()
    assert not sweep.problems, sweep.report()
