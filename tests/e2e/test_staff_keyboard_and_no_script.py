"""The staff's journeys without a mouse, and without JavaScript, in headless Chromium.

- The animator creates a weekly workshop (a series, one date left out), opens the sign-in
  sheet of its first session (PDF), cancels that session, and takes the attendance of a session
  held today.
- The coordinator builds tomorrow's rounds (the solver runs in the app's background worker)
  and publishes them. While it computes, the page reloads itself; the coordinator stops that
  and follows the build with the plain link the page offers, which needs no script.

Each journey is run twice: with the keyboard alone (Tab, Shift+Tab, Enter, Space, the arrow
keys and typing; the focused element must show its focus at every stop), and with JavaScript
switched off (clicks). Screenshots go to test-results/.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from scheduling.models import (
    Activity,
    Audience,
    Centre,
    Field,
    Mobility,
    Person,
    Role,
)
from scheduling.transport import transport_settings
from tests.e2e.conftest import (
    ACTIVE_JS,
    PASSWORD,
    follow,
    screenshot,
    sign_in,
    tab_to,
)
from tests.e2e.seeds import (
    add_activity_session,
    add_centre,
    add_driver,
    add_lalinde_and_eymet,
    add_lalinde_hall,
    add_session_today_with_one_booking,
    add_user,
    add_van,
    book_ride,
    centre_today,
    database,
)
from webapp.fr import fr_date

DATE_ORDER = ""  # how the browser's date fields order day, month and year (see type_date)


@dataclass(frozen=True)
class Journey:
    """What one run (keyboard or no script) works on, so the two runs never meet."""

    workshop: str  # an activity without sessions yet: the series is made for it
    held_today: str  # a session held this morning, one person booked: attendance
    coordinator: str  # the coordinator of a centre of its own, with tomorrow's rides booked
    first_date: dt.date  # the series' first Wednesday


JOURNEYS = {
    "clavier": Journey(
        "Atelier d'écriture", "Marche nordique", "clavier.coordination", dt.date.min
    ),
    "sans-js": Journey(
        "Atelier de peinture", "Yoga sur chaise", "sansjs.coordination", dt.date.min
    ),
}


@pytest.fixture(scope="module")
def journeys(e2e_db_url: str) -> dict[str, Journey]:
    seeded = {}
    with database(e2e_db_url) as db:
        for weeks, (key, journey) in enumerate(JOURNEYS.items()):
            centre = db.scalar(select(Centre).where(Centre.slug == "bergerac"))
            assert centre is not None
            db.add(
                Activity(
                    centre_id=centre.id,
                    title=journey.workshop,
                    description="Un atelier en petit groupe.",
                    field=Field.isolation,
                    audience=Audience.older_people,
                )
            )
            db.commit()
            add_session_today_with_one_booking(
                db, "bergerac", journey.held_today, "Simone", f"Présence-{key}"
            )
            _seed_rides_tomorrow(db, f"e2e-{key}-tournees", journey.coordinator)
            # Far enough ahead not to change the two weeks the other flows look at.
            first = _next_wednesday(centre_today() + dt.timedelta(days=45 + 28 * weeks))
            seeded[key] = replace(journey, first_date=first)
    return seeded


def _next_wednesday(after: dt.date) -> dt.date:
    return after + dt.timedelta(days=(2 - after.weekday()) % 7 or 7)


def _seed_rides_tomorrow(db: Any, slug: str, coordinator: str) -> None:
    """A centre of its own (publishing changes what its carers see): a van, a driver, and two
    persons booked with a ride there and back to tomorrow's session."""
    centre = add_centre(db, slug, f"CRT {slug}")
    lalinde, eymet = add_lalinde_and_eymet(db, centre)
    hall = add_lalinde_hall(db, centre, lalinde)
    add_van(db, centre)
    driver = add_driver(db, centre, f"{slug}.chauffeur", "Pierre Chauffeur", "06 22 33 44 55")
    driver.weekdays = list(range(7))  # tomorrow may be a Saturday
    add_user(db, centre, coordinator, Role.coordinator, "Nadia Coordinatrice")
    riders = [
        Person(
            centre_id=centre.id,
            first_name=first,
            last_name=last,
            phone=phone,
            address=address,
            commune_id=commune.id,
            lat=lat,
            lon=lon,
            mobility=mobility,
        )
        for first, last, phone, address, commune, lat, lon, mobility in (
            (
                "Henri",
                "Lagarde",
                "05 53 61 10 10",
                "7 rue du Lac",
                lalinde,
                44.839,
                0.744,
                Mobility.walker,
            ),
            (
                "Lucie",
                "Fabre",
                "05 53 23 20 20",
                "La Garrigue",
                eymet,
                44.671,
                0.402,
                Mobility.walks,
            ),
        )
    ]
    db.add_all(riders)
    db.flush()
    starts = dt.datetime.combine(centre_today() + dt.timedelta(days=1), dt.time(14, 30))
    session = add_activity_session(
        db,
        centre,
        "Atelier mémoire",
        venue_id=hall.id,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        seats=12,
        wheelchair_places=1,
        transport_offered=True,
    )
    for person in riders:
        book_ride(db, session, person, back=True)
    transport_settings(db, centre.id).solver_time_limit_s = 3
    db.commit()


