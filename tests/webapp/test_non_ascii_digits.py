"""Numbers read from an address or a form: '²' or Arabic-Indic digits pass `str.isdigit()` but
`int()` refuses them; they are read as no number, never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from scheduling.models import CalendarToken, Role
from tests.webapp.conftest import PASSWORD, post
from webapp.forms import parse_whole_number

SUPERSCRIPT_TWO = "²"
ARABIC_INDIC_SEVEN = "\u0667"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("0", 0),
        (SUPERSCRIPT_TWO, None),
        (ARABIC_INDIC_SEVEN, None),
        ("1" + SUPERSCRIPT_TWO, None),
        ("-3", None),
        (" 4", None),
        ("", None),
        (None, None),
        ("9" * 40, None),
    ],
)
def test_parse_whole_number(text, expected):
    assert parse_whole_number(text) == expected


def test_parse_whole_number_respects_the_maximum():
    assert parse_whole_number("99999", maximum=99_999) == 99_999
    assert parse_whole_number("100000", maximum=99_999) is None


@pytest.fixture
def staff(make_user, world, login, client):
    def sign_in_as(role: Role):
        user = make_user(username=f"staff-{role.value}", role=role, password=PASSWORD)
        login(user, PASSWORD)
        return user

    return sign_in_as


def test_journal_page_number(client, staff):
    staff(Role.admin)
    for page in (SUPERSCRIPT_TWO, ARABIC_INDIC_SEVEN, "9" * 40):
        assert client.get("/admin/journal", query_string={"page": page}).status_code == 200


def test_transport_day_reload_counter(client, staff):
    staff(Role.coordinator)
    response = client.get("/transport/jour/2026-11-23", query_string={"maj": SUPERSCRIPT_TWO})
    assert response.status_code == 200


def test_calendar_person_choice(client, staff):
    staff(Role.coordinator)
    response = client.get("/calendrier/personnes", query_string={"person_id": SUPERSCRIPT_TWO})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/calendrier")


def test_calendar_back_after_revoking(client, staff, db):
    user = staff(Role.coordinator)
    assert post(client, "/calendrier/creer", {"kind": "animator"}).status_code == 302
    token_id = db.scalar(select(CalendarToken.id).where(CalendarToken.user_id == user.id))
    db.rollback()  # end the read: SQLite would keep the app from writing
    response = post(client, f"/calendrier/{token_id}/revoquer", {"person_id": SUPERSCRIPT_TWO})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/calendrier")
