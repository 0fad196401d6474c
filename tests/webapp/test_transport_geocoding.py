"""Geocoding: geopy's BAN adapter against a local stand-in of the national address service
(the real one is on the internet, out of reach here), the cache and the commune fallback."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from scheduling.transport_models import GeocodeEntry, GeocodeSource
from tests.webapp.transport_fixtures import FakeGeocoder
from webapp.geocoding import (
    BanGeocoder,
    GeocoderUnavailable,
    locate_address,
    save_typed_coordinates,
)

# What api-adresse.data.gouv.fr answers (GeoJSON, longitude first), trimmed.
LALINDE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [0.7391, 44.8373]},
            "properties": {"label": "3 Rue des Tilleuls 24150 Lalinde", "score": 0.93},
        }
    ],
}


class _BanStandIn(BaseHTTPRequestHandler):
    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query).get("q", [""])[0]
        _BanStandIn.asked.append(query)
        if "panne" in query:
            self.send_response(503)
            self.end_headers()
            return
        body = LALINDE if "Tilleuls" in query else {"type": "FeatureCollection", "features": []}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def ban() -> Iterator[BanGeocoder]:
    server = HTTPServer(("127.0.0.1", 0), _BanStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield BanGeocoder(domain=f"127.0.0.1:{server.server_port}", scheme="http", timeout=2)
    server.shutdown()


def test_the_ban_adapter_reads_the_services_answer(ban: BanGeocoder) -> None:
    assert ban.locate("3 rue des Tilleuls, 24150 Lalinde") == (44.8373, 0.7391)
    assert ban.locate("Lieu-dit Nulle Part, 24150 Lalinde") is None
    assert _BanStandIn.asked[-2:] == [
        "3 rue des Tilleuls, 24150 Lalinde",
        "Lieu-dit Nulle Part, 24150 Lalinde",
    ]


def test_a_service_in_trouble_is_unavailable_not_an_answer(ban: BanGeocoder) -> None:
    with pytest.raises(GeocoderUnavailable):
        ban.locate("service en panne")


class _Down:
    def __init__(self) -> None:
        self.calls = 0

    def locate(self, address: str) -> tuple[float, float] | None:
        self.calls += 1
        raise GeocoderUnavailable("hors ligne")


def test_addresses_are_looked_up_once_misses_included_and_fall_back_to_the_commune(
    db: Any, centre: Any, make_person: Callable[..., Any], make_commune: Callable[..., Any]
) -> None:
    now = dt.datetime(2026, 11, 22, 9)
    commune = make_commune(name="Lalinde", lat=44.8368, lon=0.7378)
    person = make_person(commune=commune, lat=None, lon=None)
    fake = FakeGeocoder({"3 rue des Tilleuls, 24150 Lalinde": (44.8373, 0.7391)})

    found = locate_address(db, fake, centre.id, "3 rue des Tilleuls, 24150 Lalinde", person, now)
    assert (found.lat, found.lon, found.source, found.located) == (
        44.8373,
        0.7391,
        GeocodeSource.ban,
        True,
    )
    missing = locate_address(db, fake, centre.id, "Nulle Part", person, now)
    assert (missing.lat, missing.lon, missing.located) == (44.8368, 0.7378, False)
    assert missing.source is GeocodeSource.commune
    for address in ("3 rue des Tilleuls, 24150 Lalinde", "Nulle Part"):
        locate_address(db, fake, centre.id, address, person, now)
    assert fake.asked == ["3 rue des Tilleuls, 24150 Lalinde", "Nulle Part"]

    # An unreachable service is asked again next time: nothing is cached.
    down = _Down()
    for _ in range(2):
        place = locate_address(db, down, centre.id, "Le Bourg", person, now)
        assert not place.located
    assert down.calls == 2

    # Coordinates typed by the coordinator win over the service's miss.
    save_typed_coordinates(db, centre.id, "Nulle Part", 44.85, 0.70, now)
    typed = locate_address(db, fake, centre.id, "Nulle Part", person, now)
    assert (typed.lat, typed.lon, typed.source, typed.located) == (
        44.85,
        0.70,
        GeocodeSource.manual,
        True,
    )
    entries = db.scalars(select(GeocodeEntry).where(GeocodeEntry.centre_id == centre.id)).all()
    assert len(entries) == 2
    db.rollback()
