"""'Mon calendrier' in headless Chromium: subscribe, revoke, and a link for a person; axe-core."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import check_accessibility, screenshot, sign_in


def _feed_url(page: Page) -> str:
    return page.get_by_label("Adresse de l'abonnement").first.input_value()


def test_carer_subscribes_then_revokes(page: Page, live_server: str) -> None:
    sign_in(page, live_server)
    page.get_by_role("link", name="Mon calendrier").click()
    expect(page.get_by_role("heading", name="Mon calendrier")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Créer mon lien d'abonnement").click()

    expect(page.get_by_text("Votre lien d'abonnement est prêt.")).to_be_visible()
    webcal = page.get_by_role("link", name=re.compile("S'abonner avec l'agenda du téléphone"))
    expect(webcal).to_have_attribute("href", re.compile(r"^webcal://"))
    expect(page.get_by_role("link", name="S'abonner avec Google Agenda")).to_have_attribute(
        "href", re.compile(r"^https://calendar\.google\.com/calendar/r\?cid=webcal%3A%2F%2F")
    )
    check_accessibility(page)
    screenshot(page, "mon-calendrier")

    url = _feed_url(page)
    feed = page.request.get(url)
    assert feed.status == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VCALENDAR" in feed.body()

    page.get_by_role("button", name="Révoquer ce lien").click()
    expect(page.get_by_text("Le lien est révoqué")).to_be_visible()
    assert page.request.get(url).status == 404
    check_accessibility(page)


def test_staff_give_a_person_a_link(page: Page, live_server: str) -> None:
    sign_in(page, live_server, "animation")
    page.get_by_role("link", name="Mon calendrier").click()
    page.get_by_label("Personne").select_option(index=0)
    page.get_by_role("button", name="Voir son lien d'abonnement").click()
    page.get_by_role("button", name="Créer son lien d'abonnement").click()
    expect(page.get_by_role("link", name="S'abonner avec Outlook")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "calendrier-personne")
    assert page.request.get(_feed_url(page)).status == 200