def sign_in_with_the_keyboard(page: Page, base: str, username: str) -> None:
    page.goto(base + "/connexion")
    tab_to(page, "textbox", "Identifiant")
    page.keyboard.type(username)
    tab_to(page, "textbox", "Mot de passe")
    page.keyboard.type(PASSWORD)
    follow(page)
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def type_over(page: Page, text: str) -> None:
    """Replace what the focused field holds: select all (Ctrl+A), then type."""
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def type_date(page: Page, day: dt.date) -> None:
    """Type a date in the focused date field, in the order the field shows its parts.

    A French Chromium shows 13/01/2027; headless Chromium keeps its own locale's order
    (01/13/2027), whatever the page's language: find out once, on a blank page of its own."""
    global DATE_ORDER
    if not DATE_ORDER:
        probe = page.context.new_page()
        probe.set_content('<input type="date" id="d">')
        probe.focus("#d")
        probe.keyboard.type("13012027")
        found = probe.eval_on_selector("#d", "e => e.value")
        probe.close()
        DATE_ORDER = "%d%m%Y" if found == "2027-01-13" else "%m%d%Y"
    page.keyboard.type(day.strftime(DATE_ORDER))


def open_the_pdf(page: Page, action: Callable[[], None]) -> None:
    """Follow the link to the sign-in sheet: Chromium shows the PDF (to print from its viewer);
    then back to the roster (Alt+Left, the browser's own key, out of the page's reach here)."""
    with page.expect_response(re.compile(r"/emargement\.pdf$")) as sheet:
        action()
    assert sheet.value.ok and sheet.value.headers["content-type"] == "application/pdf"
    # What the response carried (the page itself now is Chromium's viewer around it).
    assert page.request.get(sheet.value.url).body().startswith(b"%PDF-")
    page.wait_for_url(re.compile(r"/emargement\.pdf$"))
    page.go_back()
    expect(page.get_by_role("link", name="Feuille d'émargement (PDF)")).to_be_visible()


