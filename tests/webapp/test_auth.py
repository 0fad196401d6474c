"""Sign-in, sign-out, password change, rate limiting, role checks and CSRF."""

from __future__ import annotations

import pytest

from tests.webapp.conftest import PASSWORD, csrf_token, post, sign_in, text_of

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_sign_in_then_out(client, world):
    response = sign_in(client, "aidante")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/reservations")
    page = text_of(client.get("/reservations"))
    assert "Mes réservations" in page
    assert "Marie Delmas" in page

    response = post(client, "/deconnexion")
    assert response.status_code == 302
    assert client.get("/reservations").status_code == 302  # back to the sign-in page


def test_wrong_password_says_so_in_french_and_keeps_the_user_name(client, world):
    response = sign_in(client, "aidante", "pas-le-bon")
    assert response.status_code == 200
    page = text_of(response)
    assert "Identifiant ou mot de passe incorrect." in page
    assert 'value="aidante"' in response.get_data(as_text=True)


def test_empty_fields_get_a_message_next_to_them(client, world):
    response = post(client, "/connexion", {"username": "", "password": ""})
    page = text_of(response)
    assert "Indiquez votre identifiant." in page
    assert "Indiquez votre mot de passe." in page


def test_sign_in_is_rate_limited_after_repeated_failures(client, world):
    for _ in range(5):
        assert sign_in(client, "aidante", "mauvais").status_code == 200
    response = sign_in(client, "aidante", PASSWORD)  # even the right password waits now
    assert response.status_code == 429
    assert "Trop d'essais" in text_of(response)


def test_next_parameter_cannot_send_the_user_elsewhere(client, world):
    token = csrf_token(client)
    response = client.post(
        "/connexion?next=https://evil.example/",
        data={"csrf_token": token, "username": "aidante", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_password_change(client, world, login):
    login(world.carer)
    response = post(
        client,
        "/mot-de-passe",
        {
            "current_password": PASSWORD,
            "new_password": "un-nouveau-secret",
            "confirm_password": "un-nouveau-secret",
        },
    )
    assert response.status_code == 302
    post(client, "/deconnexion")
    assert sign_in(client, "aidante", PASSWORD).status_code == 200  # old one refused
    assert sign_in(client, "aidante", "un-nouveau-secret").status_code == 302


def test_password_change_errors_are_next_to_the_fields(client, world, login):
    login(world.carer)
    response = post(
        client,
        "/mot-de-passe",
        {"current_password": "faux", "new_password": "court", "confirm_password": "autre"},
    )
    page = text_of(response)
    assert "doit faire au moins 10 caractères" in page
    assert "ne sont pas identiques" in page
    response = post(
        client,
        "/mot-de-passe",
        {
            "current_password": "faux",
            "new_password": "assez-long-oui",
            "confirm_password": "assez-long-oui",
        },
    )
    assert "Ce n'est pas votre mot de passe actuel." in text_of(response)


def test_missing_csrf_token_gives_a_friendly_400(client, world):
    response = client.post("/connexion", data={"username": "aidante", "password": PASSWORD})
    assert response.status_code == 400
    page = text_of(response)
    assert "Rien n’a été enregistré" in page
    assert "Traceback" not in page


def test_a_carer_cannot_open_the_animation_pages(client, world, login):
    login(world.carer)
    response = client.get("/animation/")
    assert response.status_code == 403
    assert "Accès non autorisé" in text_of(response)


def test_an_inactive_account_cannot_sign_in(client, world, db):
    world.carer.active = False
    db.commit()
    assert sign_in(client, "aidante").status_code == 200


def test_unknown_pages_and_methods_answer_in_french(client, world):
    assert "Page introuvable" in text_of(client.get("/nulle-part"))
    response = client.get("/deconnexion")
    assert response.status_code == 405
    assert "Action impossible" in text_of(response)


def test_user_name_is_not_case_sensitive(client, world):
    assert sign_in(client, "  Aidante ").status_code == 302
