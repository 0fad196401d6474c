"""The accessibility statement: reachable by anyone, from every page, saying what RGAA asks."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.webapp.conftest import text_of


def test_statement_says_status_checks_limits_and_recourse(client: FlaskClient) -> None:
    response = client.get("/accessibilite")
    assert response.status_code == 200
    text = text_of(response)
    assert "Déclaration d'accessibilité" in text
    assert "partiellement conforme" in text
    assert "WCAG 2.0 et 2.1, niveaux A et AA" in text
    for checked in ("Au clavier seul", "200 %", "320 pixels", "Sans JavaScript", "1280 × 800"):
        assert checked in text
    assert "Défenseur des droits" in text
    assert "Libre réponse 71120" in text


def test_every_page_links_to_the_statement(client: FlaskClient) -> None:
    for url in ("/", "/connexion", "/accessibilite", "/page-qui-n-existe-pas"):
        html = client.get(url).get_data(as_text=True)
        assert 'href="/accessibilite"' in html, url
