"""Seats are never overbooked, whatever the concurrency (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.pool import NullPool

from scheduling.booking import BookingResult, book
from scheduling.db import make_engine
from scheduling.models import Booking, BookingStatus, Role, User

THREADS = 50


def test_fifty_concurrent_bookings_for_five_seats_confirm_exactly_five(
    db_url, db, make_session, make_booking, make_person, make_commune, make_user, now
):
    session = make_session(seats=10, wheelchair_places=0, transport_offered=False)
    for _ in range(5):
        make_booking(session)  # five seats already taken: five left
    commune = make_commune()
    person_ids = [make_person(commune=commune).id for _ in range(THREADS)]
    animator_id = make_user(role=Role.animator).id

    # Each thread has its own connection (no pool sharing) and its own ORM session.
    engine = make_engine(db_url, poolclass=NullPool)
    start = threading.Barrier(THREADS)
    results: list[BookingResult] = []
    errors: list[BaseException] = []

    def attempt(person_id: int) -> None:
        try:
            start.wait(timeout=60)
            with DbSession(engine) as worker_db:
                actor = worker_db.get(User, animator_id)
                outcome = book(
                    worker_db,
                    session_id=session.id,
                    person_id=person_id,
                    actor=actor,
                    now=now,
                )
                worker_db.commit()
                results.append(outcome.result)
        except BaseException as error:  # reported below with the failing assertion
            errors.append(error)

    threads = [threading.Thread(target=attempt, args=(pid,)) for pid in person_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    engine.dispose()

    assert errors == []
    assert Counter(results) == {BookingResult.confirmed: 5, BookingResult.waitlisted: 45}
    # The database agrees: ten confirmed in all (five before, five now), 45 waiting.
    counts = dict(
        db.execute(
            select(Booking.status, func.count())
            .where(Booking.session_id == session.id)
            .group_by(Booking.status)
        ).all()
    )
    assert counts == {BookingStatus.confirmed: 10, BookingStatus.waitlisted: 45}
