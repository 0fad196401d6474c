"""Roster of a session, its PDF sign-in sheet, and attendance."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from scheduling.models import Booking, BookingStatus
from tests.webapp import animation_fixtures
from tests.webapp.conftest import post, read, text_of

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

# Shared fixtures, made visible to pytest in this module.
animator = animation_fixtures.animator
as_animator = animation_fixtures.as_animator


def centre_today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Europe/Paris")).date()


def pdf_text(pdf: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        reason = "pdftotext absent (poppler-utils) : lancez bash scripts/setup.sh --dev"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    path = tmp_path / "feuille.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode()


def test_roster_lists_who_comes_how_and_their_phone(client, world, as_animator, make_booking, db):
    make_booking(
        world.session,
        person=world.person,
        companions=1,
        transport_out=True,
        transport_back=True,
        pickup_address="3 rue des Tilleuls, 24150 Lalinde",
    )
    make_booking(world.session, person=world.other_person)
    page = text_of(client.get(f"/animation/seances/{world.session.id}"))
    assert "2 personnes inscrites, 3 places occupées sur 5" in page
    assert "DELMAS Jeanne" in page and "ROUX Louis" in page
    assert world.person.phone in page
    assert "aller et retour 3 rue des Tilleuls, 24150 Lalinde" in page
    assert "Se déplace seul(e)" in page


def test_sign_in_sheet_is_a_pdf_with_the_names(client, world, as_animator, make_booking, tmp_path):
    make_booking(world.session, person=world.person)
    response = client.get(f"/animation/seances/{world.session.id}/emargement.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    text = pdf_text(response.data, tmp_path)
    assert "DELMAS Jeanne" in text
    assert "Signature" in text
    assert "Page 1 / 1" in text
    assert "1 inscrit, 1 place avec les accompagnants" in " ".join(text.split())


def test_a_long_sheet_repeats_its_header_on_each_page(
    client, world, as_animator, make_booking, make_session, make_person, tmp_path
):
    big = make_session(seats=60, venue=world.session.venue)
    for _ in range(40):
        make_booking(big, person=make_person(commune=world.commune))
    text = pdf_text(client.get(f"/animation/seances/{big.id}/emargement.pdf").data, tmp_path)
    pages = text.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) >= 2
    assert all("Nom et prénom" in p and "Signature" in p for p in pages)
    assert f"Page {len(pages)} / {len(pages)}" in pages[-1]


def test_attendance_is_taken_on_the_day(client, world, as_animator, make_booking, make_session, db):
    today = make_session(
        starts_at=dt.datetime.combine(centre_today(), dt.time(0, 1)), venue=world.session.venue
    )
    came = make_booking(today, person=world.person)
    excused = make_booking(today, person=world.other_person)
    absent = make_booking(today, person=world.stranger)
    ids, today_id = (came.id, excused.id, absent.id), today.id
    page = client.get(f"/animation/seances/{today_id}").get_data(as_text=True)
    assert f'name="presence-{ids[0]}"' in page

    response = post(
        client,
        f"/animation/seances/{today_id}/presences",
        {
            f"presence-{ids[0]}": "present",
            f"presence-{ids[1]}": "excused",
            f"presence-{ids[2]}": "absent",
        },
    )
    assert response.status_code == 302
    assert "Appel enregistré : 1 présent sur 3." in text_of(
        client.get(response.headers["Location"])
    )
    statuses = {b.id: b.status for b in read(db, select(Booking).where(Booking.id.in_(ids)))}
    assert statuses == {
        ids[0]: BookingStatus.attended,
        ids[1]: BookingStatus.excused,
        ids[2]: BookingStatus.no_show,
    }
    page = client.get(f"/animation/seances/{today_id}").get_data(as_text=True)
    assert 'value="excused" checked' in page  # the roster shows what was recorded

    marks = {f"presence-{i}": "present" for i in ids[:2]} | {f"presence-{ids[2]}": "absent"}
    response = post(client, f"/animation/seances/{today_id}/presences", marks)
    assert "Appel enregistré : 2 présents sur 3." in text_of(
        client.get(response.headers["Location"])
    )


def test_attendance_before_the_day_is_refused(client, world, as_animator, make_booking, db):
    booking = make_booking(world.session, person=world.person)
    booking_id, session_id = booking.id, world.session.id
    page = text_of(client.get(f"/animation/seances/{session_id}"))
    assert "L'appel (présent, excusé, absent) se fait le jour de la séance." in page
    response = post(
        client, f"/animation/seances/{session_id}/presences", {f"presence-{booking_id}": "present"}
    )
    assert "L'appel se fait le jour de la séance." in text_of(
        client.get(response.headers["Location"])
    )
    assert read(db, Booking, booking_id).status is BookingStatus.confirmed


def test_unreadable_attendance_changes_nothing(client, world, as_animator, make_booking, db):
    booking = make_booking(world.session, person=world.person)
    booking_id, session_id = booking.id, world.session.id
    response = post(
        client,
        f"/animation/seances/{session_id}/presences",
        {f"presence-{booking_id}": "peut-être"},
    )
    assert response.status_code == 302
    assert read(db, Booking, booking_id).status is BookingStatus.confirmed


@pytest.mark.parametrize("key", ["presence-²", "presence-٣", "presence-99999999999999999999999"])
def test_a_forged_attendance_key_is_refused_kindly(client, world, as_animator, make_booking, key):
    make_booking(world.session, person=world.person)
    url = f"/animation/seances/{world.session.id}/presences"
    response = post(client, url, {key: "present"})
    assert response.status_code == 302
    assert "Réponse d'appel illisible" in text_of(client.get(response.headers["Location"]))
