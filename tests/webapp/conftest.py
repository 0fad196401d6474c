"""Web fixtures: the app on a migrated test database, a client, sign-in helpers, an SMTP sink.

CSRF protection stays ON (as in production): `csrf_token(client)` reads the token from a page,
and `post(client, url, data)` adds it. Tests that check the CSRF refusal simply leave it out.
"""

from __future__ import annotations

import email
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from webapp import create_app

PASSWORD = "mot-de-passe-solide"
CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class _Capture:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    controller: Controller
    capture: _Capture

    @property
    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.content, policy=policy.default)  # type: ignore[misc]
            for e in self.capture.envelopes
        ]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on a free local port (aiosmtpd cannot be given port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    capture = _Capture()
    controller = Controller(capture, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpSink(controller, capture)
    controller.stop()


@pytest.fixture
def app(db_url: str, smtp_sink: SmtpSink) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "clé-de-test",
            "MAIL_SERVER": smtp_sink.controller.hostname,
            "MAIL_PORT": smtp_sink.controller.port,
            "MAIL_DEFAULT_SENDER": "navette@crt.example",
            "SERVER_NAME": "navette.test",
        }
    )
    yield app
    app.extensions["navette_engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient, url: str = "/connexion") -> str:
    """The CSRF token of this client's session, read from a page that has a form."""
    page = client.get(url).get_data(as_text=True)
    found = CSRF_PATTERN.search(page)
    assert found, f"pas de jeton CSRF dans {url}"
    return found.group(1)


def post(
    client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any
) -> TestResponse:
    """POST a form with this session's CSRF token, like a browser would."""
    token = csrf_token(client, "/" if _signed_in(client) else "/connexion")
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)


def _signed_in(client: FlaskClient) -> bool:
    with client.session_transaction() as web_session:
        return "_user_id" in web_session


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> TestResponse:
    return post(client, "/connexion", {"username": username, "password": password})


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., TestResponse]:
    def do(user: Any, password: str = PASSWORD) -> TestResponse:
        response = sign_in(client, user.username, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return do


def text_of(response: TestResponse) -> str:
    """The page's text with tags removed and spaces collapsed, for plain assertions."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    import html as html_lib

    return re.sub(r"\s+", " ", html_lib.unescape(text)).strip()


def read(db: Any, query_or_model: Any, ident: Any = None) -> Any:
    """Read fresh rows with the test's session, then end its transaction.

    On SQLite every transaction begins with BEGIN IMMEDIATE (see scheduling.db): a test that
    left one open would block the app's next write. Objects stay usable after the commit.
    """
    db.expire_all()
    if ident is not None:
        result = db.get(query_or_model, ident)
    else:
        result = db.scalars(query_or_model).all()
    db.commit()
    return result


@dataclass
class World:
    """A small territory: a carer who helps two persons, another carer, and one session."""

    centre: Any
    commune: Any
    far_commune: Any
    person: Any
    other_person: Any
    stranger: Any
    carer: Any
    other_carer: Any
    session: Any


@pytest.fixture
def world(
    db: Any,
    centre: Any,
    make_commune: Callable[..., Any],
    make_person: Callable[..., Any],
    make_user: Callable[..., Any],
    make_session: Callable[..., Any],
    make_venue: Callable[..., Any],
) -> World:
    commune = make_commune(name="Lalinde", postcode="24150", insee="24229", lat=44.8368, lon=0.7378)
    far = make_commune(name="Eymet", postcode="24500", insee="24167", lat=44.6686, lon=0.3989)
    person = make_person(
        first_name="Jeanne", last_name="Delmas", commune=commune, address="3 rue des Tilleuls"
    )
    other = make_person(first_name="Louis", last_name="Roux", commune=far, address="Le Bourg")
    stranger = make_person(first_name="Paul", last_name="Faure", commune=far)
    carer = make_user(
        username="aidante",
        display_name="Marie Delmas",
        email="marie@example.org",
        password=PASSWORD,
        helped_persons=[person, other],
    )
    other_carer = make_user(
        username="autre-aidant",
        display_name="Henri Faure",
        email="henri@example.org",
        password=PASSWORD,
        helped_persons=[stranger],
    )
    venue = make_venue(
        name="Salle des fêtes de Lalinde", commune=commune, address="Place de la mairie"
    )
    session = make_session(venue=venue, seats=5, wheelchair_places=1, transport_offered=True)
    # Load what tests read, then end the transaction (a lazy load would leave one open).
    _ = (session.activity.title, session.venue.commune, person.commune, other.commune)
    db.commit()
    return World(centre, commune, far, person, other, stranger, carer, other_carer, session)
