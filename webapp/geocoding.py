"""Where a pickup address is: typed coordinates, the cache, the national address service, or
the commune's point as a last resort (flagged "adresse introuvable" to the coordinator).

The network lookup sits behind the small `Geocoder` protocol so tests use a fake and nothing
here ever reaches the internet unless a deployment asks for the BAN geocoder.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduling.booking import default_pickup_address
from scheduling.models import Booking, Person
from scheduling.transport_models import GeocodeEntry, GeocodeSource

BAN_TIMEOUT_SECONDS = 3


class Geocoder(Protocol):
    def locate(self, address: str) -> tuple[float, float] | None:
        """The (lat, lon) of a French address, or None when it cannot be found."""


class GeocoderUnavailable(Exception):
    """The service did not answer: try again later, do not cache a miss."""


class BanGeocoder:
    """geopy's adapter for France's Base Adresse Nationale (api-adresse.data.gouv.fr)."""

    def __init__(
        self,
        timeout: float = BAN_TIMEOUT_SECONDS,
        domain: str = "api-adresse.data.gouv.fr",
        scheme: str = "https",
    ) -> None:
        from geopy.geocoders import BANFrance

        self._geocoder = BANFrance(
            domain=domain, scheme=scheme, timeout=timeout, user_agent="navette"
        )

    def locate(self, address: str) -> tuple[float, float] | None:
        from geopy.exc import GeopyError

        try:
            found = self._geocoder.geocode(address, exactly_one=True)
        except GeopyError as error:
            raise GeocoderUnavailable(str(error)) from error
        if found is None:
            return None
        return float(found.latitude), float(found.longitude)


class OfflineGeocoder:
    """No address service (an offline deployment): only typed coordinates and communes."""

    def locate(self, address: str) -> tuple[float, float] | None:
        raise GeocoderUnavailable("aucun service d'adresses configuré")


def geocoder_for(app: Flask | None = None) -> Geocoder:
    """The app's geocoder: `GEOCODER` (or NAVETTE_GEOCODER): "ban" (default) or "offline"; a
    test may put a geocoder object there instead."""
    app = app or current_app
    configured = app.config.get("GEOCODER") or os.environ.get("NAVETTE_GEOCODER", "ban")
    if not isinstance(configured, str):
        return configured  # type: ignore[no-any-return]
    if configured == "offline":
        return OfflineGeocoder()
    return BanGeocoder()


@dataclass(frozen=True)
class Place:
    lat: float
    lon: float
    source: GeocodeSource
    located: bool  # False: the commune's point stands in for an address not found


def locate_booking(db: Session, geocoder: Geocoder, booking: Booking, now: dt.datetime) -> Place:
    """Where to pick up (or drop off) the booked person."""
    person = booking.person
    address = booking.pickup_address.strip() or default_pickup_address(person)
    if person.lat is not None and person.lon is not None and _is_home(address, person):
        return Place(person.lat, person.lon, GeocodeSource.manual, True)
    return locate_address(db, geocoder, person.centre_id, address, person, now)


def _is_home(address: str, person: Person) -> bool:
    return address.casefold() in {
        default_pickup_address(person).casefold(),
        person.address.strip().casefold(),
    }


def locate_address(
    db: Session,
    geocoder: Geocoder,
    centre_id: int,
    address: str,
    person: Person,
    now: dt.datetime,
) -> Place:
    """Cached lookup of `address`; the person's commune point when it cannot be found."""
    entry = db.scalar(
        select(GeocodeEntry).where(
            GeocodeEntry.centre_id == centre_id, GeocodeEntry.address == address
        )
    )
    if entry is None:
        try:
            found = geocoder.locate(address)
        except GeocoderUnavailable:
            found = None  # no answer: not cached, so the next build asks again
        else:
            entry = GeocodeEntry(
                centre_id=centre_id,
                address=address,
                lat=found[0] if found else None,
                lon=found[1] if found else None,
                source=GeocodeSource.ban,
                looked_up_at=now,
            )
            db.add(entry)
            db.flush()
    if entry is not None and entry.lat is not None and entry.lon is not None:
        return Place(entry.lat, entry.lon, entry.source, True)
    commune = person.commune
    return Place(commune.lat, commune.lon, GeocodeSource.commune, False)


def save_typed_coordinates(
    db: Session, centre_id: int, address: str, lat: float, lon: float, now: dt.datetime
) -> GeocodeEntry:
    """Coordinates the coordinator typed (read on a map) win over any lookup."""
    entry = db.scalar(
        select(GeocodeEntry).where(
            GeocodeEntry.centre_id == centre_id, GeocodeEntry.address == address
        )
    )
    if entry is None:
        entry = GeocodeEntry(centre_id=centre_id, address=address, looked_up_at=now)
        db.add(entry)
    entry.lat, entry.lon, entry.source, entry.looked_up_at = lat, lon, GeocodeSource.manual, now
    db.flush()
    return entry
