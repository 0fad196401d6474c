"""Sign-in throttling (Flask-Limiter): per account name and per address, in memory and in Redis;
secure cookies and HSTS."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from scheduling.models import User
from tests.webapp.conftest import PASSWORD, csrf_token, post, sign_in, text_of
from webapp import auth, create_app

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

REDIS_URL = os.environ.get("NAVETTE_TEST_REDIS", "redis://127.0.0.1:6379/0")
THROTTLED = "Trop d'essais manqués pour ce compte ou depuis cet appareil"


def from_address(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_five_failures_throttle_the_account_even_with_the_right_password(client, world):
    for _ in range(5):
        response = sign_in(client, "aidante", "mauvais")
        assert response.status_code == 200
        assert "Identifiant ou mot de passe incorrect." in text_of(response)
    response = sign_in(client, "Aidante", PASSWORD)  # the name counts whatever its case
    assert response.status_code == 429
    page = text_of(response)
    assert THROTTLED in page
    assert "Mot de passe oublié ?" in page
    assert 'value="Aidante"' in response.get_data(as_text=True)  # what was typed is kept
    assert client.get("/reservations").status_code == 302  # not signed in
    # Another account from the same address still signs in.
    assert sign_in(client, "autre-aidant", PASSWORD).status_code == 302


def test_an_unknown_account_is_throttled_the_same_way(client, world):
    for _ in range(5):
        response = sign_in(client, "personne-inconnue", "mauvais")
        assert "Identifiant ou mot de passe incorrect." in text_of(response)
    response = sign_in(client, "personne-inconnue", "mauvais")
    assert response.status_code == 429
    assert THROTTLED in text_of(response)


def wrong_tries_from(client, addresses, username: str = "aidante"):
    return [
        post(client, "/connexion", {"username": username, "password": "mauvais"}, **from_address(a))
        for a in addresses
    ]


def test_strangers_elsewhere_cannot_lock_the_owner_out(client, world):
    """Five wrong tries for an account from one address block that address for that account
    only: its owner, on their own device, still signs in."""
    assert all(r.status_code == 200 for r in wrong_tries_from(client, ["10.0.0.1"] * 5))
    blocked = wrong_tries_from(client, ["10.0.0.1"])[0]
    assert blocked.status_code == 429
    assert THROTTLED in text_of(blocked)
    response = post(
        client,
        "/connexion",
        {"username": "aidante", "password": PASSWORD},
        **from_address("10.0.9.9"),
    )
    assert response.status_code == 302


def test_the_account_limit_holds_from_every_address_together(app, client, world):
    app.config["SIGN_IN_ACCOUNT_LIMIT"] = "6 per 10 minutes"
    tries = wrong_tries_from(client, [f"10.0.0.{index}" for index in range(6)])
    assert all(r.status_code == 200 for r in tries)
    response = post(
        client,
        "/connexion",
        {"username": "aidante", "password": PASSWORD},
        **from_address("10.0.9.9"),
    )
    assert response.status_code == 429
    assert THROTTLED in text_of(response)
    # Another account is not affected.
    assert sign_in(client, "autre-aidant", PASSWORD).status_code == 302


def test_ipv6_visitors_are_counted_by_their_64_network(app, client, world):
    """Changing the last 64 bits of an IPv6 address (every home and phone has 2**64 of them)
    does not give new tries; another /64 is another visitor."""
    app.config["SIGN_IN_ADDRESS_LIMIT"] = "3 per 10 minutes"
    same_network = [f"2001:db8:1:2::{index}" for index in range(1, 4)]
    assert all(r.status_code == 200 for r in wrong_tries_from(client, same_network, "x"))
    assert wrong_tries_from(client, ["2001:db8:1:2:ffff::9"], "y")[0].status_code == 429
    assert wrong_tries_from(client, ["2001:db8:1:3::1"], "y")[0].status_code == 200


@pytest.mark.parametrize("spread", [False, True], ids=["one-account", "many-names"])
def test_simultaneous_wrong_tries_cannot_overrun_the_limit(app, world, monkeypatch, spread):
    """Eight wrong passwords sent at the same moment, for one account or for eight names from
    one address: at most five are looked at (places are taken before the password is checked,
    atomically)."""
    if spread:
        app.config["SIGN_IN_ADDRESS_LIMIT"] = "5 per 10 minutes"
    checked: list[str] = []
    real_check = auth.check_password_hash

    def counting_check(stored: str, password: str) -> bool:
        checked.append(password)
        return real_check(stored, password)

    monkeypatch.setattr(auth, "check_password_hash", counting_check)
    clients = [app.test_client() for _ in range(8)]
    tokens = [csrf_token(c) for c in clients]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def attempt(c, token: str) -> None:
        start.wait()
        name = f"nom-{token[-8:]}" if spread else "aidante"
        data = {"csrf_token": token, "username": name, "password": "mauvais"}
        statuses.append(c.post("/connexion", data=data).status_code)

    threads = [
        threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 5 + [429] * 3
    assert len(checked) == 5


def test_a_deactivated_account_checks_a_password_hash_like_any_other(
    app, client, world, db, monkeypatch
):
    """Without hashing, a deactivated account answered in 4 ms instead of 80: exactly one hash
    is checked for an unknown, a deactivated and a usable account alike."""
    checked: list[str] = []
    real_check = auth.check_password_hash

    def counting_check(stored: str, password: str) -> bool:
        checked.append(stored)
        return real_check(stored, password)

    monkeypatch.setattr(auth, "check_password_hash", counting_check)
    user = db.get(User, world.carer.id)
    user.active = False
    db.commit()
    response = sign_in(client, "aidante", PASSWORD)
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect." in text_of(response)
    assert checked == [auth._UNKNOWN_ACCOUNT_HASH]
    sign_in(client, "personne-inconnue", "mauvais")
    sign_in(client, "autre-aidant", "mauvais")
    assert len(checked) == 3


def test_one_address_trying_many_names_is_throttled_too(app, client, world):
    app.config["SIGN_IN_ADDRESS_LIMIT"] = "3 per 10 minutes"
    for name in ("a", "b", "c"):
        response = post(
            client, "/connexion", {"username": name, "password": "x"}, **from_address("10.1.1.1")
        )
        assert response.status_code == 200
    response = post(
        client,
        "/connexion",
        {"username": "aidante", "password": PASSWORD},
        **from_address("10.1.1.1"),
    )
    assert response.status_code == 429
    # Someone else, elsewhere, is not affected.
    response = post(
        client,
        "/connexion",
        {"username": "aidante", "password": PASSWORD},
        **from_address("10.2.2.2"),
    )
    assert response.status_code == 302


def test_successful_sign_ins_do_not_count(app, client, world):
    """Neither for the account nor for the address (a whole centre behind one address)."""
    app.config["SIGN_IN_ADDRESS_LIMIT"] = "3 per 10 minutes"
    for _ in range(7):
        assert sign_in(client, "aidante").status_code == 302
        post(client, "/deconnexion")


def test_the_visitor_address_comes_from_the_trusted_proxy(db_url, world):
    """Behind nginx (NAVETTE_TRUSTED_PROXIES=1) each visitor has a count, not 127.0.0.1."""
    app = create_app(
        {"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "x", "TRUSTED_PROXIES": 1}
    )
    app.config["SIGN_IN_ADDRESS_LIMIT"] = "2 per 10 minutes"
    client = app.test_client()
    for name in ("a", "b"):
        headers = {"X-Forwarded-For": "203.0.113.7"}
        post(client, "/connexion", {"username": name, "password": "x"}, headers=headers)
    headers = {"X-Forwarded-For": "203.0.113.7"}
    blocked = post(client, "/connexion", {"username": "c", "password": "x"}, headers=headers)
    assert blocked.status_code == 429
    headers = {"X-Forwarded-For": "198.51.100.4"}
    other = post(client, "/connexion", {"username": "c", "password": "x"}, headers=headers)
    assert other.status_code == 200
    app.extensions["navette_engine"].dispose()


# --- Redis: the counts are shared by every worker -------------------------------------------


@pytest.fixture
def redis_url() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis injoignable sur {REDIS_URL} : {error}")
        pytest.skip(f"Redis injoignable sur {REDIS_URL}")
    yield REDIS_URL
    client.close()


def _worker(db_url: str, redis_url: str, prefix: str) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "clé-de-test",
            "RATELIMIT_STORAGE_URI": redis_url,
            # A prefix of its own: other test runs may share this Redis.
            "RATELIMIT_KEY_PREFIX": prefix,
        }
    )


def test_two_workers_share_the_failure_count_in_redis(db_url, world, redis_url):
    import redis

    prefix = f"navette-test-{uuid.uuid4().hex}"
    first, second = _worker(db_url, redis_url, prefix), _worker(db_url, redis_url, prefix)
    try:
        one, two = first.test_client(), second.test_client()
        for _ in range(3):
            assert sign_in(one, "aidante", "mauvais").status_code == 200
        for _ in range(2):
            assert sign_in(two, "aidante", "mauvais").status_code == 200
        response = sign_in(one, "aidante", PASSWORD)
        assert response.status_code == 429
        assert THROTTLED in text_of(response)
        # The counts really live in Redis, under the deployment's prefix.
        store = redis.Redis.from_url(redis_url)
        keys = store.keys(f"*{prefix}*")
        assert keys, "aucun compteur dans Redis"
        store.delete(*keys)
        store.close()
    finally:
        for app in (first, second):
            app.extensions["navette_engine"].dispose()


def test_successes_give_their_address_place_back_in_redis_too(db_url, world, redis_url):
    import redis

    prefix = f"navette-test-{uuid.uuid4().hex}"
    app = _worker(db_url, redis_url, prefix)
    app.config["SIGN_IN_ADDRESS_LIMIT"] = "2 per 10 minutes"
    try:
        client = app.test_client()
        for _ in range(4):
            assert sign_in(client, "aidante").status_code == 302
            post(client, "/deconnexion")
        assert sign_in(client, "x", "mauvais").status_code == 200
        assert sign_in(client, "y", "mauvais").status_code == 200
        assert sign_in(client, "aidante").status_code == 429
    finally:
        store = redis.Redis.from_url(redis_url)
        keys = store.keys(f"*{prefix}*")
        if keys:
            store.delete(*keys)
        store.close()
        app.extensions["navette_engine"].dispose()


# --- cookies and headers ---------------------------------------------------------------------


def test_cookies_are_secure_and_hsts_is_sent_by_default(client, world):
    response = sign_in(client, "aidante")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert client.get("/").headers["Strict-Transport-Security"] == "max-age=31536000"


def test_insecure_cookies_only_when_asked_for_local_http(db_url, world, monkeypatch):
    monkeypatch.setenv("NAVETTE_INSECURE_COOKIES", "1")
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "x"})
    client = app.test_client()
    response = sign_in(client, "aidante")
    assert response.status_code == 302
    assert "Secure" not in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in client.get("/").headers
    app.extensions["navette_engine"].dispose()


def test_sign_in_goes_on_when_redis_does_not_answer(db_url, world):
    """A Redis outage must not lock everybody out: counting falls back to the process's memory."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "x",
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    )
    client = app.test_client()
    assert sign_in(client, "aidante").status_code == 302
    post(client, "/deconnexion")
    for _ in range(5):
        assert sign_in(client, "aidante", "mauvais").status_code == 200
    assert sign_in(client, "aidante", PASSWORD).status_code == 429  # still limited
    app.extensions["navette_engine"].dispose()


def test_a_test_config_may_ask_for_insecure_cookies(db_url, world):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "x", "INSECURE_COOKIES": True}
    )
    response = sign_in(app.test_client(), "aidante")
    assert response.status_code == 302
    assert "Secure" not in response.headers["Set-Cookie"]
    app.extensions["navette_engine"].dispose()
