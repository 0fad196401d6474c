"""A small transport territory around Bergerac (real coordinates) for the transport tests.

One venue in Lalinde, homes in four villages, two vehicles at the Bergerac depot, one driver,
a coordinator, and a carer who helps the first passenger. The session is on `TransportWorld.day`
at 14:00-16:00, far enough ahead for bookings to be open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from scheduling.models import Driver, Mobility, Role, Vehicle, VehicleKind
from tests.webapp.conftest import PASSWORD

VILLAGES = {
    # name: (insee, postcode, lat, lon)
    "Lalinde": ("24229", "24150", 44.8368, 0.7378),
    "Mouleydier": ("24294", "24520", 44.8553, 0.5969),
    "Creysse": ("24146", "24100", 44.8561, 0.5608),
    "Couze-et-Saint-Front": ("24143", "24150", 44.8275, 0.7053),
    "Saint-Capraise-de-Lalinde": ("24383", "24150", 44.8436, 0.6578),
    "Bergerac": ("24037", "24100", 44.8519, 0.4834),
}


class FakeGeocoder:
    """Stands in for the national address service (no network in tests)."""

    def __init__(self, known: dict[str, tuple[float, float]] | None = None) -> None:
        self.known = known or {}
        self.asked: list[str] = []

    def locate(self, address: str) -> tuple[float, float] | None:
        self.asked.append(address)
        return self.known.get(address)


@dataclass
class TransportWorld:
    centre: Any
    communes: dict[str, Any]
    venue: Any
    session: Any
    day: dt.date
    minibus: Any
    car: Any
    driver: Any
    driver_user: Any
    coordinator: Any
    carer: Any
    persons: list[Any]


def _save(db: Any, obj: Any) -> Any:
    db.add(obj)
    db.commit()
    return obj


@pytest.fixture
def transport_world(
    db: Any,
    centre: Any,
    now: dt.datetime,
    make_commune: Callable[..., Any],
    make_venue: Callable[..., Any],
    make_session: Callable[..., Any],
    make_person: Callable[..., Any],
    make_user: Callable[..., Any],
) -> TransportWorld:
    communes = {
        name: make_commune(name=name, insee=insee, postcode=postcode, lat=lat, lon=lon)
        for name, (insee, postcode, lat, lon) in VILLAGES.items()
    }
    venue = make_venue(
        name="Salle des fêtes de Lalinde",
        commune=communes["Lalinde"],
        address="Place de la mairie, 24150 Lalinde",
    )
    # A weekday a week ahead, so bookings are open and drivers work.
    day = now.date() + dt.timedelta(days=7)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    starts = dt.datetime.combine(day, dt.time(14))
    session = make_session(
        venue=venue, starts_at=starts, ends_at=starts + dt.timedelta(hours=2), seats=12
    )
    bergerac = communes["Bergerac"]
    minibus = _save(
        db,
        Vehicle(
            centre_id=centre.id,
            name="Minibus",
            kind=VehicleKind.adapted_van,
            seats=8,
            wheelchair_places=1,
            depot_address="EHPAD de Bergerac",
            depot_lat=bergerac.lat,
            depot_lon=bergerac.lon,
            available_from=dt.time(8),
            available_until=dt.time(19),
        ),
    )
    car = _save(
        db,
        Vehicle(
            centre_id=centre.id,
            name="Voiture de Paul",
            kind=VehicleKind.volunteer_car,
            seats=3,
            wheelchair_places=0,
            depot_address="Bergerac",
            depot_lat=bergerac.lat,
            depot_lon=bergerac.lon,
            available_from=dt.time(8),
            available_until=dt.time(19),
        ),
    )
    driver_user = make_user(
        username="chauffeur",
        display_name="Alain Chauffeur",
        role=Role.driver,
        email="alain@crt.example",
        password=PASSWORD,
    )
    driver = _save(
        db,
        Driver(
            centre_id=centre.id,
            user_id=driver_user.id,
            phone="06 00 00 00 01",
            available_from=dt.time(8),
            available_until=dt.time(18),
            weekdays=[0, 1, 2, 3, 4],
        ),
    )
    coordinator = make_user(
        username="coordinatrice",
        display_name="Claire Coordination",
        role=Role.coordinator,
        email="claire@crt.example",
        password=PASSWORD,
    )
    homes = ["Mouleydier", "Creysse", "Couze-et-Saint-Front", "Saint-Capraise-de-Lalinde"]
    persons = [
        make_person(
            first_name=first,
            last_name="Passager",
            commune=communes[home],
            lat=communes[home].lat + 0.004,
            lon=communes[home].lon - 0.003,
            address=f"{i + 1} route du Bourg",
            mobility=Mobility.walks,
        )
        for i, (first, home) in enumerate(
            zip(["Jeanne", "Louis", "Odette", "Marcel"], homes, strict=True)
        )
    ]
    carer = make_user(
        username="aidante",
        display_name="Marie Passager",
        email="marie@example.org",
        password=PASSWORD,
        helped_persons=[persons[0]],
    )
    db.commit()
    return TransportWorld(
        centre=centre,
        communes=communes,
        venue=venue,
        session=session,
        day=day,
        minibus=minibus,
        car=car,
        driver=driver,
        driver_user=driver_user,
        coordinator=coordinator,
        carer=carer,
        persons=persons,
    )


@pytest.fixture
def fake_geocoder() -> FakeGeocoder:
    return FakeGeocoder()


@pytest.fixture
def transport_app(app: Any, fake_geocoder: FakeGeocoder) -> Iterator[Any]:
    """The app with the fake geocoder and an in-memory queue (its worker thread is started on
    first use and stopped at the end)."""
    app.config["GEOCODER"] = fake_geocoder
    app.config["NAVETTE_QUEUE"] = "memory"
    yield app
    queue = app.extensions.get("navette_queue")
    if queue is not None and queue.worker is not None:
        queue.worker.stop()
