"""The demo command builds and publishes the next day's rounds, so a newcomer sees them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from scheduling.models import Notification
from scheduling.transport_models import DayStatus, Round, RoundStop, StopKind, TransportDay
from tests.webapp.conftest import read, sign_in, text_of
from webapp.demo import DEMO_PASSWORD, centre_now


def test_the_demo_publishes_the_next_rounds_and_their_promises(
    app: Any, client: Any, db: Any
) -> None:
    app.config["GEOCODER"] = "offline"  # never the network in tests
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "construites et publiées" in result.output
    # The past days are the demo's history; exactly one day to come is built.
    days = read(db, select(TransportDay).where(TransportDay.date > centre_now().date()))
    assert len(days) == 1 and days[0].status is DayStatus.published
    assert days[0].summary["passengers"] > 0
    day_iso = days[0].date.isoformat()
    stops = read(db, select(RoundStop).join(Round).where(Round.day_id == days[0].id))
    pickups = [s for s in stops if s.kind is StopKind.pickup]
    assert pickups and all(s.promised_from is not None for s in pickups)
    # No failed e-mails for staff to chase: the promises count as sent, like the bookings.
    assert read(db, select(Notification).where(Notification.sent_at.is_(None))) == []
    assert sign_in(client, "coordination", DEMO_PASSWORD).status_code == 302
    page = text_of(client.get(f"/transport/jour/{day_iso}"))
    assert "publiées" in page and "Prise en charge" in page
