"""The shell under the pages: one transaction per request, mail fallback, secret key, errors."""

from __future__ import annotations

import logging
import stat

import pytest
from flask import abort
from sqlalchemy import select

from scheduling.models import Centre
from tests.webapp.conftest import post, read, text_of
from webapp import create_app
from webapp.config import secret_key_from_instance
from webapp.db import get_db
from webapp.mail import send_mail

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def shell_app(app):
    """The app with three test-only views that write a centre, then succeed or fail."""

    def write(slug: str) -> None:
        get_db().add(Centre(name="CRT écrit par la requête", slug=slug))
        get_db().flush()

    def ok():
        write("ok")
        return "fait"

    def refused():
        write("refused")
        abort(400)

    def crashes():
        write("crash")
        raise RuntimeError("boom")

    app.add_url_rule("/_test/ok", view_func=ok)
    app.add_url_rule("/_test/refused", view_func=refused)
    app.add_url_rule("/_test/crash", view_func=crashes)
    return app


@sqlite_only
def test_a_successful_request_commits_a_failed_one_rolls_back(shell_app, db):
    client = shell_app.test_client()
    assert client.get("/_test/ok").status_code == 200
    assert client.get("/_test/refused").status_code == 400
    crash = client.get("/_test/crash")
    assert crash.status_code == 500
    assert "Un problème est survenu" in text_of(crash)
    assert "boom" not in text_of(crash) and "Traceback" not in text_of(crash)
    slugs = {c.slug for c in read(db, select(Centre))}
    assert "ok" in slugs
    assert "refused" not in slugs and "crash" not in slugs


@sqlite_only
def test_without_mail_server_messages_go_to_the_log(db_url, caplog):
    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "x", "MAIL_SERVER": None})
    with app.app_context(), caplog.at_level(logging.WARNING):
        send_mail("marie@example.org", "Réservation confirmée", "La place est réservée.")
        body = "Ouvrez ce lien : http://navette.test/mot-de-passe-oublie/jeton-secret"
        send_mail("marie@example.org", "Navette : choisir un nouveau mot de passe", body)
    assert "marie@example.org" in caplog.text
    assert "Réservation confirmée" in caplog.text
    assert "MAIL_SERVER absent" in caplog.text
    # Never the body: personal data, and a reset e-mail's link takes the account over.
    assert "La place est réservée" not in caplog.text
    assert "jeton-secret" not in caplog.text
    app.extensions["navette_engine"].dispose()


@sqlite_only
def test_mail_sent_outside_a_request_reaches_the_smtp_server(app, smtp_sink):
    with app.app_context():
        send_mail("marie@example.org", "Essai", "Bonjour")
    [message] = smtp_sink.to("marie@example.org")
    assert message["Subject"] == "Essai"
    assert message["From"] == "navette@crt.example"


def test_secret_key_is_generated_once_in_the_instance_folder(tmp_path):
    first = secret_key_from_instance(str(tmp_path))
    assert len(first) >= 64
    assert secret_key_from_instance(str(tmp_path)) == first
    mode = (tmp_path / "secret_key").stat().st_mode
    assert not mode & (stat.S_IRGRP | stat.S_IROTH)  # readable by its owner only


@sqlite_only
def test_cancelling_without_csrf_token_is_refused_kindly(client, world, login, make_booking):
    booking = make_booking(world.session, person=world.person)
    login(world.carer)
    response = client.post(f"/reservations/{booking.id}/annuler")
    assert response.status_code == 400
    assert "rechargez la page" in text_of(response)
    ok = post(client, f"/reservations/{booking.id}/annuler")
    assert ok.status_code == 302


@sqlite_only
def test_pages_allow_no_outside_resource(client, world):
    headers = client.get("/").headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


@sqlite_only
def test_a_line_break_in_a_subject_cannot_forge_a_header(app, smtp_sink):
    with app.app_context():
        send_mail("marie@example.org", "Atelier\nBcc: intrus@example.org", "Bonjour")
    [message] = smtp_sink.messages
    assert message["Bcc"] is None
    assert message["Subject"] == "Atelier Bcc: intrus@example.org"
    assert [e.rcpt_tos for e in smtp_sink.capture.envelopes] == [["marie@example.org"]]
