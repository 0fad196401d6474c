"""« Mot de passe oublié ? » in headless Chromium: from the sign-in page to signing in with the new
password, axe-core on every page. The live server writes e-mails to its log (no SMTP server), so
the test makes the link the e-mail would carry with the server's own secret key."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect

from scheduling.models import Role, User
from tests.e2e.conftest import check_accessibility, screenshot
from tests.e2e.seeds import add_centre, add_user, database
from webapp import reset_tokens

USERNAME = "oubli-e2e"
NEW_PASSWORD = "un-nouveau-secret-e2e"


def _link_for(db_url: str) -> str:
    with database(db_url) as db:
        user = db.query(User).filter_by(username=USERNAME).one()
        app = Flask(__name__)
        app.config["SECRET_KEY"] = "clé-e2e"  # the live server's (tests/e2e/conftest.py)
        with app.app_context():
            return f"/mot-de-passe-oublie/{reset_tokens.make_token(user)}"


def test_a_forgotten_password_is_replaced_from_the_e_mailed_link(
    page: Page, live_server: str, e2e_db_url: str
) -> None:
    with database(e2e_db_url) as db:
        centre = add_centre(db, "oubli-e2e", "CRT de l'oubli")
        add_user(db, centre, USERNAME, Role.carer, "Odile Oubli", email="odile@example.org")
        db.commit()

    page.goto(live_server + "/connexion")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    expect(page.get_by_role("heading", name="Mot de passe oublié")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Identifiant ou adresse e-mail").fill("odile@example.org")
    page.get_by_role("button", name="Recevoir le lien par e-mail").click()
    expect(page.get_by_text(re.compile("Si un compte correspond"))).to_be_visible()
    check_accessibility(page)
    screenshot(page, "mot-de-passe-oublie-envoye")

    page.goto(live_server + _link_for(e2e_db_url))
    expect(page.get_by_role("heading", name="Choisir un nouveau mot de passe")).to_be_visible()
    page.get_by_label("Nouveau mot de passe", exact=True).fill("court")
    page.get_by_label("Nouveau mot de passe, une seconde fois").fill("court")
    page.get_by_role("button", name="Enregistrer le nouveau mot de passe").click()
    expect(page.get_by_text("doit faire au moins 10 caractères").first).to_be_visible()
    check_accessibility(page)
    screenshot(page, "mot-de-passe-nouveau-erreur")
    page.get_by_label("Nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nouveau mot de passe, une seconde fois").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Enregistrer le nouveau mot de passe").click()

    expect(page.get_by_text(re.compile("Votre mot de passe est changé"))).to_be_visible()
    page.get_by_label("Identifiant").fill(USERNAME)
    page.get_by_label("Mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text(re.compile("Bonjour Odile Oubli"))).to_be_visible()
