"""No time limit on any form (WCAG 2.2.1): a form left open for days is still accepted.

The CSRF token is the only thing that could expire; it is signed with a timestamp. A token
signed three days ago must pass, while a forged one is still refused.
"""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient
from itsdangerous.timed import TimestampSigner

from tests.webapp.conftest import csrf_token

THREE_DAYS = 3 * 24 * 3600


def test_a_form_opened_three_days_ago_is_still_accepted(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        TimestampSigner, "get_timestamp", lambda _self: int(time.time()) - THREE_DAYS
    )
    token = csrf_token(client)  # the sign-in page, shown three days ago
    monkeypatch.undo()
    response = client.post(
        "/connexion", data={"csrf_token": token, "username": "personne", "password": "faux"}
    )
    assert response.status_code == 200  # the form answers about the password, not the token
    assert "Identifiant" in response.get_data(as_text=True)


def test_a_forged_token_is_still_refused(client: FlaskClient) -> None:
    csrf_token(client)
    response = client.post(
        "/connexion", data={"csrf_token": "faux-jeton", "username": "personne", "password": "x"}
    )
    assert response.status_code == 400
