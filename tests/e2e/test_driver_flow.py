"""Flow 4 in headless Chromium: a driver opens today's route sheet on a phone-sized screen,
taps the marks, finds nobody at a door, opens the PDF; the coordinator sees the alert banner
and acknowledges the alert. axe-core on every page on the way; screenshots and the PDF as PNG
go to test-results/ for a human to look at.

The round is built straight from the models (no solver), with its own persons and activity,
in a centre of its own with its own logins, so the carer's, the animator's and the reports'
flows, which share the database, are not disturbed.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from scheduling.models import (
    Field,
    Mobility,
    Person,
    Role,
)
from scheduling.transport_models import StopKind
from tests.e2e.conftest import RESULTS, check_accessibility, screenshot, sign_in
from tests.e2e.seeds import (
    PlannedStop,
    add_activity_session,
    add_centre,
    add_driver,
    add_lalinde_and_eymet,
    add_lalinde_hall,
    add_published_round,
    add_user,
    add_van,
    book_ride,
    database,
)

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def round_id(e2e_db_url: str) -> int:
    """Today's published round: two pickups at home, two drop-offs at the hall."""
    with database(e2e_db_url) as db:
        # A centre of its own: the reports' flow counts every session and round of its centre.
        centre = add_centre(db, "e2e-chauffeurs", "CRT du Périgord pourpre")
        lalinde, eymet = add_lalinde_and_eymet(db, centre)
        hall = add_lalinde_hall(db, centre, lalinde)
        driver = add_driver(db, centre, "marc.vidal", "Marc Vidal", "06 11 22 33 44")
        add_user(
            db,
            centre,
            "sophie.laborde",
            Role.coordinator,
            "Sophie Laborde",
            email="sophie.laborde@example.org",
            phone="05 53 57 00 00",
        )
        yvette = Person(
            centre_id=centre.id,
            first_name="Yvette",
            last_name="Marty",
            phone="05 53 61 22 33",
            address="12 chemin des Vignes",
            commune_id=lalinde.id,
            lat=44.8401,
            lon=0.7452,
            mobility=Mobility.walker,
            driver_notes="Code portail 2580. Trois marches devant la porte.",
        )
        rene = Person(
            centre_id=centre.id,
            first_name="René",
            last_name="Bouchet",
            phone="05 53 23 44 55",
            address="Lieu-dit Le Moulin",
            commune_id=eymet.id,
            lat=44.6702,
            lon=0.4011,
            mobility=Mobility.wheelchair,
            companion_needed=True,
        )
        vehicle = add_van(db, centre)
        db.add_all([yvette, rene])
        db.flush()
        today = dt.datetime.now(ZoneInfo("Europe/Paris")).date()
        session = add_activity_session(
            db,
            centre,
            "Loto du club des aînés",
            field=Field.isolation,
            venue_id=hall.id,
            starts_at=dt.datetime.combine(today, dt.time(14, 30)),
            ends_at=dt.datetime.combine(today, dt.time(16, 30)),
            seats=20,
            wheelchair_places=2,
            transport_offered=True,
        )
        yvette_ride = book_ride(db, session, yvette)
        rene_ride = book_ride(db, session, rene, companions=1)
        db.flush()
        at_hall = (f"{hall.name}, {hall.address}", hall.lat, hall.lon)
        round_ = add_published_round(
            db,
            vehicle=vehicle,
            driver=driver,
            first_pickup=dt.datetime.combine(today, dt.time(13, 25)),
            distance_km=61.0,
            stay_minutes=4,
            stops=[
                PlannedStop(
                    yvette_ride,
                    StopKind.pickup,
                    0,
                    "12 chemin des Vignes, 24150 Lalinde",
                    yvette.lat,
                    yvette.lon,
                ),
                PlannedStop(
                    rene_ride,
                    StopKind.pickup,
                    30,
                    "Lieu-dit Le Moulin, 24500 Eymet",
                    rene.lat,
                    rene.lon,
                ),
                PlannedStop(yvette_ride, StopKind.dropoff, 55, *at_hall),
                PlannedStop(rene_ride, StopKind.dropoff, 57, *at_hall),
            ],
        )
        db.commit()
        return int(round_.id)


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Iterator[Page]:
    """A phone-sized touch screen, in French."""
    context: BrowserContext = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="fr-FR",
        timezone_id="Europe/Paris",
    )
    page = context.new_page()
    yield page
    context.close()


