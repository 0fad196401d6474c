"""The report pages (/rapports): who may see them, the figures on screen, CSV files and PDF.

A small known period, February–March 2026 (all past):

    10 Feb  Atelier mémoire (axe 1, older people)  Alice, Bruno present; Chloé excused;
                                                   Denis absent; Émile waitlisted, never promoted
     5 Mar  Café des aidants (axe 2, carers)       Alice present
    12 Mar  Café des aidants (axe 2)               cancelled
    another centre: a training (axe 3) on 10 Mar with someone present, never counted here

Five communes: Alice and Bruno live in Lalinde, the others elsewhere.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduling.models import Audience, BookingStatus, Field, Role, SessionStatus
from scheduling.transport_models import Leg, StopStatus
from tests.scheduling.test_scheduling_reports_transport import add_day, add_leg, add_vehicle
from tests.webapp.conftest import PASSWORD, text_of

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

PERIOD = {"du": "2026-02-01", "au": "2026-03-31"}
URLS = ["/rapports/", "/rapports/volets.csv", "/rapports/rapport.pdf"]


@dataclass
class Territory:
    centre: Any
    coordinator: Any
    other_coordinator: Any
    foreign_title: str
    first_session_bookings: dict[str, Any]


@pytest.fixture
def territory(
    db: Any,
    centre: Any,
    make_centre: Callable[..., Any],
    make_commune: Callable[..., Any],
    make_person: Callable[..., Any],
    make_user: Callable[..., Any],
    make_activity: Callable[..., Any],
    make_venue: Callable[..., Any],
    make_session: Callable[..., Any],
    make_booking: Callable[..., Any],
) -> Territory:
    lalinde, eymet, *_others = (
        make_commune(name=n) for n in ("Lalinde", "Eymet", "Issigeac", "Sigoules", "Cours")
    )
    alice, bruno = (make_person(first_name=n, commune=lalinde) for n in ("Alice", "Bruno"))
    chloe, denis, emile = (make_person(first_name=n, commune=eymet) for n in "CDE")
    hall = make_venue(commune=lalinde)
    memory = make_activity(
        title="Atelier mémoire", field=Field.care_prevention, audience=Audience.older_people
    )
    cafe = make_activity(title="Café des aidants", field=Field.isolation, audience=Audience.carers)
    s1 = make_session(activity=memory, venue=hall, starts_at=dt.datetime(2026, 2, 10, 14))
    first_bookings = {
        person.first_name: make_booking(s1, person=person, status=status)
        for person, status in [
            (alice, BookingStatus.attended),
            (bruno, BookingStatus.attended),
            (chloe, BookingStatus.excused),
            (denis, BookingStatus.no_show),
            (emile, BookingStatus.waitlisted),
        ]
    }
    s2 = make_session(activity=cafe, venue=hall, starts_at=dt.datetime(2026, 3, 5, 14))
    make_booking(s2, person=alice, status=BookingStatus.attended)
    make_session(
        activity=cafe,
        venue=hall,
        starts_at=dt.datetime(2026, 3, 12, 14),
        status=SessionStatus.cancelled,
    )

    elsewhere = make_centre()
    far = make_commune(centre=elsewhere, name="Ailleurs")
    training = make_activity(
        centre=elsewhere, title="Formation lointaine", field=Field.professional
    )
    foreign = make_session(
        centre=elsewhere,
        activity=training,
        venue=make_venue(centre=elsewhere, commune=far),
        starts_at=dt.datetime(2026, 3, 10, 9),
    )
    make_booking(
        foreign,
        person=make_person(centre=elsewhere, commune=far),
        status=BookingStatus.attended,
    )
    coordinator = make_user(username="coordination", role=Role.coordinator, password=PASSWORD)
    other = make_user(
        centre=elsewhere, username="coord-ailleurs", role=Role.coordinator, password=PASSWORD
    )
    return Territory(centre, coordinator, other, training.title, first_bookings)


def report_page(client: Any, **args: str) -> Any:
    return client.get("/rapports/", query_string={**PERIOD, **args})


# --- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.carer, Role.animator, Role.driver])
def test_only_coordination_and_admin_open_the_reports(
    client: Any, territory: Any, make_user: Callable[..., Any], login: Any, role: Role
) -> None:
    user = make_user(username=f"u-{role.value}", role=role, password=PASSWORD)
    login(user)
    for url in URLS:
        assert client.get(url, query_string=PERIOD).status_code == 403, url


def test_visitors_are_sent_to_sign_in(client: Any, territory: Any) -> None:
    for url in URLS:
        response = client.get(url, query_string=PERIOD)
        assert response.status_code == 302
        assert "/connexion" in response.headers["Location"]


def test_an_administrator_opens_the_reports(
    client: Any, territory: Any, make_user: Callable[..., Any], login: Any
) -> None:
    login(make_user(username="admin", role=Role.admin, password=PASSWORD))
    assert report_page(client).status_code == 200


# --- the page ---------------------------------------------------------------------------------


def test_the_page_shows_the_figures_of_the_period(
    client: Any, territory: Territory, login: Any
) -> None:
    login(territory.coordinator)
    response = report_page(client)
    assert response.status_code == 200
    text = text_of(response)

    assert "Période du 1er février 2026 au 31 mars 2026" in text
    assert (
        "Obligation non remplie : aucune séance tenue dans l'axe 3 (pratiques professionnelles)."
        in text
    )
    for figure in [
        "Séances tenues 2",
        "Séances annulées 1",
        "Réservations 5",  # four seats at S1, one at S2
        "Présences 3",
        "Personnes touchées 2",
        "Nouveaux participants 2",
        "Inscriptions restées en liste d'attente 1",
        "Personnes refusées faute de place 1",
        "Communes touchées 1",
        "Communes du territoire 5",
        "Part des communes touchées (%) 20",
        # per field: held, cancelled, upcoming, bookings, present, excused, absent, not taken,
        # persons
        "Axe 1 – Accès aux soins et prévention 1 0 0 4 2 1 1 0 2",
        "Axe 2 – Lutte contre l'isolement 1 1 0 1 1 0 0 0 1",
        "Axe 3 – Pratiques professionnelles 0 0 0 0 0 0 0 0 0",
        "Atelier mémoire 1 Personnes âgées 1 0 0 4 2 1 1 0 2",
        "Café des aidants 2 Aidants 1 1 0 1 1 0 0 0 1",
        "Lalinde 2",
        "1 commune touchée sur 5 communes du territoire, soit 20 %.",
        "février 2026 1 0 0 4 2 1 1 0 2",
        "mars 2026 1 1 0 1 1 0 0 0 1",
        "Aucune tournée sur la période.",
    ]:
        assert figure in text, figure
    assert territory.foreign_title not in text


def test_the_obligation_is_met_once_each_field_has_a_held_session(
    client: Any,
    territory: Territory,
    login: Any,
    make_activity: Callable[..., Any],
    make_session: Callable[..., Any],
) -> None:
    training = make_activity(title="Formation", field=Field.professional)
    make_session(activity=training, starts_at=dt.datetime(2026, 3, 20, 9))
    login(territory.coordinator)
    text = text_of(report_page(client))
    assert "Obligation remplie : au moins une action dans chacun des trois volets." in text
    text = text_of(report_page(client, du="2025-01-01", au="2025-01-31"))
    assert (
        "Obligation non remplie : aucune séance tenue dans l'axe 1 (accès aux soins et "
        "prévention), l'axe 2 (lutte contre l'isolement), l'axe 3 (pratiques professionnelles)."
    ) in text


def test_charts_are_accessible_svg_with_their_numbers(
    client: Any, territory: Territory, login: Any
) -> None:
    login(territory.coordinator)
    html = report_page(client).get_data(as_text=True)

    charts = re.findall(r"<svg [^>]*>.*?</svg>", html, flags=re.S)
    assert len(charts) == 6  # fields, attendance, audiences, activities, communes, months
    for chart in charts:
        labelled = re.search(
            r'role="img" aria-labelledby="([\w-]+)" aria-describedby="([\w-]+)"', chart
        )
        assert labelled, chart[:200]
        assert f'<title id="{labelled.group(1)}">' in chart
        assert f'<desc id="{labelled.group(2)}">' in chart
    fields = next(c for c in charts if 'id="graphique-volets"' in c)
    assert "Axe 1 – Accès aux soins et prévention : tenues 1, annulées 0" in fields
    assert "Axe 2 – Lutte contre l&#39;isolement : tenues 1, annulées 1" in fields
    assert "url(#graphique-volets-hatched)" in fields  # the second series is hatched
    assert "<script" not in html


def test_another_centre_sees_its_own_figures_only(
    client: Any, territory: Territory, login: Any
) -> None:
    login(territory.other_coordinator)
    text = text_of(report_page(client))
    assert "Formation lointaine" in text
    assert "Atelier mémoire" not in text
    assert "Séances tenues 1" in text
    assert "Personnes touchées 1" in text


def test_presets_choose_the_period(client: Any, territory: Territory, login: Any) -> None:
    login(territory.coordinator)
    today = dt.datetime.now(ZoneInfo("Europe/Paris")).date()  # the centre's day, as the app
    text = text_of(client.get("/rapports/", query_string={"periode": "annee-derniere"}))
    assert f"Période du 1er janvier {today.year - 1} au 31 décembre {today.year - 1}" in text
    text = text_of(client.get("/rapports/"))  # this month by default
    assert "Période du 1er " in text
    page = client.get("/rapports/", query_string={"periode": "cette-annee"}).get_data(as_text=True)
    assert f'value="{today.year}-01-01"' in page
    assert f'value="{today.year}-12-31"' in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"du": "2026-02-30", "au": "2026-03-31"}, "date"),
        ({"du": "", "au": "2026-03-31"}, "Indiquez la date de début."),
        (
            {"du": "2026-04-01", "au": "2026-03-31"},
            "La date de fin doit venir après la date de début.",
        ),
        (
            {"du": "1990-01-01", "au": "2026-03-31"},
            "Choisissez une date entre l'an 2000 et l'an 2100.",
        ),
        ({"du": "2001-01-01", "au": "2026-03-31"}, "Choisissez une période de dix ans au plus."),
    ],
)
def test_a_wrong_period_is_explained_next_to_the_field(
    client: Any, territory: Territory, login: Any, args: dict[str, str], message: str
) -> None:
    login(territory.coordinator)
    response = client.get("/rapports/", query_string=args)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error-message"' in html
    assert message in text_of(response)
    assert f'value="{args["au"]}"' in html  # what was typed stays
    assert "Séances tenues" not in text_of(response)
    assert client.get("/rapports/volets.csv", query_string=args).status_code == 400


def test_the_transport_section_shows_the_rounds_of_the_period(
    db: Any, client: Any, territory: Territory, login: Any
) -> None:
    booked = territory.first_session_bookings
    round_ = add_day(
        db,
        territory.centre,
        add_vehicle(db, territory.centre),
        1,  # 1 March: inside the period
        km=30.4,
        hours=(dt.datetime(2026, 3, 1, 13), dt.datetime(2026, 3, 1, 17)),
        unserved=("Aucun véhicule adapté",),
    )
    leaves = dt.datetime(2026, 3, 1, 13, 10)
    add_leg(
        db,
        round_,
        booked["Alice"],
        Leg.outbound,
        leaves=leaves,
        ride_min=25,
        pickup=StopStatus.picked_up,
        dropoff=StopStatus.dropped_off,
    )
    add_leg(
        db,
        round_,
        booked["Bruno"],
        Leg.outbound,
        leaves=leaves,
        ride_min=15,
        pickup=StopStatus.picked_up,
    )
    add_leg(
        db,
        round_,
        booked["D"],
        Leg.outbound,
        leaves=leaves,
        ride_min=20,
        pickup=StopStatus.no_show,
    )
    db.commit()
    login(territory.coordinator)
    response = report_page(client)
    text = text_of(response)

    assert "Aucune tournée sur la période." not in text
    for figure in [
        "Jours de tournées 1",
        "Tournées 1",
        "Demandes servies (trajets) 3",
        "Demandes non servies 1",
        "Aucun véhicule adapté 1",
        "Passagers transportés (trajets pointés) 2",
        "Kilomètres parcourus 30,4",
        "Heures de véhicule 4",
        "Trajet moyen (minutes) 20",
        "Trajet le plus long (minutes) 25",
        "Absents au départ 1",
        "Personne ne répond 0",
        "Alertes de vigilance 0",
        "Personnes venues grâce au transport 2",
    ]:
        assert figure in text, figure
    assert 'id="graphique-transport"' in response.get_data(as_text=True)
    rows = csv_lines(client.get("/rapports/transport.csv", query_string=PERIOD))
    assert rows[0] == ["Indicateur", "Valeur"]
    assert ["Kilomètres parcourus", "30,4"] in rows
    assert ["Trajet moyen (minutes)", "20"] in rows
    reasons = csv_lines(client.get("/rapports/transport-motifs.csv", query_string=PERIOD))
    assert reasons == [["Motif", "Demandes"], ["Aucun véhicule adapté", "1"]]
    months = csv_lines(client.get("/rapports/transport-mois.csv", query_string=PERIOD))
    assert months == [
        ["Mois", "Tournées", "Demandes servies", "Passagers transportés", "Kilomètres"],
        ["février 2026", "0", "0", "0", "0"],
        ["mars 2026", "1", "3", "2", "30,4"],
    ]


def test_the_menu_offers_reports_to_coordination_only(
    client: Any, territory: Territory, login: Any, make_user: Callable[..., Any]
) -> None:
    login(territory.coordinator)
    assert 'href="/rapports/"' in client.get("/animation/").get_data(as_text=True)
    client.post("/deconnexion", data={"csrf_token": ""})
    with client.session_transaction() as web_session:
        web_session.clear()
    login(make_user(username="anim", role=Role.animator, password=PASSWORD))
    assert 'href="/rapports/"' not in client.get("/animation/").get_data(as_text=True)


# --- CSV --------------------------------------------------------------------------------------


def csv_lines(response: Any) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark: Excel reads the accents
    return [line.split(";") for line in body.decode("utf-8-sig").splitlines()]


def test_each_table_downloads_as_a_french_csv(
    client: Any, territory: Territory, login: Any
) -> None:
    login(territory.coordinator)
    response = client.get("/rapports/volets.csv", query_string=PERIOD)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert (
        'filename="navette-volets-2026-02-01-2026-03-31.csv"'
        in response.headers["Content-Disposition"]
    )
    assert csv_lines(response) == [
        [
            "Axe",
            "Séances tenues",
            "Séances annulées",
            "Séances à venir",
            "Réservations",
            "Présents",
            "Excusés",
            "Absents",
            "Appel non fait",
            "Personnes touchées",
        ],
        ["Axe 1 – Accès aux soins et prévention", "1", "0", "0", "4", "2", "1", "1", "0", "2"],
        ["Axe 2 – Lutte contre l'isolement", "1", "1", "0", "1", "1", "0", "0", "0", "1"],
        ["Axe 3 – Pratiques professionnelles", "0", "0", "0", "0", "0", "0", "0", "0", "0"],
    ]
    communes = csv_lines(client.get("/rapports/communes.csv", query_string=PERIOD))
    assert communes[0] == ["Commune", "Code INSEE", "Personnes touchées"]
    assert [row[0] for row in communes[1:]] == ["Lalinde"]
    assert communes[1][2] == "2"
    summary = dict(
        csv_lines(client.get("/rapports/synthese.csv", query_string=PERIOD))[1:]  # type: ignore[arg-type]
    )
    assert summary["Part des communes touchées (%)"] == "20"
    assert summary["Nouveaux participants"] == "2"
    assert summary["Obligation des trois volets"] == "non remplie"
    months = csv_lines(client.get("/rapports/mois.csv", query_string=PERIOD))
    assert [row[0] for row in months[1:]] == ["février 2026", "mars 2026"]
    for slug in ("presences", "publics", "activites"):
        assert client.get(f"/rapports/{slug}.csv", query_string=PERIOD).status_code == 200
    # No transport in this period: no transport file.
    assert client.get("/rapports/transport.csv", query_string=PERIOD).status_code == 404
    assert client.get("/rapports/inconnu.csv", query_string=PERIOD).status_code == 404


def test_a_share_with_decimals_uses_a_decimal_comma(
    client: Any, territory: Territory, login: Any, make_commune: Callable[..., Any]
) -> None:
    make_commune(name="Sixième commune")  # 1 of 6 = 16.7 %
    login(territory.coordinator)
    summary = dict(csv_lines(client.get("/rapports/synthese.csv", query_string=PERIOD))[1:])  # type: ignore[arg-type]
    assert summary["Part des communes touchées (%)"] == "16,7"
    assert "soit 16,7 %" in text_of(report_page(client))


# --- PDF --------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext absent (poppler-utils)")
def test_the_whole_report_prints_as_pdf(
    client: Any, territory: Territory, login: Any, tmp_path: Path
) -> None:
    login(territory.coordinator)
    response = client.get("/rapports/rapport.pdf", query_string=PERIOD)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF-")
    path = tmp_path / "rapport.pdf"
    path.write_bytes(response.get_data())
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = re.sub(r"\s+", " ", text)
    assert "Rapport d'activité du volet 1" in flat
    assert "du 1er février 2026 au 31 mars 2026" in flat
    assert "Obligation non remplie" in flat
    assert "Atelier mémoire" in flat
    assert "Aucune tournée sur la période." in flat
    assert "Formation lointaine" not in flat
    assert "Télécharger" not in flat  # no links to click on paper
