"""The admin's audit log in headless Chromium: reached from the menu, filtered, read; axe-core.

It seeds a centre of its own in the shared browser database, so the other flows' actions do not
show up in its log.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from scheduling.audit import AuditEntry, AuditKind
from scheduling.db import make_engine, make_session_factory
from scheduling.models import Person, Role
from tests.e2e.conftest import check_accessibility, screenshot, sign_in
from tests.e2e.seeds import add_bergerac, add_centre, add_user

ADMIN = "admin.journal"


@pytest.fixture(scope="module")
def journal_world(e2e_db_url: str) -> None:
    engine = make_engine(e2e_db_url)
    db = make_session_factory(engine)()
    centre = add_centre(db, "e2e-journal", "CRT du journal")
    commune = add_bergerac(db, centre)
    person = Person(
        centre_id=centre.id, first_name="Yvette", last_name="Journal", commune_id=commune.id
    )
    db.add(person)
    add_user(db, centre, ADMIN, Role.admin, "Alice Administratrice")
    db.flush()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    db.add_all(
        [
            AuditEntry(
                centre_id=centre.id,
                at=now - dt.timedelta(hours=2),
                actor_label="Sophie Coordinatrice (Coordination)",
                kind=AuditKind.person,
                action="person.created",
                object_type="person",
                object_id=person.id,
                person_id=person.id,
                summary="Fiche créée.",
            ),
            AuditEntry(
                centre_id=centre.id,
                at=now - dt.timedelta(hours=1),
                actor_label="Claire Animatrice (Animation)",
                kind=AuditKind.booking,
                action="booking.created",
                object_type="booking",
                object_id=1,
                person_id=person.id,
                summary="Réservation confirmée : « Gym douce », mardi 1er décembre 2026 à 14 h 30.",
            ),
        ]
    )
    db.commit()
    db.close()
    engine.dispose()


def test_the_admin_reads_and_filters_the_log(
    page: Page, base_url: str, journal_world: None
) -> None:
    sign_in(page, base_url, ADMIN)
    page.get_by_role("link", name="Journal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Journal des actions")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Claire Animatrice (Animation)")
    expect(rows.first).to_contain_text("Yvette Journal")
    check_accessibility(page)
    screenshot(page, "journal")

    page.get_by_label("Objet").select_option(label="Personnes")
    page.get_by_role("button", name="Afficher").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Fiche créée.")

    page.get_by_label("Du").fill("2026-05-02")
    page.get_by_label("Au (inclus)").fill("2026-05-01")
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "La date de fin doit venir après la date de début."
    )
    check_accessibility(page)