def test_animator_makes_a_series_prints_cancels_and_takes_attendance_with_the_keyboard(
    page: Page, live_server: str, journeys: dict[str, Journey]
) -> None:
    j = journeys["clavier"]
    sign_in_with_the_keyboard(page, live_server, "animation")

    # A weekly workshop for four Wednesdays, the third one left out.
    tab_to(page, "link", "^Activités$")
    follow(page)
    tab_to(page, "link", f"^Programmer une séance : {j.workshop}")
    follow(page)
    expect(page.get_by_role("heading", name="Nouvelle séance")).to_be_visible()
    expect(page.get_by_label("Activité", exact=True)).to_have_value(re.compile(r"\d+"))
    tab_to(page, "textbox", "^Date$")
    type_date(page, j.first_date)
    expect(page.get_by_label("Date", exact=True)).to_have_value(j.first_date.isoformat())
    tab_to(page, "textbox", "^Heure de début")
    page.keyboard.type("1430")
    tab_to(page, "textbox", "^Heure de fin")
    page.keyboard.type("1600")
    expect(page.get_by_label("Heure de fin")).to_have_value("16:00")
    tab_to(page, "select", "^Lieu")
    page.keyboard.type("Salle des f")  # a closed list picks the option its letters name
    expect(page.get_by_label("Lieu")).to_have_value(re.compile(r"\d+"))
    tab_to(page, "textbox", "^Nombre de places")
    type_over(page, "8")
    tab_to(page, "textbox", "^Dont places pour fauteuil")
    type_over(page, "1")
    tab_to(page, "checkbox", "propose le transport")
    page.keyboard.press("Space")
    tab_to(page, "radio", "^Une seule fois$")
    page.keyboard.press("ArrowDown")  # arrow keys move within the group, and tick
    assert page.evaluate(ACTIVE_JS)["name"] == "Toutes les semaines"
    expect(page.get_by_label("Toutes les semaines")).to_be_checked()
    tab_to(page, "textbox", "^Dernière date possible")
    type_date(page, j.first_date + dt.timedelta(days=21))
    tab_to(page, "textarea", "^Dates sans séance")
    page.keyboard.type((j.first_date + dt.timedelta(days=14)).strftime("%d/%m/%Y"))
    screenshot(page, "clavier-animation-1-serie")
    tab_to(page, "button", "^Créer$")
    follow(page)
    expect(page.get_by_text("Série créée : 3 séances.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Série « {j.workshop} »")).to_be_visible()
    screenshot(page, "clavier-animation-2-serie-creee")

    # Its first session: the sign-in sheet to print, then the cancellation.
    tab_to(page, "link", f"^Inscrits : {fr_date(j.first_date)}")
    follow(page)
    expect(page.get_by_role("heading", name=j.workshop)).to_be_visible()
    tab_to(page, "link", "^Feuille d'émargement \\(PDF\\)$")
    open_the_pdf(page, lambda: page.keyboard.press("Enter"))
    tab_to(page, "link", "^Annuler la séance$")
    follow(page)
    tab_to(page, "textarea", "^Motif de l'annulation")
    page.keyboard.type("Animatrice en formation ce jour-là")
    tab_to(page, "button", "^Annuler la séance et prévenir les inscrits$")
    screenshot(page, "clavier-animation-3-annulation")
    follow(page)
    expect(page.get_by_text(re.compile("Séance annulée. 0 personne"))).to_be_visible()

    # Attendance of this morning's session.
    tab_to(page, "link", "^Séances à venir$")
    follow(page)
    tab_to(page, "link", f"^Inscrits : {j.held_today}")
    follow(page)
    tab_to(page, "radio", ".")
    for _ in range(3):
        if page.evaluate(ACTIVE_JS)["name"] == "Absent(e)":
            break
        page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Absent(e)")).to_be_checked()
    screenshot(page, "clavier-animation-4-appel")
    tab_to(page, "button", "^Enregistrer l'appel$")
    follow(page)
    expect(page.get_by_text("Appel enregistré : 0 présent sur 1.")).to_be_visible()
    expect(page.get_by_label("Absent(e)")).to_be_checked()


def test_animator_makes_a_series_prints_cancels_and_takes_attendance_without_javascript(
    no_script_page: Page, live_server: str, journeys: dict[str, Journey]
) -> None:
    page, j = no_script_page, journeys["sans-js"]
    sign_in(page, live_server, "animation")
    page.get_by_role("navigation", name="Menu de l'animation").get_by_role(
        "link", name="Activités"
    ).click()
    page.get_by_role("link", name=f"Programmer une séance : {j.workshop}").click()
    page.get_by_label("Date", exact=True).fill(j.first_date.isoformat())
    page.get_by_label("Heure de début").fill("10:00")
    page.get_by_label("Heure de fin").fill("11:30")
    page.get_by_label("Lieu").select_option(label="Salle des fêtes de Lalinde")
    page.get_by_label("Nombre de places").fill("6")
    page.get_by_label("Dont places pour fauteuil roulant").fill("0")
    page.get_by_label("Toutes les semaines").check()
    # A slip first: the server says what is wrong, next to the field, and keeps the rest.
    page.get_by_role("button", name="Créer").click()
    expect(page.get_by_text("Indiquez jusqu'à quand la séance se répète.").first).to_be_visible()
    expect(page.get_by_label("Heure de fin")).to_have_value("11:30")
    screenshot(page, "sans-js-animation-1-erreur")
    page.get_by_label("Dernière date possible de la série").fill(
        (j.first_date + dt.timedelta(days=21)).isoformat()
    )
    page.get_by_label("Dates sans séance").fill(
        (j.first_date + dt.timedelta(days=7)).strftime("%d/%m/%Y")
    )
    page.get_by_role("button", name="Créer").click()
    expect(page.get_by_text("Série créée : 3 séances.")).to_be_visible()
    screenshot(page, "sans-js-animation-2-serie-creee")

    page.get_by_role("link", name=re.compile(f"^Inscrits : {fr_date(j.first_date)}")).click()
    open_the_pdf(page, page.get_by_role("link", name="Feuille d'émargement (PDF)").click)
    page.get_by_role("link", name="Annuler la séance").click()
    page.get_by_role("button", name="Annuler la séance et prévenir les inscrits").click()
    expect(page.get_by_text("Indiquez le motif de l'annulation.").first).to_be_visible()
    page.get_by_label("Motif de l'annulation").fill("Salle prise par la mairie")
    page.get_by_role("button", name="Annuler la séance et prévenir les inscrits").click()
    expect(page.get_by_text(re.compile("Séance annulée. 0 personne"))).to_be_visible()
    screenshot(page, "sans-js-animation-3-annulee")

    page.get_by_role("link", name="Séances à venir").click()
    page.get_by_role("link", name=re.compile(f"^Inscrits : {j.held_today}")).click()
    page.get_by_label("Excusé(e)").check()
    page.get_by_role("button", name="Enregistrer l'appel").click()
    expect(page.get_by_text("Appel enregistré : 0 présent sur 1.")).to_be_visible()
    expect(page.get_by_label("Excusé(e)")).to_be_checked()
    screenshot(page, "sans-js-animation-4-appel")


