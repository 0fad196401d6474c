"""Every feed's events stored in a real CalDAV server (Radicale), through their changes.

A calendar app that subscribes to a feed replaces each event by UID; a CalDAV server does the
same with PUT. Radicale must accept each object (201 created, then 201/204 replaced) and give
back what we wrote: the same UID, STATUS and SEQUENCE.
"""

from __future__ import annotations

import datetime as dt

import pytest

from scheduling import sessions as sessions_uc
from scheduling.models import Role
from tests.webapp.conftest import PASSWORD, post
from tests.webapp.ical_checks import Radicale, by_uid, radicale, rfc5545_problems
from tests.webapp.test_calendar import feed, published_round, subscribe

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
__all__ = ["published_round", "radicale"]  # fixtures used by name

REPLACED = {201, 204}


def _stored_state(server: Radicale, uid: str) -> tuple[str, int, dt.datetime]:
    [event] = server.stored(uid)
    return str(event["STATUS"]), int(event["SEQUENCE"]), event.decoded("DTSTART")


def test_session_moved_cancelled_and_reinstated(
    client, db, now, world, make_user, radicale: Radicale
):
    staff = make_user(role=Role.animator, password=PASSWORD)
    session_id, slug = world.session.id, world.centre.slug
    uid = f"session-{session_id}@{slug}.navette"
    url = f"/centres/{slug}/agenda.ics"

    assert radicale.store_feed(feed(client, url).data) == {uid: 201}
    assert _stored_state(radicale, uid)[:2] == ("CONFIRMED", 0)

    s = world.session
    new_start = s.starts_at + dt.timedelta(days=1, hours=-4)
    change = sessions_uc.edit_occurrence(
        db,
        actor=staff,
        now=now,
        session_id=session_id,
        starts_at=new_start,
        ends_at=new_start + dt.timedelta(hours=2),
        venue_id=s.venue_id,
        seats=s.seats,
        wheelchair_places=s.wheelchair_places,
        animator_id=None,
        booking_deadline=None,
        transport_offered=s.transport_offered,
    )
    assert change.ok, change.errors
    db.commit()
    assert radicale.store_feed(feed(client, url).data)[uid] in REPLACED
    status, sequence, start = _stored_state(radicale, uid)
    assert (status, sequence, start.replace(tzinfo=None)) == ("CONFIRMED", 1, new_start)

    assert sessions_uc.cancel_session(
        db, actor=staff, now=now, session_id=session_id, reason="Animatrice malade"
    ).ok
    db.commit()
    assert radicale.store_feed(feed(client, url).data)[uid] in REPLACED
    assert _stored_state(radicale, uid)[:2] == ("CANCELLED", 2)

    assert sessions_uc.reinstate_session(db, actor=staff, now=now, session_id=session_id).ok
    db.commit()
    assert radicale.store_feed(feed(client, url).data)[uid] in REPLACED
    assert _stored_state(radicale, uid)[:2] == ("CONFIRMED", 3)


def test_carer_feed_after_a_booking_is_cancelled(
    client, world, login, make_booking, radicale: Radicale
):
    kept = make_booking(world.session, person=world.person)
    gone = make_booking(world.session, person=world.other_person)
    slug = world.centre.slug
    kept_uid, gone_uid = f"booking-{kept.id}@{slug}.navette", f"booking-{gone.id}@{slug}.navette"
    login(world.carer)
    path = subscribe(client, "carer")
    assert radicale.store_feed(feed(client, path).data) == {kept_uid: 201, gone_uid: 201}

    post(client, f"/reservations/{gone.id}/annuler")
    statuses = radicale.store_feed(feed(client, path).data)
    assert set(statuses.values()) <= REPLACED
    assert _stored_state(radicale, gone_uid)[:2] == ("CANCELLED", 1)
    assert _stored_state(radicale, kept_uid)[:2] == ("CONFIRMED", 0)

    single = client.get(f"/reservations/{kept.id}/agenda.ics").data
    assert rfc5545_problems(single) == []
    assert set(by_uid(single)) == {kept_uid}  # the download and the feed are the same event
    assert radicale.store_feed(single) == {kept_uid: 204}


def test_series_animator_and_driver_feeds_are_accepted(
    client, db, now, world, login, make_user, published_round, radicale: Radicale
):
    staff = make_user(role=Role.animator, password=PASSWORD)
    series = sessions_uc.create_series(
        db,
        actor=staff,
        now=now,
        activity_id=world.session.activity_id,
        frequency=sessions_uc.Frequency.weekly,
        first_date=now.date() + dt.timedelta(days=14),
        until_date=now.date() + dt.timedelta(days=70),
        start_time=dt.time(10),
        end_time=dt.time(11, 30),
        venue_id=world.session.venue_id,
        seats=10,
        animator_id=staff.id,
        excluded_dates=[now.date() + dt.timedelta(days=28)],
    ).value
    assert series is not None
    moved = series.sessions[1]
    assert sessions_uc.cancel_session(
        db, actor=staff, now=now, session_id=moved.id, reason="Férié"
    ).ok
    db.commit()
    slug = world.centre.slug
    series_uid = f"series-{series.id}@{slug}.navette"

    public = feed(client, f"/centres/{slug}/agenda.ics").data
    assert len(by_uid(public)[series_uid]) == 2  # the rule and one cancelled override
    stored = radicale.store_feed(public)
    assert stored[series_uid] == 201
    assert len(radicale.stored(series_uid)) == 2
    # The server reads our RRULE, EXDATE and override as meant: 8 of the 9 weekly slots, the
    # excluded one missing, the cancelled one kept as cancelled.
    first = dt.datetime.combine(now.date() + dt.timedelta(days=14), dt.time())
    expanded = [
        e
        for e in radicale.expand(first, first + dt.timedelta(days=60))
        if str(e["UID"]) == series_uid
    ]
    assert len(expanded) == 8  # one instance per slot: the override replaced its slot
    days = {(e.decoded("DTSTART").date() - now.date()).days: str(e.get("STATUS")) for e in expanded}
    assert days == {
        14: "CONFIRMED",
        21: "CANCELLED",
        35: "CONFIRMED",
        42: "CONFIRMED",
        49: "CONFIRMED",
        56: "CONFIRMED",
        63: "CONFIRMED",
        70: "CONFIRMED",
    }

    login(staff)
    assert set(radicale.store_feed(feed(client, subscribe(client, "animator")).data).values()) == {
        201
    }
    post(client, "/deconnexion")
    driver_user, round_, _ = published_round
    login(driver_user)
    driver_feed = feed(client, subscribe(client, "driver")).data
    assert radicale.store_feed(driver_feed) == {f"round-{round_.id}@{slug}.navette": 201}
