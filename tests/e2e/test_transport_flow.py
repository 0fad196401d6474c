"""Flow 3 in headless Chromium, on the demo territory: a carer's bookings with transport, the
coordinator builds the day (progress page, then map and table), publishes, the carer sees the
promised pickup window, a cancellation re-plans and the coordinator sees what changed.

The demo is loaded into a database of its own (the other browser flows share theirs), served
by its own app with the embedded in-memory queue; the address service is never called.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from scheduling.booking import book
from scheduling.db import make_engine, make_session_factory
from scheduling.models import ActivitySession, SessionStatus, User
from scheduling.transport import transport_bookings, transport_settings
from scheduling.transport_models import Leg, RoundStop, StopKind
from tests.conftest import upgrade_to_head
from tests.e2e.conftest import check_accessibility, screenshot
from webapp import create_app
from webapp.demo import DEMO_PASSWORD, centre_now


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e-transport') / 'navette.sqlite3'}"
    upgrade_to_head(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "clé-e2e-transport",
            "MAIL_SERVER": None,
            "GEOCODER": "offline",
            "NAVETTE_QUEUE": "memory",
        }
    )
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    facts = _book_a_day(url)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"base": f"http://127.0.0.1:{server.server_port}", "url": url, **facts}
    server.shutdown()
    queue = app.extensions.get("navette_queue")
    if queue is not None and queue.worker is not None:
        queue.worker.stop()
    app.extensions["navette_engine"].dispose()


def _book_a_day(url: str) -> dict[str, Any]:
    """The carer books rides for Jeanne and André Delpech on a day still without rounds."""
    engine = make_engine(url)
    db = make_session_factory(engine)()
    try:
        carer = db.scalar(select(User).where(User.username == "aidant"))
        assert carer is not None
        now = centre_now()
        jeanne, andre = sorted(carer.helped_persons, key=lambda p: p.first_name != "Jeanne")
        transport_settings(db, carer.centre_id).solver_time_limit_s = 2
        sessions = db.scalars(
            select(ActivitySession)
            .where(
                ActivitySession.centre_id == carer.centre_id,
                ActivitySession.transport_offered.is_(True),
                ActivitySession.status == SessionStatus.scheduled,
                ActivitySession.starts_at > now + dt.timedelta(days=2),
            )
            .order_by(ActivitySession.starts_at)
        )
        for session in sessions:
            day = session.starts_at.date()
            if day.weekday() >= 5:
                continue
            booked = {}
            for person in (jeanne, andre):
                outcome = book(
                    db,
                    session_id=session.id,
                    person_id=person.id,
                    actor=carer,
                    now=now,
                    transport_out=True,
                    transport_back=True,
                )
                if outcome.confirmed and outcome.booking is not None:
                    booked[person.first_name] = outcome.booking.id
            if len(booked) == 2:
                riders = len(transport_bookings(db, carer.centre_id, day))
                db.commit()
                return {"day": day, "bookings": booked, "riders": riders}
            db.rollback()
        raise AssertionError("aucune séance de la démo ne peut accueillir les deux Delpech")
    finally:
        db.close()
        engine.dispose()


def _sign_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/connexion")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()


def _promise(url: str, booking_id: int) -> tuple[dt.datetime, dt.datetime]:
    engine = make_engine(url)
    db = make_session_factory(engine)()
    try:
        stop = db.scalar(
            select(RoundStop).where(
                RoundStop.booking_id == booking_id,
                RoundStop.leg == Leg.outbound,
                RoundStop.kind == StopKind.pickup,
            )
        )
        assert stop is not None and stop.promised_from and stop.promised_to
        return stop.promised_from, stop.promised_to
    finally:
        db.close()
        engine.dispose()


def _hm(moment: dt.datetime) -> str:
    return f"{moment.hour} h {moment.minute:02d}"


def test_build_publish_promise_and_replan_on_cancellation(
    page: Page, demo_site: dict[str, Any]
) -> None:
    base, day = demo_site["base"], demo_site["day"].isoformat()
    jeanne, andre = demo_site["bookings"]["Jeanne"], demo_site["bookings"]["André"]

    # The coordinator builds the day: progress first (the page refreshes itself), then rounds.
    _sign_in(page, base, "coordination")
    page.get_by_role("link", name="Transport").click()
    page.get_by_label("Date des tournées").fill(day)
    page.get_by_role("button", name="Afficher ce jour").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tournées du")
    check_accessibility(page)
    page.get_by_role("button", name="Construire les tournées").click()
    expect(page.get_by_role("button", name="Publier les tournées")).to_be_visible(timeout=30_000)
    expect(page.locator("svg.round-map").first).to_be_visible()
    expect(page.locator(".figures")).to_contain_text(
        f"{demo_site['riders']} passager" + ("s" if demo_site["riders"] > 1 else "")
    )
    expect(page.locator("table").first).to_contain_text("Jeanne Delpech")
    check_accessibility(page)
    screenshot(page, "transport-jour-brouillon")
    page.get_by_role("button", name="Publier les tournées").click()
    expect(page.get_by_text("Tournées publiées")).to_be_visible()
    _sign_out(page)

    # The carer sees Jeanne's promised window, e.g. "prise en charge entre 13 h 25 et 13 h 40".
    start, end = _promise(demo_site["url"], jeanne)
    assert end - start == dt.timedelta(minutes=15)
    _sign_in(page, base, "aidant")
    page.goto(f"{base}/reservations/{jeanne}")
    expected = f"prise en charge entre {_hm(start)} et {_hm(end)}"
    expect(page.locator("main")).to_contain_text(re.compile(expected.replace(" ", r"\s")))
    check_accessibility(page)
    screenshot(page, "transport-aidant-heure-promise")

    # The carer cancels André's booking: the day is re-planned around the gap.
    page.goto(f"{base}/reservations/{andre}/annuler")
    page.get_by_role("button", name=re.compile("annul", re.I)).first.click()
    expect(page.get_by_text("est annulée")).to_be_visible()
    assert _promise(demo_site["url"], jeanne) == (start, end)  # Jeanne's promise holds
    _sign_out(page)

    _sign_in(page, base, "coordination")
    page.goto(f"{base}/transport/jour/{day}")
    expect(page.get_by_text("Annulation de André Delpech")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("André Delpech (+")
    tables = page.locator("table")
    for index in range(tables.count()):
        expect(tables.nth(index)).not_to_contain_text("André Delpech")
    check_accessibility(page)
    screenshot(page, "transport-jour-apres-annulation")


def test_fleet_and_rules_pages_are_accessible(page: Page, demo_site: dict[str, Any]) -> None:
    base = demo_site["base"]
    _sign_in(page, base, "coordination")
    page.goto(base + "/transport/vehicules")
    expect(page.locator("table")).to_contain_text("Minibus 9 places")
    check_accessibility(page)
    page.get_by_role("link", name="Modifier : Minibus 9 places").click()
    page.get_by_label("Places assises (hors chauffeur)").fill("")
    page.get_by_role("button", name="Enregistrer le véhicule").click()
    expect(page.locator(".error-summary")).to_contain_text("Indiquez le nombre de places assises.")
    check_accessibility(page)
    page.goto(base + "/transport/chauffeurs")
    expect(page.locator("table")).to_contain_text("lundi, mardi, mercredi, jeudi, vendredi")
    check_accessibility(page)
    page.goto(base + "/transport/reglages")
    expect(page.get_by_label("Trajet maximal : plafond (minutes)")).to_have_value("90")
    check_accessibility(page)


def test_choosing_the_drivers_of_a_day_is_accessible(page: Page, demo_site: dict[str, Any]) -> None:
    from scheduling.transport_models import DayStatus, TransportDay

    engine = make_engine(demo_site["url"])
    db = make_session_factory(engine)()
    try:
        published = db.scalar(
            select(TransportDay)
            .where(TransportDay.status == DayStatus.published)
            .order_by(TransportDay.date)
        )
        assert published is not None and published.rounds, "la démo publie des tournées"
        day = published.date.isoformat()
    finally:
        db.close()
        engine.dispose()
    base = demo_site["base"]
    _sign_in(page, base, "coordination")
    page.goto(f"{base}/transport/jour/{day}")
    page.get_by_role("link", name=re.compile("choisir le chauffeur")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Chauffeurs des tournées")
    check_accessibility(page)
    chooser = page.get_by_label(re.compile("Chauffeur de la tournée")).first
    chooser.select_option(index=1)
    chosen = chooser.locator("option:checked").inner_text().split(" (")[0]
    screenshot(page, "transport-choix-chauffeurs")
    page.get_by_role("button", name="Enregistrer les chauffeurs").click()
    expect(page.get_by_text("Chauffeurs enregistrés")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"Chauffeur : {chosen}")
    check_accessibility(page)
