"""« Mot de passe oublié ? »: a signed, single-use, time-limited link sent by e-mail (real SMTP
sink), the same answer whether an account matches or not, rate limits."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select

from scheduling.audit import AuditEntry, AuditKind
from scheduling.models import Role, User
from tests.webapp.conftest import PASSWORD, csrf_token, post, read, sign_in, text_of

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

LINK = re.compile(r"https?://[^/\s]+(/mot-de-passe-oublie/\S+)")
SENT = "Si un compte correspond à ce que vous avez indiqué, un e-mail vient de partir"
NEW_PASSWORD = "un-tout-nouveau-secret"


def wait_for_mail(smtp_sink, address: str, count: int = 1):
    """The reset e-mail leaves from a background thread: wait (bounded) until it arrives."""
    arrived = threading.Event()
    for _ in range(100):
        if len(smtp_sink.to(address)) >= count:
            break
        arrived.wait(0.1)
    messages = smtp_sink.to(address)
    assert len(messages) >= count, f"aucun e-mail pour {address}"
    return messages


def reset_link(smtp_sink, address: str) -> str:
    body = wait_for_mail(smtp_sink, address)[-1].get_content()
    found = LINK.search(body)
    assert found, body
    return found.group(1)


def ask(client, typed: str):
    return post(client, "/mot-de-passe-oublie", {"username": typed})


def choose(client, path: str, password: str = NEW_PASSWORD, again: str | None = None):
    data = {"new_password": password, "confirm_password": again or password}
    token = csrf_token(client, "/mot-de-passe-oublie")
    return client.post(path, data={"csrf_token": token, **data})


def test_the_sign_in_page_links_to_the_forgotten_password_form(client, world):
    page = client.get("/connexion").get_data(as_text=True)
    assert 'href="/mot-de-passe-oublie"' in page
    form = text_of(client.get("/mot-de-passe-oublie"))
    assert "Identifiant ou adresse e-mail" in form
    assert "Appelez le centre" in form  # for accounts without an e-mail address


def test_full_reset_by_account_name(client, world, smtp_sink, db):
    response = ask(client, "Aidante")
    assert response.status_code == 200
    assert SENT in text_of(response)
    message = wait_for_mail(smtp_sink, "marie@example.org")[0]
    assert message["Subject"] == "Navette : choisir un nouveau mot de passe"
    body = message.get_content()
    assert "« aidante »" in body
    assert "60 minutes" in body
    path = reset_link(smtp_sink, "marie@example.org")

    page = client.get(path)
    assert page.status_code == 200
    assert "Choisir un nouveau mot de passe" in text_of(page)
    response = choose(client, path)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/connexion")
    assert "Votre mot de passe est changé" in text_of(client.get("/connexion"))

    assert sign_in(client, "aidante", PASSWORD).status_code == 200  # the old one is refused
    assert sign_in(client, "aidante", NEW_PASSWORD).status_code == 302
    post(client, "/deconnexion")

    # The link served once: it is dead now, and says what to do.
    again = client.get(path)
    assert again.status_code == 400
    assert "Ce lien ne marche plus" in text_of(again)
    assert choose(client, path, "encore-un-autre-secret").status_code == 400
    assert sign_in(client, "aidante", NEW_PASSWORD).status_code == 302


def test_reset_by_e_mail_address(client, world, smtp_sink):
    assert SENT in text_of(ask(client, "  MARIE@example.org "))
    assert LINK.search(wait_for_mail(smtp_sink, "marie@example.org")[0].get_content())


def test_same_answer_whether_the_account_exists_or_not(client, world, smtp_sink, make_user, db):
    make_user(username="sans-courriel", email=None, password=PASSWORD)
    unknown = text_of(ask(client, "personne-de-ce-nom"))
    no_mail = text_of(ask(client, "sans-courriel"))
    known = text_of(ask(client, "autre-aidant"))
    assert unknown == no_mail == known
    assert SENT in known
    assert "appelez le centre" in known  # the account without an e-mail knows what to do
    # Only the real account with an address got a message (and it has arrived).
    wait_for_mail(smtp_sink, "henri@example.org")
    assert len(smtp_sink.messages) == 1


def test_a_new_password_follows_the_same_rules(client, world, smtp_sink, db):
    ask(client, "aidante")
    path = reset_link(smtp_sink, "marie@example.org")
    response = choose(client, path, "court")
    assert response.status_code == 200
    assert "doit faire au moins 10 caractères" in text_of(response)
    response = choose(client, path, "assez-long-oui", "pas-pareil-non")
    assert "ne sont pas identiques" in text_of(response)
    # Nothing changed: the old password still works and the link still does.
    assert sign_in(client, "aidante", PASSWORD).status_code == 302
    post(client, "/deconnexion")
    assert client.get(path).status_code == 200


def test_an_expired_or_altered_link_is_refused(app, client, world, smtp_sink):
    ask(client, "aidante")
    path = reset_link(smtp_sink, "marie@example.org")
    altered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert client.get(altered).status_code == 400
    app.config["PASSWORD_RESET_MAX_AGE"] = -1  # every link is now older than allowed
    response = client.get(path)
    assert response.status_code == 400
    assert "trop ancien" in text_of(response)


def test_the_link_dies_with_a_password_change_or_a_deactivated_account(
    client, world, smtp_sink, db, login
):
    ask(client, "aidante")
    path = reset_link(smtp_sink, "marie@example.org")
    login(world.carer)
    post(
        client,
        "/mot-de-passe",
        {
            "current_password": PASSWORD,
            "new_password": "changé-à-la-main",
            "confirm_password": "changé-à-la-main",
        },
    )
    post(client, "/deconnexion")
    assert client.get(path).status_code == 400

    ask(client, "autre-aidant")
    path = reset_link(smtp_sink, "henri@example.org")
    user = read(db, User, world.other_carer.id)
    user.active = False
    db.commit()
    assert client.get(path).status_code == 400


def test_reset_requests_are_rate_limited(client, world, smtp_sink):
    for _ in range(3):
        assert ask(client, "aidante").status_code == 200
    response = ask(client, "aidante")
    assert response.status_code == 429
    assert "Trop de demandes en peu de temps" in text_of(response)
    wait_for_mail(smtp_sink, "marie@example.org", count=3)
    assert len(smtp_sink.to("marie@example.org")) == 3


def test_a_reset_lifts_the_sign_in_throttle_of_that_account(client, world, smtp_sink):
    for _ in range(5):
        sign_in(client, "aidante", "mauvais")
    assert sign_in(client, "aidante", PASSWORD).status_code == 429
    ask(client, "aidante")
    path = reset_link(smtp_sink, "marie@example.org")
    assert choose(client, path).status_code == 302
    assert sign_in(client, "aidante", NEW_PASSWORD).status_code == 302


def test_a_foreign_host_header_is_refused_when_hosts_are_set(app, client, world, smtp_sink):
    """With NAVETTE_TRUSTED_HOSTS, nobody can make Navette e-mail a link to another site."""
    app.config["TRUSTED_HOSTS"] = ["navette.test"]
    response = client.post(
        "/mot-de-passe-oublie",
        data={"csrf_token": csrf_token(client, "/mot-de-passe-oublie"), "username": "aidante"},
        headers={"Host": "evil.example"},
    )
    assert response.status_code == 400
    assert "ne correspond pas à ce site" in text_of(response)
    assert SENT in text_of(ask(client, "aidante"))
    body = wait_for_mail(smtp_sink, "marie@example.org")[0].get_content()
    assert "evil.example" not in body
    assert "http://navette.test/mot-de-passe-oublie/" in body


def test_a_new_password_ends_the_account_s_other_sessions(app, client, world, smtp_sink):
    elsewhere = app.test_client()  # say, a tablet left signed in at the centre
    assert sign_in(elsewhere, "aidante").status_code == 302
    assert elsewhere.get("/reservations").status_code == 200
    assert sign_in(client, "aidante").status_code == 302
    response = post(
        client,
        "/mot-de-passe",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert client.get("/reservations").status_code == 200  # the one who changed it stays
    response = elsewhere.get("/reservations")
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]

    # A reset by e-mail ends every session, the tablet's new one included.
    assert sign_in(elsewhere, "aidante", NEW_PASSWORD).status_code == 302
    ask(app.test_client(), "aidante")
    path = reset_link(smtp_sink, "marie@example.org")
    assert choose(app.test_client(), path, "encore-un-autre-secret").status_code == 302
    assert elsewhere.get("/reservations").status_code == 302
    assert client.get("/reservations").status_code == 302


def ask_from_foreign_host(client):
    """The whole exchange (form, cookie, POST) with `Host: evil.example`."""
    url = "http://evil.example/mot-de-passe-oublie"
    return client.post(url, data={"csrf_token": csrf_token(client, url), "username": "aidante"})


def test_the_e_mailed_link_comes_from_the_base_url_never_from_the_host_header(
    app, client, world, smtp_sink
):
    """NAVETTE_BASE_URL set (TRUSTED_HOSTS not): a forged Host header changes nothing."""
    app.config["BASE_URL"] = "https://navette.crt.example/"
    response = ask_from_foreign_host(client)
    assert SENT in text_of(response)
    body = wait_for_mail(smtp_sink, "marie@example.org")[0].get_content()
    assert "evil.example" not in body
    assert "https://navette.crt.example/mot-de-passe-oublie/" in body
    assert choose(client, reset_link(smtp_sink, "marie@example.org")).status_code == 302


def test_a_server_without_base_url_sends_no_reset_link_and_tells_the_operator(
    app, client, world, smtp_sink, caplog
):
    """Neither NAVETTE_BASE_URL nor TRUSTED_HOSTS on a server: the link could point anywhere,
    so no e-mail leaves; the person gets the usual answer, the log says what to set."""
    app.config["TESTING"] = False
    response = ask_from_foreign_host(client)
    assert response.status_code == 200
    assert SENT in text_of(response)
    assert "NAVETTE_BASE_URL" in caplog.text
    # Nothing was handed to the mail thread (the decision is taken before, in the request).
    assert smtp_sink.to("marie@example.org") == []


def test_password_changes_and_resets_are_in_the_audit_log_without_names(
    app, client, world, smtp_sink, db, make_user
):
    def account_entries():
        query = select(AuditEntry).where(AuditEntry.kind == AuditKind.account)
        return read(db, query.order_by(AuditEntry.id))

    assert sign_in(client, "aidante").status_code == 302
    data = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    assert post(client, "/mot-de-passe", data).status_code == 302
    post(client, "/deconnexion")
    ask(client, "aidante")
    assert (
        choose(client, reset_link(smtp_sink, "marie@example.org"), "encore-un-secret").status_code
        == 302
    )
    changed, reset = account_entries()
    assert (changed.action, changed.object_id) == ("account.password_changed", world.carer.id)
    assert changed.actor_id == world.carer.id
    assert (reset.action, reset.object_id) == ("account.password_reset", world.carer.id)
    assert "Mot de passe oublié" in reset.summary
    for entry in (changed, reset):
        assert entry.centre_id == world.carer.centre_id
        for name in ("aidante", "Marie", "Delmas", "marie@example.org"):
            assert name not in entry.summary
    admin = make_user(username="admin", role=Role.admin, password=PASSWORD)
    assert sign_in(client, admin.username).status_code == 302
    page = text_of(client.get("/admin/journal", query_string={"quoi": "account"}))
    assert "Mot de passe changé." in page
    assert "Mot de passe choisi depuis le lien" in page