def test_coordinator_builds_and_publishes_tomorrow_with_the_keyboard(
    page: Page, live_server: str, journeys: dict[str, Journey]
) -> None:
    sign_in_with_the_keyboard(page, live_server, journeys["clavier"].coordinator)
    tab_to(page, "link", "^Transport$")
    follow(page)  # the transport page opens on tomorrow
    tomorrow = centre_today() + dt.timedelta(days=1)
    expect(page.get_by_role("heading", level=1)).to_contain_text(fr_date(tomorrow))
    tab_to(page, "button", "^Construire les tournées$")
    follow(page)
    expect(page.locator("progress")).to_be_visible()  # the solver runs for 3 s at least
    screenshot(page, "clavier-transport-1-calcul")
    # The page reloads itself every few seconds, and lands on its "Calcul" section: one Tab
    # reaches the link that stops the reloads.
    tab_to(page, "link", "^Arrêter la mise à jour automatique$", limit=1)
    follow(page)
    for _ in range(120):  # the page no longer moves: ask for news when one wants
        if page.get_by_role("button", name="Publier les tournées").count():
            break
        page.wait_for_timeout(500)
        tab_to(page, "link", "^Voir où en est le calcul$", limit=1)
        follow(page)
    expect(page.locator("table").first).to_contain_text("Henri Lagarde")
    screenshot(page, "clavier-transport-2-brouillon")
    tab_to(page, "button", "^Publier les tournées$")
    follow(page)
    expect(page.get_by_text(re.compile("^Tournées publiées"))).to_be_visible()
    screenshot(page, "clavier-transport-3-publiees")


def test_coordinator_builds_and_publishes_tomorrow_without_javascript(
    no_script_page: Page, live_server: str, journeys: dict[str, Journey]
) -> None:
    page = no_script_page
    sign_in(page, live_server, journeys["sans-js"].coordinator)
    page.get_by_role("link", name="Transport", exact=True).click()
    page.get_by_role("button", name="Construire les tournées").click()
    expect(page.locator("progress")).to_be_visible()
    page.get_by_role("link", name="Arrêter la mise à jour automatique").click()
    expect(page.locator("meta[http-equiv='refresh']")).to_have_count(0)
    screenshot(page, "sans-js-transport-1-calcul")
    publish = page.get_by_role("button", name="Publier les tournées")
    for _ in range(120):
        if publish.count():
            break
        page.wait_for_timeout(500)
        page.get_by_role("link", name="Voir où en est le calcul").click()
    expect(page.locator("table").first).to_contain_text("Lucie Fabre")
    screenshot(page, "sans-js-transport-2-brouillon")
    publish.click()
    expect(page.get_by_text(re.compile("^Tournées publiées"))).to_be_visible()
    screenshot(page, "sans-js-transport-3-publiees")
