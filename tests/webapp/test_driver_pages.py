"""Drivers' pages: the rounds list, the route sheet on a phone, marks, the PDF, welfare alerts."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from scheduling.models import Notification, NotificationKind, Role
from scheduling.transport_models import (
    DayStatus,
    RoundStop,
    StopKind,
    StopStatus,
    WelfareAlert,
)
from tests.scheduling.driving_builders import make_driver, make_round, make_vehicle
from tests.webapp.conftest import PASSWORD, post, sign_in, text_of

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def centre_today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Europe/Paris")).date()


@dataclass
class Roads:
    round: Any
    draft: Any
    driver_user: Any
    other_driver_user: Any
    coordinator: Any
    carer: Any
    persons: list[Any]


@pytest.fixture
def roads(db, world, make_user, make_person, make_session, make_booking, make_commune) -> Roads:
    today = centre_today()
    driver_user = make_user(
        username="chauffeur", role=Role.driver, display_name="Marc Vidal", password=PASSWORD
    )
    other_user = make_user(
        username="benevole", role=Role.driver, display_name="Luc Bénévole", password=PASSWORD
    )
    coordinator = make_user(
        username="coordination",
        role=Role.coordinator,
        display_name="Sophie Coordination",
        email="coordination@crt.example",
        phone="05 53 57 00 00",
        password=PASSWORD,
    )
    driver = make_driver(db, driver_user, phone="06 11 22 33 44")
    other_driver = make_driver(db, other_user)
    jeanne = world.person
    jeanne.driver_notes = "Code portail 2580, chien dans la cour"
    jeanne.companion_needed = True
    louis = world.other_person
    db.commit()
    session = make_session(
        venue=world.session.venue, starts_at=dt.datetime.combine(today, dt.time(14, 30))
    )
    bookings = [
        make_booking(session, person=jeanne, transport_out=True, companions=1),
        make_booking(session, person=louis, transport_out=True),
    ]
    vehicle = make_vehicle(db, world.centre.id)
    round_ = make_round(db, bookings=bookings, date=today, driver=driver, vehicle=vehicle)
    later = today + dt.timedelta(days=2)
    hidden = make_person(first_name="Odette", last_name="Cachée", commune=world.commune)
    later_session = make_session(
        venue=world.session.venue, starts_at=dt.datetime.combine(later, dt.time(10))
    )
    draft = make_round(
        db,
        bookings=[make_booking(later_session, person=hidden, transport_out=True)],
        date=later,
        driver=driver,
        vehicle=vehicle,
        status=DayStatus.draft,
    )
    _ = (other_driver, jeanne.carers, louis.carers)
    db.commit()
    return Roads(round_, draft, driver_user, other_user, coordinator, world.carer, [jeanne, louis])


def stop_of(round_: Any, person: Any, kind: StopKind = StopKind.pickup) -> Any:
    return next(s for s in round_.stops if s.booking.person_id == person.id and s.kind is kind)


def status_of(db: Any, stop: Any) -> StopStatus:
    """The stop's status as stored now (the fixture's objects are left as they are)."""
    status: StopStatus = db.scalar(select(RoundStop.status).where(RoundStop.id == stop.id))
    db.commit()  # end the read transaction: it would block the app's next write on SQLite
    return status


def rows(db: Any, query: Any) -> list[Any]:
    found = list(db.execute(query).all())
    db.commit()
    return found


def sheet_url(round_: Any) -> str:
    return f"/chauffeur/tournees/{round_.id}"


def mark(client: Any, stop: Any, status: str) -> Any:
    return post(client, f"/chauffeur/arrets/{stop.id}/pointage", {"status": status})


# --- what a driver sees ---------------------------------------------------------------------


def test_a_driver_lands_on_their_rounds_and_sees_only_published_ones(client, roads):
    response = sign_in(client, "chauffeur")
    assert response.headers["Location"].endswith("/chauffeur/")
    page = text_of(client.get("/chauffeur/"))
    assert "Mes tournées" in page and "Minibus 1" in page and "Aujourd'hui" in page
    assert f'href="{sheet_url(roads.round)}"' in client.get("/chauffeur/").get_data(as_text=True)
    assert sheet_url(roads.draft) not in client.get("/chauffeur/").get_data(as_text=True)
    # The draft stays hidden even when its address is typed in.
    assert client.get(sheet_url(roads.draft)).status_code == 404
    assert client.get(sheet_url(roads.draft) + "/feuille.pdf").status_code == 404


def test_the_route_sheet_has_what_a_driver_needs_at_the_door(client, roads):
    sign_in(client, "chauffeur")
    response = client.get(sheet_url(roads.round))
    html = response.get_data(as_text=True)
    page = text_of(response)
    jeanne = roads.persons[0]
    pickup = stop_of(roads.round, jeanne)
    assert f'href="tel:+33{jeanne.phone.replace(" ", "")[1:]}"' in html
    assert f'href="geo:{pickup.lat:.6f},{pickup.lon:.6f}?q=3%20rue%20des%20Tilleuls' in html
    for words in (
        "Code portail 2580, chien dans la cour",
        "Avec un déambulateur" if jeanne.mobility.value == "walker" else jeanne.mobility.label,
        "1 accompagnant",
        "Doit être accompagné(e)",
        "3 rue des Tilleuls",
        "État : à faire",
        "13 h 20",
        "Appeler la coordination 05 53 57 00 00",
    ):
        assert words.replace(" h ", "\u00a0h\u00a0") in page or words in page, words
    # In order: Jeanne's pickup, Louis's pickup, then the drop-offs at the hall.
    names = re.findall(r"(Prendre|Déposer) (Jeanne|Louis)", page)
    assert names == [
        ("Prendre", "Jeanne"),
        ("Prendre", "Louis"),
        ("Déposer", "Jeanne"),
        ("Déposer", "Louis"),
    ]
    # At the hall, the sheet names the place, not only its street.
    assert "Salle des fêtes de Lalinde Place de la mairie, Lalinde" in page
    # Every mark is a plain form with a CSRF token: it works without JavaScript.
    assert html.count('name="csrf_token"') >= 4
    assert 'value="nobody_answered"' in html


def test_the_driver_marks_a_pickup_and_undoes_a_wrong_one(client, db, roads):
    sign_in(client, "chauffeur")
    jeanne, louis = roads.persons
    pickup = stop_of(roads.round, jeanne)
    response = mark(client, pickup, "picked_up")
    assert response.status_code == 302
    # Back to the same stop on the sheet: the phone does not jump to the top.
    assert response.headers["Location"].endswith(f"{sheet_url(roads.round)}#arret-{pickup.id}")
    page = text_of(client.get(sheet_url(roads.round)))
    assert "Jeanne Delmas : pris(e) en charge." in page
    assert "État : pris(e) en charge à" in page
    marked = rows(
        db, select(RoundStop.status, RoundStop.marked_by_id).where(RoundStop.id == pickup.id)
    )
    assert marked == [(StopStatus.picked_up, roads.driver_user.id)]

    louis_stop = stop_of(roads.round, louis)
    mark(client, louis_stop, "no_show")
    assert status_of(db, louis_stop) is StopStatus.no_show
    mark(client, louis_stop, "planned")
    assert status_of(db, louis_stop) is StopStatus.planned
    assert "pointage annulé" in text_of(client.get(sheet_url(roads.round)))


def test_a_mark_without_the_csrf_token_is_refused(client, db, roads):
    sign_in(client, "chauffeur")
    stop = stop_of(roads.round, roads.persons[0])
    response = client.post(f"/chauffeur/arrets/{stop.id}/pointage", data={"status": "picked_up"})
    assert response.status_code in (302, 400)
    assert status_of(db, stop) is StopStatus.planned


def test_a_junk_mark_is_refused_in_words(client, db, roads):
    sign_in(client, "chauffeur")
    stop = stop_of(roads.round, roads.persons[0], StopKind.dropoff)
    mark(client, stop, "no_show")
    assert "À une dépose, on pointe seulement" in text_of(client.get(sheet_url(roads.round)))
    mark(client, stop, "n'importe quoi")
    assert "Pointage illisible" in text_of(client.get(sheet_url(roads.round)))
    assert status_of(db, stop) is StopStatus.planned


# --- who may not --------------------------------------------------------------------------


def test_another_driver_gets_404_on_the_sheet_the_pdf_and_the_marks(client, db, roads):
    sign_in(client, "benevole")
    stop = stop_of(roads.round, roads.persons[0])
    assert client.get(sheet_url(roads.round)).status_code == 404
    assert client.get(sheet_url(roads.round) + "/feuille.pdf").status_code == 404
    assert mark(client, stop, "picked_up").status_code == 404
    assert status_of(db, stop) is StopStatus.planned
    assert "Aucune tournée publiée pour vous" in text_of(client.get("/chauffeur/"))


def test_a_carer_and_an_animator_are_refused(client, db, roads, make_user):
    sign_in(client, "aidante")
    stop = stop_of(roads.round, roads.persons[0])
    for url in ("/chauffeur/", sheet_url(roads.round), "/chauffeur/alertes"):
        assert client.get(url).status_code == 403, url
    assert mark(client, stop, "picked_up").status_code == 403
    assert status_of(db, stop) is StopStatus.planned
    client.get("/")
    post(client, "/deconnexion")
    make_user(username="animatrice", role=Role.animator, password=PASSWORD)
    sign_in(client, "animatrice")
    assert client.get(sheet_url(roads.round)).status_code == 403


def test_a_driver_may_not_open_the_alerts_page(client, roads):
    sign_in(client, "chauffeur")
    assert client.get("/chauffeur/alertes").status_code == 403


def test_another_centres_staff_see_nothing(client, db, roads, make_centre, make_user):
    elsewhere = make_centre()
    make_user(centre=elsewhere, username="coord2", role=Role.coordinator, password=PASSWORD)
    sign_in(client, "coord2")
    assert client.get(sheet_url(roads.round)).status_code == 404
    assert "Minibus 1" not in text_of(client.get("/chauffeur/"))
    stop = stop_of(roads.round, roads.persons[0])
    assert mark(client, stop, "picked_up").status_code == 404


def test_the_coordinator_opens_any_round_of_the_centre_drafts_included(client, roads):
    sign_in(client, "coordination")
    page = text_of(client.get("/chauffeur/"))
    assert "Chauffeur : Marc Vidal" in page and "brouillon" in page
    draft = text_of(client.get(sheet_url(roads.draft)))
    assert "Brouillon : cette tournée n'est pas encore publiée" in draft
    assert "Odette" in draft


# --- welfare alerts -------------------------------------------------------------------------


def test_nobody_answers_alerts_the_coordinator_on_the_spot(client, db, roads, smtp_sink):
    sign_in(client, "chauffeur")
    jeanne = roads.persons[0]
    stop = stop_of(roads.round, jeanne)
    mark(client, stop, "nobody_answered")
    page = text_of(client.get(sheet_url(roads.round)))
    assert "Alerte envoyée à la coordination : personne ne répond chez Jeanne Delmas" in page
    assert "Appelez-la au 05 53 57 00 00" in page
    assert "État : personne ne répond — alerte envoyée" in page
    # Said again on the stop itself, where the phone lands after the tap.
    assert "La coordination est prévenue : c'est peut-être une chute." in page
    alerts = rows(
        db, select(WelfareAlert.stop_id, WelfareAlert.raised_by_id, WelfareAlert.acknowledged_at)
    )
    assert alerts == [(stop.id, roads.driver_user.id, None)]
    # The e-mail has left already, with the person's phone and the address.
    mails = smtp_sink.to("coordination@crt.example")
    assert len(mails) == 1
    assert "Jeanne Delmas" in str(mails[0]["Subject"])
    body = mails[0].get_content()
    assert jeanne.phone in body and "3 rue des Tilleuls" in body
    sent = rows(
        db,
        select(Notification.sent_at).where(Notification.kind == NotificationKind.welfare_alert),
    )
    assert len(sent) == 1 and sent[0].sent_at is not None


def test_the_coordinator_sees_the_banner_and_acknowledges(client, db, roads):
    sign_in(client, "chauffeur")
    mark(client, stop_of(roads.round, roads.persons[0]), "nobody_answered")
    # The driver is no coordinator: no banner on their pages.
    assert "un chauffeur n'a pas eu de réponse" not in text_of(client.get("/chauffeur/"))
    post(client, "/deconnexion")

    sign_in(client, "coordination")
    for url in ("/animation/", "/chauffeur/", "/"):
        page = text_of(client.get(url))
        assert "Alerte : un chauffeur n'a pas eu de réponse à la porte (1 alerte ouverte)" in page
    page = text_of(client.get("/chauffeur/alertes"))
    jeanne = roads.persons[0]
    for words in (
        "Jeanne Delmas",
        "3 rue des Tilleuls",
        jeanne.phone,
        "Marc Vidal",
        "06 11 22 33 44",
    ):
        assert words in page, words
    [(alert_id,)] = rows(db, select(WelfareAlert.id))
    response = post(
        client,
        f"/chauffeur/alertes/{alert_id}/prise-en-compte",
        {"note": "Sa fille est passée : elle dormait."},
    )
    assert response.status_code == 302
    page = text_of(client.get("/chauffeur/alertes"))
    assert "Alerte prise en compte : Jeanne Delmas." in page
    assert "Aucune alerte ouverte." in page
    assert "Sa fille est passée : elle dormait." in page
    assert "un chauffeur n'a pas eu de réponse" not in text_of(client.get("/animation/"))
    assert rows(db, select(WelfareAlert.acknowledged_by_id)) == [(roads.coordinator.id,)]


def test_an_alert_whose_stop_left_the_rounds_stays_on_the_page(client, db, roads):
    sign_in(client, "chauffeur")
    mark(client, stop_of(roads.round, roads.persons[0]), "nobody_answered")
    post(client, "/deconnexion")
    # The booking is cancelled and its stop removed from the round (as a re-plan does).
    db.delete(stop_of(roads.round, roads.persons[0]))
    db.commit()

    sign_in(client, "coordination")
    page = text_of(client.get("/chauffeur/alertes"))
    assert "Jeanne Delmas" in page and "3 rue des Tilleuls" in page
    assert "Cet arrêt n'est plus dans les tournées" in page
    [(alert_id,)] = rows(db, select(WelfareAlert.id))
    post(client, f"/chauffeur/alertes/{alert_id}/prise-en-compte", {"note": ""})
    assert "Alerte prise en compte : Jeanne Delmas." in text_of(client.get("/chauffeur/alertes"))


def test_an_unknown_alert_answers_404(client, roads):
    sign_in(client, "coordination")
    assert post(client, "/chauffeur/alertes/999999/prise-en-compte").status_code == 404
    assert post(client, f"/chauffeur/alertes/{2**63}/prise-en-compte").status_code == 404
    assert client.get(f"/chauffeur/tournees/{2**63}").status_code == 404


# --- the PDF ----------------------------------------------------------------------------------


def pdf_text(pdf: bytes, tmp_path: Any) -> str:
    if shutil.which("pdftotext") is None:
        reason = "pdftotext absent (poppler-utils) : lancez bash scripts/setup.sh --dev"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    path = tmp_path / "tournee.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode().replace("\u00a0", " ")


def test_the_pdf_is_a_real_large_print_sheet_with_names(client, roads, tmp_path):
    sign_in(client, "chauffeur")
    response = client.get(sheet_url(roads.round) + "/feuille.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    pdf = response.get_data()
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf, tmp_path)
    for words in (
        "DELMAS",
        "ROUX",
        "3 rue des Tilleuls",
        "Code portail 2580",
        "05 53 57 00 00",  # the coordination's number, in the header
        "Minibus 1",
    ):
        assert words in text, words
    assert text.index("DELMAS") < text.index("ROUX")


def test_a_round_of_a_coming_day_is_listed_but_marked_only_on_the_day(
    client, db, roads, make_session, make_booking, make_person
):
    later = centre_today() + dt.timedelta(days=3)
    person = make_person(first_name="Marcel", last_name="Lagarde")
    session = make_session(starts_at=dt.datetime.combine(later, dt.time(10)))
    coming = make_round(
        db,
        bookings=[make_booking(session, person=person, transport_out=True)],
        date=later,
        driver=roads.round.driver,
        vehicle=roads.round.vehicle,
    )
    sign_in(client, "chauffeur")
    listing = client.get("/chauffeur/").get_data(as_text=True)
    assert sheet_url(coming) in listing and sheet_url(roads.round) in listing
    response = client.get(sheet_url(coming))
    page = text_of(response)
    assert "Marcel" in page
    assert "apparaîtront le jour de la tournée" in page
    assert 'name="status"' not in response.get_data(as_text=True)
    stop = stop_of(coming, person)
    mark(client, stop, "picked_up")
    assert "Les arrêts se pointent le jour de la tournée." in text_of(client.get(sheet_url(coming)))
    assert status_of(db, stop) is StopStatus.planned


def test_the_coordinator_marks_for_a_driver_without_signal(client, db, roads):
    sign_in(client, "coordination")
    stop = stop_of(roads.round, roads.persons[1])
    mark(client, stop, "no_show")
    assert status_of(db, stop) is StopStatus.no_show
    page = text_of(client.get(sheet_url(roads.round)))
    assert "État : absent(e)" in page
    # Louis did not board: his drop-off says so.
    assert "pas à bord" in page


def test_a_note_too_long_is_refused_next_to_the_field_and_kept(client, db, roads):
    sign_in(client, "chauffeur")
    mark(client, stop_of(roads.round, roads.persons[0]), "nobody_answered")
    post(client, "/deconnexion")
    sign_in(client, "coordination")
    [(alert_id,)] = rows(db, select(WelfareAlert.id))
    note = "Appelée trois fois. " * 60  # 1 200 characters
    response = post(client, f"/chauffeur/alertes/{alert_id}/prise-en-compte", {"note": note})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Note trop longue (1000 caractères au plus)." in text_of(response)
    assert note.strip() in html
    assert rows(db, select(WelfareAlert.acknowledged_at)) == [(None,)]
