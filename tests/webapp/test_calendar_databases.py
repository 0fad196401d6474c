"""The feeds' queries on both databases (SQLite and PostgreSQL): counts, cancellations, rounds."""

from __future__ import annotations

from scheduling.models import Booking, BookingStatus, Role
from tests.webapp.conftest import PASSWORD, post, read
from tests.webapp.ical_checks import by_uid, events
from tests.webapp.test_calendar import feed, published_round, subscribe

__all__ = ["published_round"]  # a fixture, used by name


def test_animator_counts_and_carer_cancellation(client, world, login, make_user, make_booking, db):
    staff = make_user(role=Role.animator, password=PASSWORD)
    world.session.animator_id = staff.id
    db.commit()
    make_booking(world.session, person=world.person, companions=2)
    gone = make_booking(world.session, person=world.other_person)
    waiting = make_booking(world.session, person=world.stranger, status=BookingStatus.waitlisted)
    slug = world.centre.slug

    login(world.carer)
    path = subscribe(client, "carer")
    post(client, f"/reservations/{gone.id}/annuler")
    [cancelled] = by_uid(feed(client, path).data)[f"booking-{gone.id}@{slug}.navette"]
    assert (str(cancelled["STATUS"]), cancelled["SEQUENCE"]) == ("CANCELLED", 1)
    post(client, "/deconnexion")

    login(staff)
    [event] = events(feed(client, subscribe(client, "animator")).data)
    # Louis's cancellation let Paul in from the waitlist: Jeanne + 2 companions + Paul.
    assert "4 inscrits sur 5 places" in str(event["SUMMARY"])
    assert "liste d'attente" not in str(event["DESCRIPTION"])
    promoted = read(db, Booking, waiting.id)
    assert (promoted.status, promoted.sequence) == (BookingStatus.confirmed, 1)


def test_driver_and_pickup_window(client, world, login, published_round):
    driver_user, round_, _ = published_round
    login(driver_user)
    [trip] = events(feed(client, subscribe(client, "driver")).data)
    assert str(trip["UID"]) == f"round-{round_.id}@{world.centre.slug}.navette"
    post(client, "/deconnexion")
    login(world.carer)
    [event] = events(feed(client, subscribe(client, "carer")).data)
    assert "le véhicule passe entre 13 h 15 et 13 h 30" in str(event["DESCRIPTION"])