def font_px(locator: Any) -> float:
    return float(locator.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


def test_driver_marks_stops_on_a_phone_and_the_coordinator_follows_up(
    phone: Page, page: Page, live_server: str, round_id: int, tmp_path: Path
) -> None:
    sign_in(phone, live_server, "marc.vidal")
    expect(phone.get_by_role("heading", name="Mes tournées", exact=True)).to_be_visible()
    expect(phone.get_by_text(re.compile(r"Minibus adapté : 13\s+h\s+00"))).to_be_visible()
    check_accessibility(phone)
    screenshot(phone, "chauffeur-tournees")

    phone.get_by_role("link", name="Feuille de route").tap()
    expect(phone.get_by_role("heading", name=re.compile("^Tournée du "))).to_be_visible()
    yvette = phone.locator(".stop").nth(0)
    expect(yvette.get_by_role("heading")).to_contain_text("Prendre Yvette MARTY")
    expect(yvette).to_contain_text("Code portail 2580. Trois marches devant la porte.")
    expect(yvette).to_contain_text("Avec un déambulateur")
    expect(yvette).to_contain_text("État : à faire")
    call = yvette.get_by_role("link", name=re.compile("^Appeler 05 53 61 22 33"))
    expect(call).to_have_attribute("href", "tel:+33553612233")
    route = yvette.get_by_role("link", name=re.compile("^Itinéraire"))
    expect(route).to_have_attribute(
        "href", "geo:44.840100,0.745200?q=12%20chemin%20des%20Vignes%2C%2024150%20Lalinde"
    )
    rene = phone.locator(".stop").nth(1)
    expect(rene).to_contain_text("En fauteuil roulant")
    expect(rene).to_contain_text("1 accompagnant")
    expect(rene).to_contain_text("Doit être accompagné(e)")
    # Large text for a reader at arm's length; no sideways scrolling on the phone.
    assert font_px(yvette.locator(".stop-address")) >= 20
    assert font_px(yvette.locator(".stop-facts li").first) >= 20
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    mark = yvette.get_by_role("button", name="Pris(e) en charge : Yvette Marty")
    box = mark.bounding_box()
    assert box is not None and box["height"] >= 48 and box["width"] >= 300
    check_accessibility(phone)
    screenshot(phone, "chauffeur-feuille")

    mark.tap()
    expect(phone.get_by_text("Yvette Marty : pris(e) en charge.")).to_be_visible()
    expect(phone.locator(".stop").nth(0)).to_contain_text(
        re.compile(r"État : pris\(e\) en charge à \d+")
    )
    check_accessibility(phone)

    phone.get_by_role("button", name="Personne ne répond : René Bouchet").tap()
    expect(
        phone.get_by_text(re.compile("Alerte envoyée à la coordination : personne ne répond"))
    ).to_be_visible()
    expect(phone.get_by_text("Appelez-la au 05 53 57 00 00.", exact=False)).to_be_visible()
    expect(phone.locator(".stop").nth(1)).to_contain_text(
        "État : personne ne répond — alerte envoyée"
    )
    # René never boarded: his drop-off says so instead of waiting for a mark.
    expect(phone.locator(".stop").nth(3)).to_contain_text("pas à bord")
    check_accessibility(phone)
    screenshot(phone, "chauffeur-alerte")

    # A wrong tap is undone with one more tap.
    phone.get_by_role("button", name="Annuler ce pointage : Yvette Marty").tap()
    expect(phone.locator(".stop").nth(0)).to_contain_text("État : à faire")
    phone.get_by_role("button", name="Pris(e) en charge : Yvette Marty").tap()
    expect(phone.locator(".stop").nth(0)).to_contain_text("État : pris(e) en charge")

    # The same sheet on paper, for a village without signal.
    pdf_link = phone.get_by_role("link", name="Version papier (PDF)")
    response = phone.request.get(live_server + (pdf_link.get_attribute("href") or ""))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "tournee.pdf"
    pdf.write_bytes(response.body())
    assert pdf.read_bytes().startswith(b"%PDF-")
    RESULTS.mkdir(exist_ok=True)
    if shutil.which("pdftoppm"):  # PNGs of the sheet for a human to look at
        subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(tmp_path / "p")], check=True)
        for png in sorted(tmp_path.glob("p-*.png")):
            RESULTS.mkdir(exist_ok=True)  # other test sessions may clear the folder meanwhile
            shutil.copy(png, RESULTS / f"chauffeur-feuille-pdf-{png.stem[2:]}.png")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True
        ).stdout.decode()
        RESULTS.mkdir(exist_ok=True)
        shutil.copy(pdf, RESULTS / "chauffeur-feuille.pdf")
        for words in ("MARTY", "BOUCHET", "Code portail 2580", "05 53 57 00 00"):
            assert words in text.replace("\u00a0", " "), words

    # The coordinator, at the office: the banner on every page, then the alert page.
    sign_in(page, live_server, "sophie.laborde")
    banner = page.locator(".welfare-banner")
    expect(banner).to_contain_text("un chauffeur n'a pas eu de réponse à la porte")
    check_accessibility(page)
    banner.get_by_role("link", name="Voir les alertes et appeler").click()
    card = page.locator(".alert-card").first
    expect(card.get_by_role("heading", name="René Bouchet")).to_be_visible()
    expect(card).to_contain_text("Lieu-dit Le Moulin")
    expect(card).to_contain_text("Marc Vidal")
    expect(card.get_by_role("link", name="05 53 23 44 55")).to_have_attribute(
        "href", "tel:+33553234455"
    )
    check_accessibility(page)
    screenshot(page, "coordination-alertes")
    card.get_by_label("Ce qui a été fait (facultatif)").fill(
        "Joint par téléphone : il était au jardin."
    )
    card.get_by_role("button", name="Alerte prise en compte : René Bouchet").click()
    expect(page.get_by_text("Alerte prise en compte : René Bouchet.")).to_be_visible()
    expect(page.get_by_text("Aucune alerte ouverte.")).to_be_visible()
    expect(page.locator(".welfare-banner")).to_have_count(0)
    check_accessibility(page)

    # The coordinator also opens any round of the centre.
    page.goto(live_server + "/chauffeur/")
    expect(page.get_by_text("Chauffeur : Marc Vidal")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "coordination-tournees")
    page.goto(f"{live_server}/chauffeur/tournees/{round_id}")
    expect(page.locator(".stop").nth(0)).to_contain_text("par Marc Vidal")
