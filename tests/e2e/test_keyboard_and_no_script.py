"""Journeys without a mouse, and without JavaScript, in headless Chromium.

- With the keyboard alone (Tab, Shift+Tab, Enter and Space, and typing in the fields), focus
  visible at every stop: the carer books a session with transport and cancels it; the animator
  registers a caller and books them by phone.
- With JavaScript switched off, the carer books with transport and cancels, the animator
  registers a caller and books them by phone, and the driver marks a pickup and a drop-off.
- A visitor subscribes to the public agenda: the page offers the feed, the feed parses.
Screenshots of each step go to test-results/. axe-core cannot run where JavaScript is off (its
timers never fire); the same pages are checked with it in the sweep and the other flows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import icalendar
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from scheduling.models import Centre, Field, Venue
from tests.e2e.conftest import PASSWORD, follow, screenshot, sign_in, tab_to
from tests.e2e.seeds import add_activity_session, database, seed_a_round_today

TITLE = "Chorale du village"


@pytest.fixture(scope="module")
def chorale(e2e_db_url: str) -> Iterator[int]:
    """A session with transport, in the shared centre, for these journeys only."""
    with database(e2e_db_url) as db:
        centre = db.scalar(select(Centre).where(Centre.slug == "bergerac"))
        assert centre is not None
        hall = db.scalar(
            select(Venue).where(Venue.centre_id == centre.id, Venue.name.like("%Lalinde%"))
        )
        assert hall is not None
        starts = dt.datetime.combine(dt.date.today() + dt.timedelta(days=6), dt.time(14))
        session = add_activity_session(
            db,
            centre,
            TITLE,
            description="Chanter ensemble, sans savoir lire la musique.",
            field=Field.isolation,
            venue_id=hall.id,
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=1, minutes=30),
            seats=10,
            wheelchair_places=1,
            transport_offered=True,
        )
        db.commit()
        yield session.id


@pytest.fixture(scope="module")
def round_today(e2e_db_url: str) -> None:
    with database(e2e_db_url) as db:
        seed_a_round_today(db)


def test_carer_books_with_transport_and_cancels_with_the_keyboard_alone(
    page: Page, live_server: str, chorale: int
) -> None:
    page.goto(live_server + "/connexion")
    tab_to(page, "textbox", "Identifiant")
    page.keyboard.type("aidant")
    tab_to(page, "textbox", "Mot de passe")
    page.keyboard.type(PASSWORD)
    follow(page)
    expect(page.get_by_role("heading", name="Mes réservations")).to_be_visible()
    screenshot(page, "clavier-1-connecte")

    tab_to(page, "link", "^Agenda$")
    follow(page)
    expect(page.get_by_role("heading", name="Agenda des activités")).to_be_visible()
    tab_to(page, "link", f"^{TITLE}")
    screenshot(page, "clavier-2-agenda-lien-actif")
    follow(page)
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()

    tab_to(page, "link", "Réserver une place")
    follow(page)
    expect(page.get_by_role("heading", name="Pour qui réservez-vous ?")).to_be_visible()
    person = tab_to(page, "radio", ".")
    page.keyboard.press("Space")
    person_name = person.split(" — ")[0]
    screenshot(page, "clavier-3-pour-qui")
    tab_to(page, "button", "Continuer")
    follow(page)

    expect(page.get_by_text(f"Pour : {person_name}")).to_be_visible()
    tab_to(page, "checkbox", "raccompagné")
    page.keyboard.press("Space")
    tab_to(page, "checkbox", "conduit", back=True)  # back up one box: Shift+Tab
    page.keyboard.press("Space")
    expect(page.get_by_label("Besoin d'être conduit(e) à l'activité (aller)")).to_be_checked()
    expect(page.get_by_label("Besoin d'être raccompagné(e) à la maison (retour)")).to_be_checked()
    screenshot(page, "clavier-4-transport-coche")
    tab_to(page, "button", "Continuer")
    follow(page)

    expect(page.get_by_role("heading", name="Vérifiez, puis confirmez")).to_be_visible()
    expect(page.get_by_text("Aller et retour")).to_be_visible()
    tab_to(page, "button", "Confirmer la réservation")
    screenshot(page, "clavier-5-verification")
    follow(page)

    expect(page.get_by_role("heading", name="Réservation confirmée")).to_be_visible()
    screenshot(page, "clavier-6-confirmee")
    tab_to(page, "link", "Voir mes réservations")
    follow(page)
    card = page.locator(".card", has_text=TITLE)
    expect(card).to_contain_text("transport demandé")

    tab_to(page, "link", f"^Annuler : .*{TITLE}")
    screenshot(page, "clavier-7-annuler-actif")
    follow(page)
    expect(page.get_by_role("heading", name=re.compile("Annuler la réservation"))).to_be_visible()
    tab_to(page, "button", "Oui, annuler la réservation")
    follow(page)
    expect(page.get_by_text("La place est libérée.")).to_be_visible()
    expect(page.locator(".card", has_text=TITLE)).to_have_count(0)
    screenshot(page, "clavier-8-annulee")


def test_carer_books_with_transport_and_cancels_without_javascript(
    no_script_page: Page, live_server: str, chorale: int
) -> None:
    page = no_script_page
    sign_in(page, live_server)
    page.goto(live_server + f"/seances/{chorale}")
    page.get_by_role("link", name="Réserver une place").click()
    page.get_by_label(re.compile("Louis Roux")).check()
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_text("Pour : Louis Roux")).to_be_visible()
    page.get_by_label("Adresse où venir la chercher").fill("")
    page.get_by_label("Besoin d'être conduit(e) à l'activité (aller)").check()
    page.get_by_role("button", name="Continuer").click()
    # Without JavaScript the server still explains what is missing, next to the field.
    expect(
        page.get_by_text("Indiquez l'adresse où le véhicule viendra la chercher.").first
    ).to_be_visible()
    screenshot(page, "sans-js-1-erreur-adresse")
    page.get_by_label("Adresse où venir la chercher").fill("Le Bourg, 24500 Eymet")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", name="Vérifiez, puis confirmez")).to_be_visible()
    screenshot(page, "sans-js-2-verification")
    page.get_by_role("button", name="Confirmer la réservation").click()
    expect(page.get_by_role("heading", name="Réservation confirmée")).to_be_visible()
    screenshot(page, "sans-js-3-confirmee")

    page.get_by_role("link", name="Voir mes réservations").click()
    card = page.locator(".card", has_text=TITLE)
    expect(card).to_contain_text("Louis Roux")
    card.get_by_role("link", name=re.compile("^Annuler")).click()
    page.get_by_role("button", name="Oui, annuler la réservation").click()
    expect(page.get_by_text("La place est libérée.")).to_be_visible()
    screenshot(page, "sans-js-4-annulee")


def test_animator_books_by_phone_without_javascript(
    no_script_page: Page, live_server: str, chorale: int
) -> None:
    page = no_script_page
    sign_in(page, live_server, "animation")
    page.get_by_role("link", name="Réserver par téléphone").first.click()
    page.get_by_label("Nom, téléphone ou commune").fill("Mazeau")
    page.get_by_role("button", name="Chercher").click()
    expect(page.get_by_text("Personne ne correspond à « Mazeau »")).to_be_visible()
    page.get_by_role("link", name="Enregistrer une nouvelle personne").click()
    page.get_by_role("button", name="Enregistrer et continuer").click()
    expect(page.get_by_text("Indiquez le prénom.").first).to_be_visible()
    expect(page.get_by_label("Nom", exact=True)).to_have_value("Mazeau")  # typed input kept
    screenshot(page, "sans-js-telephone-1-erreurs")
    page.get_by_label("Prénom").fill("Paulette")
    page.get_by_label("Téléphone").fill("05 53 61 44 00")
    page.get_by_label("Adresse", exact=True).fill("5 rue du Port")
    page.get_by_label("Commune").select_option(label="Lalinde (24150)")
    page.get_by_label("Se déplace seul(e)").check()
    page.get_by_role("button", name="Enregistrer et continuer").click()
    expect(page.get_by_role("heading", name="Réserver pour Paulette Mazeau")).to_be_visible()
    screenshot(page, "sans-js-telephone-2-personne")

    page.get_by_role("link", name=re.compile(f"^Réserver : {TITLE}")).first.click()
    page.get_by_label("Besoin d'être conduit(e) à l'activité (aller)").check()
    page.get_by_role("button", name="Confirmer la réservation").click()
    expect(
        page.get_by_text(re.compile("Réservation confirmée pour Paulette Mazeau"))
    ).to_be_visible()
    screenshot(page, "sans-js-telephone-3-confirmee")


def test_visitor_subscribes_to_the_public_agenda(
    page: Page, live_server: str, chorale: int
) -> None:
    page.goto(live_server + "/")
    subscribe = page.get_by_role("link", name="s'abonner à l'agenda")
    expect(subscribe).to_have_attribute("href", re.compile(r"^webcal://127\.0\.0\.1:\d+/.+\.ics"))
    screenshot(page, "agenda-abonnement")
    feed_url = subscribe.get_attribute("href") or ""
    # A calendar app follows webcal:// as http://: fetch the same address anonymously.
    response = page.request.get("http://" + feed_url.removeprefix("webcal://"))
    assert response.ok
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.body())
    titles = {str(event["SUMMARY"]) for event in calendar.walk("VEVENT")}
    assert TITLE in titles, sorted(titles)
    # The plain address is offered too, for apps that want it pasted: the same feed.
    plain = page.get_by_role("link", name=re.compile(r"^http:\/\/127\.0\.0\.1:\d+\/.+\.ics$"))
    expect(plain).to_have_attribute("href", "http://" + feed_url.removeprefix("webcal://"))


def test_animator_books_by_phone_with_the_keyboard_alone(
    page: Page, live_server: str, chorale: int
) -> None:
    sign_in(page, live_server, "animation")
    tab_to(page, "link", "^Réserver par téléphone$")
    follow(page)
    tab_to(page, "textbox", "Nom, téléphone ou commune")
    page.keyboard.type("Lacoste")
    follow(page)
    expect(page.get_by_text("Personne ne correspond à « Lacoste »")).to_be_visible()
    tab_to(page, "link", "Enregistrer une nouvelle personne")
    follow(page)
    tab_to(page, "textbox", "^Prénom")
    page.keyboard.type("Marcel")
    tab_to(page, "select", "^Commune")
    page.keyboard.type("Lalinde")  # a closed list picks the option its letters name
    expect(page.get_by_label("Commune")).to_have_value(re.compile(r"\d+"))
    screenshot(page, "clavier-telephone-1-personne")
    tab_to(page, "button", "Enregistrer et continuer")
    follow(page)
    expect(page.get_by_role("heading", name="Réserver pour Marcel Lacoste")).to_be_visible()
    tab_to(page, "link", f"^Réserver : {TITLE}")
    follow(page)
    tab_to(page, "button", "Confirmer la réservation")
    screenshot(page, "clavier-telephone-2-reservation")
    follow(page)
    expect(
        page.get_by_text(re.compile("Réservation confirmée pour Marcel Lacoste"))
    ).to_be_visible()
    screenshot(page, "clavier-telephone-3-confirmee")


def test_driver_marks_a_pickup_with_the_keyboard_alone(
    page: Page, live_server: str, round_today: None
) -> None:
    sign_in(page, live_server, "a11y.chauffeur.tournee")
    tab_to(page, "link", "Feuille de route")
    follow(page)
    expect(page.get_by_role("heading", name=re.compile("^Tournée du "))).to_be_visible()
    tab_to(page, "button", "^Pris\\(e\\) en charge : Rose Peyrot$")
    screenshot(page, "clavier-chauffeur-1-feuille")
    follow(page)
    expect(page.get_by_text("Rose Peyrot : pris(e) en charge.")).to_be_visible()
    screenshot(page, "clavier-chauffeur-2-pointe")


def test_driver_marks_a_pickup_and_a_drop_off_without_javascript(
    no_script_page: Page, live_server: str, e2e_db_url: str
) -> None:
    with database(e2e_db_url) as db:  # a round of its own: the keyboard run marks the other
        seed_a_round_today(db, "e2e-chauffeur-sans-js", "sansjs.chauffeur")
    page = no_script_page
    sign_in(page, live_server, "sansjs.chauffeur")
    page.get_by_role("link", name="Feuille de route").click()
    page.get_by_role("button", name="Pris(e) en charge : Rose Peyrot").click()
    expect(page.get_by_text("Rose Peyrot : pris(e) en charge.")).to_be_visible()
    page.get_by_role("button", name="Déposé(e) : Rose Peyrot").click()
    expect(page.locator(".stop").nth(1)).to_contain_text("État : déposé(e)")
    screenshot(page, "sans-js-chauffeur-depose")
