"""The carer's flow of issue 2 in headless Chromium, with axe-core on every page on the way.

The live server's database is shared by every browser test of the session (the animator's
flow runs too), so these tests look for their own sessions by name, not by counts.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import check_accessibility, screenshot, sign_in


def test_visitor_pages_are_accessible(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    expect(page).to_have_title(re.compile("Agenda des activités"))
    expect(page.get_by_text(re.compile(r"^\d+ places restantes$")).first).to_be_visible()
    check_accessibility(page)
    screenshot(page, "agenda-visiteur")

    page.get_by_role("link", name="Café des aidants").click()
    expect(page.get_by_text("Attention : accès avec des marches")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "seance-visiteur")

    page.goto(live_server + "/connexion")
    check_accessibility(page)
    screenshot(page, "connexion")

    page.goto(live_server + "/seances/999999")
    expect(page.get_by_role("heading", name="Page introuvable")).to_be_visible()
    check_accessibility(page)


def test_skip_link_is_the_first_stop_and_focus_is_visible(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    screenshot(page, "lien-d-evitement")


def test_carer_books_with_transport_sees_it_and_cancels(page: Page, live_server: str) -> None:
    sign_in(page, live_server)
    expect(page.get_by_role("heading", name="Mes réservations")).to_be_visible()

    # The agenda near Jeanne's village.
    page.get_by_role("link", name="Agenda").click()
    page.get_by_label("Pour qui ?").select_option(label="Jeanne Delmas — Lalinde")
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_text("près de chez Jeanne Delmas")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "agenda-aidant")

    page.get_by_role("link", name="Atelier mémoire").click()
    expect(page.get_by_text("Accès de plain-pied")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "seance-aidant")

    page.get_by_role("link", name="Réserver une place").click()
    expect(page.get_by_text("Pour : Jeanne Delmas")).to_be_visible()
    expect(page.get_by_text("avec un déambulateur")).to_be_visible()
    address = page.get_by_label("Adresse où venir la chercher")
    expect(address).to_have_value("3 rue des Tilleuls, 24150 Lalinde")

    # A typing slip first: the message sits next to the field, the value is kept.
    page.get_by_label("Nombre d'accompagnants").fill("9")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_text("Indiquez un nombre entre 0 et 3.").first).to_be_visible()
    expect(page.get_by_label("Nombre d'accompagnants")).to_have_value("9")
    check_accessibility(page)
    screenshot(page, "reservation-erreur")

    page.get_by_label("Nombre d'accompagnants").fill("1")
    page.get_by_label("Besoin d'être conduit(e) à l'activité (aller)").check()
    page.get_by_label("Besoin d'être raccompagné(e) à la maison (retour)").check()
    check_accessibility(page)
    screenshot(page, "reservation-formulaire")
    page.get_by_role("button", name="Continuer").click()

    expect(page.get_by_role("heading", name="Vérifiez, puis confirmez")).to_be_visible()
    expect(page.get_by_text("Aller et retour")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "reservation-verification")
    page.get_by_role("button", name="Confirmer la réservation").click()

    expect(page.get_by_role("heading", name="Réservation confirmée")).to_be_visible()
    expect(page.get_by_text("marie@example.org")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "reservation-confirmee")

    page.get_by_role("link", name="Voir mes réservations").click()
    card = page.locator(".card", has_text="Atelier mémoire")
    expect(card).to_contain_text("confirmée")
    expect(card).to_contain_text("transport demandé")
    check_accessibility(page)
    screenshot(page, "mes-reservations")

    card.get_by_role("link", name=re.compile("^Annuler")).click()
    expect(page.get_by_role("heading", name=re.compile("Annuler la réservation"))).to_be_visible()
    check_accessibility(page)
    screenshot(page, "annulation-confirmation")
    page.get_by_role("button", name="Oui, annuler la réservation").click()

    expect(page.get_by_text("La place est libérée.")).to_be_visible()
    expect(page.locator(".card", has_text="Atelier mémoire")).to_have_count(0)
    check_accessibility(page)
    screenshot(page, "annulation-faite")


def test_carer_joins_a_whole_cycle(page: Page, live_server: str) -> None:
    sign_in(page, live_server)
    page.goto(live_server + "/")
    page.get_by_role("link", name="Gym douce et équilibre").first.click()
    page.get_by_role("link", name=re.compile("S'inscrire à tout le cycle")).click()
    expect(page.get_by_role("heading", name="Pour qui réservez-vous ?")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "cycle-pour-qui")
    page.get_by_label(re.compile("Louis Roux")).check()
    page.get_by_role("button", name="Continuer").click()
    check_accessibility(page)
    screenshot(page, "cycle-formulaire")
    page.get_by_role("button", name="Continuer").click()
    check_accessibility(page)
    page.get_by_role("button", name=re.compile("Confirmer l'inscription aux")).click()
    expect(page.get_by_role("heading", name="Inscription au cycle enregistrée")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "cycle-resultat")


def test_password_page_is_accessible(page: Page, live_server: str) -> None:
    sign_in(page, live_server)
    page.get_by_role("link", name="Mot de passe").click()
    page.get_by_role("button", name="Enregistrer le nouveau mot de passe").click()
    expect(page.get_by_text("Indiquez votre mot de passe actuel.").first).to_be_visible()
    check_accessibility(page)
    screenshot(page, "mot-de-passe-erreurs")


def test_pages_fit_a_phone_and_print_plainly(page: Page, live_server: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server)
    page.goto(live_server + "/")
    page.get_by_role("link", name="Atelier mémoire").click()
    page.get_by_role("link", name="Réserver une place").click()
    if page.get_by_role("heading", name="Pour qui réservez-vous ?").count():
        page.get_by_label(re.compile("Jeanne Delmas")).check()
        page.get_by_role("button", name="Continuer").click()
    check_accessibility(page)
    screenshot(page, "telephone-reservation")
    # Nothing wider than the screen: no sideways scrolling on a phone.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server + "/")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".filters")).to_be_hidden()
    screenshot(page, "impression-agenda")
