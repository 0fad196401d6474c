"""The animator's flow of issue 2 in headless Chromium, with axe-core on every page on the way.

Sign in as `animation`, create a weekly workshop (one date left out), register a caller who has
no account and book them by phone, open the sign-in sheet as PDF, take a look at the call list.
It works on its own activity so the carer's flow in the same database is not disturbed.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RESULTS, check_accessibility, screenshot, sign_in
from tests.e2e.seeds import add_session_today_with_one_booking, database

TITLE = "Atelier tablette numérique"


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # A French browser: date fields read 23/12/2026, as they will for the centre's staff.
    return {**browser_context_args, "locale": "fr-FR", "timezone_id": "Europe/Paris"}


def next_weekday(after: dt.date, weekday: int) -> dt.date:
    return after + dt.timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


def test_animator_creates_a_workshop_books_by_phone_and_prints_the_sheet(
    page: Page, live_server: str, tmp_path: Path
) -> None:
    sign_in(page, live_server, "animation")
    expect(
        page.get_by_role("heading", name=re.compile("Séances des 14 prochains jours"))
    ).to_be_visible()
    check_accessibility(page)
    screenshot(page, "animation-accueil")

    # A new activity, with a typing slip first.
    page.get_by_role("navigation", name="Menu de l'animation").get_by_role(
        "link", name="Activités"
    ).click()
    page.get_by_role("link", name="Créer une activité").click()
    page.get_by_role("button", name="Enregistrer l'activité").click()
    expect(page.get_by_text("Indiquez le titre de l'activité.").first).to_be_visible()
    check_accessibility(page)
    screenshot(page, "animation-activite-erreurs")
    page.get_by_label("Titre de l'activité").fill(TITLE)
    page.get_by_label(re.compile("Volet 2")).check()
    page.get_by_label("Personnes âgées").check()
    page.get_by_label("Description").fill("Apprendre à appeler ses petits-enfants en vidéo.")
    page.get_by_role("button", name="Enregistrer l'activité").click()
    expect(page.get_by_text(f"Activité « {TITLE} » créée.")).to_be_visible()
    check_accessibility(page)

    # A weekly workshop, every Wednesday for four weeks, the third one left out.
    page.get_by_role("link", name=re.compile(f"Programmer une séance : {TITLE}")).click()
    first = next_weekday(dt.date.today() + dt.timedelta(days=30), 2)
    skipped = first + dt.timedelta(days=14)
    expect(page.get_by_label("Activité", exact=True)).to_have_value(re.compile(r"\d+"))
    page.get_by_label("Date", exact=True).fill(first.isoformat())
    page.get_by_label("Heure de début").fill("14:30")
    page.get_by_label("Heure de fin").fill("16:00")
    page.get_by_label("Lieu").select_option(label="Salle des fêtes de Lalinde")
    page.get_by_label("Nombre de places").fill("8")
    page.get_by_label("Dont places pour fauteuil roulant").fill("1")
    page.get_by_label("Le centre propose le transport (aller et retour)").check()
    page.get_by_label("Toutes les semaines").check()
    page.get_by_label("Dernière date possible de la série").fill(
        (first + dt.timedelta(days=21)).isoformat()
    )
    page.get_by_label("Dates sans séance").fill(skipped.strftime("%d/%m/%Y"))
    check_accessibility(page)
    screenshot(page, "animation-nouvelle-seance")
    page.get_by_role("button", name="Créer").click()
    expect(page.get_by_text("Série créée : 3 séances.")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "animation-serie")

    # Someone without an account calls: register her, then book with transport.
    page.get_by_role("link", name="Réserver par téléphone").click()
    page.get_by_label("Nom, téléphone ou commune").fill("Lafon")
    page.get_by_role("button", name="Chercher").click()
    expect(page.get_by_text("Personne ne correspond à « Lafon »")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Enregistrer une nouvelle personne").click()
    expect(page.get_by_label("Nom", exact=True)).to_have_value("Lafon")
    page.get_by_label("Prénom").fill("Germaine")
    page.get_by_label("Téléphone").fill("05 53 22 11 00")
    page.get_by_label("Adresse", exact=True).fill("Lieu-dit La Borie")
    page.get_by_label("Commune").select_option(label="Eymet (24500)")
    page.get_by_label("Avec un déambulateur").check()
    check_accessibility(page)
    screenshot(page, "animation-nouvelle-personne")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    expect(page.get_by_role("heading", name="Réserver pour Germaine Lafon")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "animation-personne")

    page.get_by_role("link", name=re.compile(f"^Réserver : {TITLE}")).first.click()
    expect(page.get_by_label("Adresse où venir la chercher")).to_have_value(
        "Lieu-dit La Borie, 24500 Eymet"
    )
    page.get_by_label("Besoin d'être conduit(e) à l'activité (aller)").check()
    page.get_by_label("Besoin d'être raccompagné(e) à la maison (retour)").check()
    check_accessibility(page)
    screenshot(page, "animation-reservation-telephone")
    page.get_by_role("button", name="Confirmer la réservation").click()
    expect(
        page.get_by_text(re.compile("Réservation confirmée pour Germaine Lafon"))
    ).to_be_visible()
    expect(page.get_by_text(re.compile(f"{TITLE}, .* — confirmée"))).to_be_visible()
    check_accessibility(page)

    # The roster of that session and its sign-in sheet.
    page.get_by_role("link", name="Séances à venir").click()
    page.goto(live_server + "/animation/?jours=60")
    page.get_by_role("link", name=re.compile(f"^Inscrits : {TITLE}")).first.click()
    expect(page.get_by_text("LAFON")).to_be_visible()
    expect(page.get_by_text("aller et retour")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "animation-inscrits")

    sheet = page.get_by_role("link", name="Feuille d'émargement (PDF)")
    response = page.request.get(live_server + sheet.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "emargement.pdf"
    pdf.write_bytes(response.body())
    assert pdf.read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftoppm"):  # a PNG of the sheet for a human to look at
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "p")], check=True)
        RESULTS.mkdir(exist_ok=True)
        shutil.copy(tmp_path / "p-1.png", RESULTS / "animation-emargement.png")

    # Cancelling asks for a reason; the call list is there for those without e-mail.
    page.get_by_role("link", name="Annuler la séance").click()
    check_accessibility(page)
    screenshot(page, "animation-annulation")
    page.get_by_role("button", name="Annuler la séance et prévenir les inscrits").click()
    expect(page.get_by_text("Indiquez le motif de l'annulation.").first).to_be_visible()
    page.get_by_label("Motif de l'annulation").fill("Salle indisponible ce jour-là")
    page.get_by_role("button", name="Annuler la séance et prévenir les inscrits").click()
    expect(page.get_by_text(re.compile("Séance annulée. 0 personne"))).to_be_visible()
    expect(page.get_by_role("heading", name="Germaine Lafon")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "animation-appels")
    page.get_by_role("button", name="Appel fait : Germaine Lafon").click()
    expect(page.get_by_text("Appel à Germaine Lafon noté comme fait.")).to_be_visible()


def test_attendance_and_session_edit_pages(page: Page, live_server: str, e2e_db_url: str) -> None:
    with database(e2e_db_url) as db:
        session_id = add_session_today_with_one_booking(
            db, "bergerac", "Marche du matin", "Odette", "Bouyssou"
        )
    sign_in(page, live_server, "animation")
    page.goto(f"{live_server}/animation/seances/{session_id}")
    page.get_by_label("Absent(e)").check()
    check_accessibility(page)
    screenshot(page, "animation-appel")
    page.get_by_role("button", name="Enregistrer l'appel").click()
    expect(page.get_by_text("Appel enregistré : 0 présent sur 1.")).to_be_visible()
    expect(page.get_by_label("Absent(e)")).to_be_checked()

    page.goto(live_server + "/animation/")
    page.get_by_role("link", name=re.compile("^Modifier : Café des aidants")).click()
    page.get_by_label("Nombre de places").fill("0")
    page.get_by_role("button", name="Enregistrer les changements").click()
    expect(page.get_by_text("Indiquez un nombre entre 1 et 500.").first).to_be_visible()
    expect(page.get_by_label("Nombre de places")).to_have_value("0")
    check_accessibility(page)
    screenshot(page, "animation-modifier-seance")


def test_animator_tables_scroll_inside_their_box_on_a_narrow_screen(
    page: Page, live_server: str
) -> None:
    """At 320 px (or 400 % zoom) only a table scrolls sideways, never the whole page."""
    page.set_viewport_size({"width": 320, "height": 700})
    sign_in(page, live_server, "animation")
    for path in ("/animation/", "/animation/activites"):
        page.goto(live_server + path)
        expect(page.locator(".table-scroll").first).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
