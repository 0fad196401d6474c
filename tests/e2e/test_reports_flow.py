"""The coordinator's report in headless Chromium: period form, charts, CSV and PDF; axe-core.

It seeds a centre of its own in the shared browser database (a coordinator, two past
workshops with attendance and a published round, all in the last few weeks), so the other
browser flows neither disturb its counts nor are disturbed by it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from werkzeug.security import generate_password_hash

from scheduling.db import make_engine, make_session_factory
from scheduling.models import (
    Audience,
    Booking,
    BookingStatus,
    Field,
    Person,
    Role,
    User,
    Vehicle,
    VehicleKind,
    Venue,
)
from scheduling.transport_models import (
    DayStatus,
    Leg,
    Round,
    RoundStop,
    StopKind,
    StopStatus,
    TransportDay,
)
from tests.e2e.conftest import PASSWORD, check_accessibility, screenshot, sign_in
from tests.e2e.seeds import add_activity_session, add_bergerac, add_centre

START = dt.date.today() - dt.timedelta(days=40)
END = dt.date.today()
COORDINATOR = "coord.rapports"


@pytest.fixture(scope="module")
def reporting_world(e2e_db_url: str) -> None:
    engine = make_engine(e2e_db_url)
    db = make_session_factory(engine)()
    # A centre of its own: the report counts every session of its centre, and the other
    # browser flows add sessions to the shared demo-like centre while they run.
    centre = add_centre(db, "e2e-rapports", "CRT des rapports")
    commune = add_bergerac(db, centre)
    venue = Venue(
        centre_id=centre.id,
        name="Salle des fêtes",
        address="1 place de la Mairie, 24100 Bergerac",
        commune_id=commune.id,
        lat=44.85,
        lon=0.48,
    )
    persons = [
        Person(
            centre_id=centre.id,
            first_name=first,
            last_name="Rapport",
            commune_id=commune.id,
            address="2 rue du Marché, 24100 Bergerac",
        )
        for first in ("Yvonne", "Gaston")
    ]
    db.add_all([venue, *persons])
    db.add(
        User(
            centre_id=centre.id,
            username=COORDINATOR,
            password_hash=generate_password_hash(PASSWORD),
            role=Role.coordinator,
            display_name="Sophie Coordinatrice",
            email="coordination@example.org",
        )
    )
    db.flush()
    day = dt.date.today() - dt.timedelta(days=20)
    sessions = [
        add_activity_session(
            db,
            centre,
            title,
            field=field,
            audience=audience,
            venue_id=venue.id,
            starts_at=dt.datetime.combine(when, dt.time(14)),
            ends_at=dt.datetime.combine(when, dt.time(16)),
            seats=10,
            transport_offered=True,
        )
        for title, field, audience, when in [
            ("Prévention des chutes", Field.care_prevention, Audience.older_people, day),
            (
                "Formation des aides à domicile",
                Field.professional,
                Audience.professionals,
                day + dt.timedelta(days=7),
            ),
        ]
    ]
    bookings = [
        Booking(
            centre_id=centre.id,
            session_id=sessions[0].id,
            person_id=person.id,
            status=status,
            transport_out=True,
            created_at=sessions[0].starts_at - dt.timedelta(days=5),
        )
        for person, status in zip(
            persons, [BookingStatus.attended, BookingStatus.no_show], strict=False
        )
    ]
    db.add_all(bookings)
    vehicle = Vehicle(
        centre_id=centre.id,
        name="Minibus du centre",
        kind=VehicleKind.minibus,
        seats=8,
        depot_lat=44.85,
        depot_lon=0.48,
        available_from=dt.time(8),
        available_until=dt.time(18),
    )
    db.add(vehicle)
    db.flush()
    transport_day = TransportDay(
        centre_id=centre.id,
        date=day,
        status=DayStatus.published,
        summary={"unserved": [{"booking_id": 0, "leg": "return", "reason": "Hors des horaires"}]},
    )
    round_ = Round(
        centre_id=centre.id,
        vehicle_id=vehicle.id,
        status=DayStatus.published,
        starts_at=dt.datetime.combine(day, dt.time(13)),
        ends_at=dt.datetime.combine(day, dt.time(16, 30)),
        distance_km=37.8,
    )
    transport_day.rounds.append(round_)
    leaves = dt.datetime.combine(day, dt.time(13, 15))
    for seq, (kind, at, status) in enumerate(
        [
            (StopKind.pickup, leaves, StopStatus.picked_up),
            (StopKind.dropoff, leaves + dt.timedelta(minutes=28), StopStatus.dropped_off),
        ],
        start=1,
    ):
        round_.stops.append(
            RoundStop(
                seq=seq,
                booking_id=bookings[0].id,
                leg=Leg.outbound,
                kind=kind,
                lat=44.8,
                lon=0.5,
                planned_arrival=at,
                planned_begin=at,
                planned_departure=at,
                status=status,
            )
        )
    db.add(transport_day)
    db.commit()
    db.close()
    engine.dispose()


def test_coordinator_reads_the_report_downloads_csv_and_pdf(
    page: Page, live_server: str, reporting_world: Any
) -> None:
    sign_in(page, live_server, COORDINATOR)
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Rapports"
    ).click()
    expect(page.get_by_role("heading", name="Rapport d'activité du volet 1")).to_be_visible()
    check_accessibility(page)

    # A slip first: the end before the start.
    page.get_by_label("Du", exact=True).fill(END.isoformat())
    page.get_by_label("Au (inclus)", exact=True).fill(START.isoformat())
    page.get_by_role("button", name="Afficher le rapport").click()
    expect(
        page.get_by_text("La date de fin doit venir après la date de début.").first
    ).to_be_visible()
    check_accessibility(page)
    screenshot(page, "rapports-erreur")

    page.get_by_label("Du", exact=True).fill(START.isoformat())
    page.get_by_label("Au (inclus)", exact=True).fill(END.isoformat())
    page.get_by_role("button", name="Afficher le rapport").click()
    expect(
        page.get_by_text(
            "Obligation non remplie : aucune séance tenue dans l'axe 2 (lutte contre l'isolement)."
        )
    ).to_be_visible()
    fields_chart = page.get_by_role("img", name="Séances par volet")
    expect(fields_chart).to_be_visible()
    expect(page.get_by_role("table", name="Transport", exact=True)).to_contain_text("37,8")
    expect(page.get_by_role("table", name="Synthèse de la période")).to_contain_text(
        "Personnes touchées"
    )
    check_accessibility(page)
    screenshot(page, "rapports")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Télécharger « Par volet \\(axe\\) »")).click()
    path = download_info.value.path()
    body = path.read_bytes()
    assert body.startswith(b"\xef\xbb\xbfAxe;S\xc3\xa9ances tenues;")
    assert "Axe 1 – Accès aux soins et prévention;1;" in body.decode("utf-8-sig")

    pdf_link = page.get_by_role("link", name="Le rapport complet, à imprimer (PDF)")
    href = pdf_link.get_attribute("href")
    assert href is not None
    response = page.request.get(live_server + href)
    assert response.ok
    assert response.body().startswith(b"%PDF-")
