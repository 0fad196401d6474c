"""The demo's rounds: build and publish the next day with transport, so a newcomer sees them."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import update

from scheduling.models import Notification
from scheduling.transport import get_or_create_day, publish_day, summary_words, transport_bookings
from webapp.db import session_scope
from webapp.geocoding import OfflineGeocoder
from webapp.jobs import run_build

DEMO_TIME_LIMIT_S = 2.0
LOOK_AHEAD_DAYS = 14


def build_demo_rounds(app: Flask, centre_id: int, now: dt.datetime) -> list[str]:
    """Build and publish tomorrow's rounds (or the next day that has rides); return what to say."""
    day = _next_day_with_rides(app, centre_id, now.date())
    if day is None:
        return ["Aucune réservation avec transport dans les deux semaines : pas de tournée."]
    # Demo persons have their coordinates: no address service is needed (or called).
    summary = run_build(app, centre_id, day, None, DEMO_TIME_LIMIT_S, geocoder=OfflineGeocoder())
    with session_scope(app) as db:
        publish_day(db, get_or_create_day(db, centre_id, day), now)
        # Like the demo's booking confirmations: history, not an outbox of failed e-mails.
        db.execute(
            update(Notification)
            .where(Notification.centre_id == centre_id, Notification.sent_at.is_(None))
            .values(sent_at=Notification.created_at)
        )
    return [
        f"Tournées du {day:%d/%m/%Y} construites et publiées : "
        f"{summary_words({**summary, 'unserved': []})} (page Transport du compte « coordination »)."
    ]


def _next_day_with_rides(app: Flask, centre_id: int, today: dt.date) -> dt.date | None:
    with session_scope(app) as db:
        for offset in range(1, LOOK_AHEAD_DAYS + 1):
            day = today + dt.timedelta(days=offset)
            if transport_bookings(db, centre_id, day):
                return day
    return None
