"""Seats are never overbooked, whatever the concurrency (SQLite and PostgreSQL).

Each thread has its own connection (NullPool: no sharing) and its own ORM session, and all
threads start together behind a barrier.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.pool import NullPool

from scheduling.booking import BookingResult, book, cancel_booking, taken_load
from scheduling.db import make_engine
from scheduling.models import Booking, BookingStatus, Mobility, Role, User


def run_together(db_url: str, jobs: list[Callable[[DbSession], Any]]) -> list[Any]:
    """Run each job in its own thread and transaction, all at once; return their results."""
    engine = make_engine(db_url, poolclass=NullPool)
    start = threading.Barrier(len(jobs))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(job: Callable[[DbSession], Any]) -> None:
        try:
            start.wait(timeout=60)
            with DbSession(engine) as db:
                result = job(db)
                db.commit()
                results.append(result)
        except BaseException as error:  # collected, then asserted empty by the caller
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    engine.dispose()
    assert errors == []
    assert len(results) == len(jobs)
    return results


def booking_job(session_id: int, person_id: int, actor_id: int, now: Any) -> Callable[..., Any]:
    def job(db: DbSession) -> BookingResult:
        actor = db.get(User, actor_id)
        return book(db, session_id=session_id, person_id=person_id, actor=actor, now=now).result

    return job


def statuses(db: DbSession, session_id: int) -> dict[BookingStatus, int]:
    db.expire_all()
    return dict(
        db.execute(
            select(Booking.status, func.count())
            .where(Booking.session_id == session_id)
            .group_by(Booking.status)
        ).all()
    )


def test_fifty_concurrent_bookings_for_five_seats_confirm_exactly_five(
    db_url, db, make_session, make_booking, make_person, make_commune, make_user, now
):
    session = make_session(seats=10, wheelchair_places=0, transport_offered=False)
    for _ in range(5):
        make_booking(session)  # five seats already taken: five left
    commune = make_commune()
    animator = make_user(role=Role.animator)
    jobs = [
        booking_job(session.id, make_person(commune=commune).id, animator.id, now)
        for _ in range(50)
    ]

    results = run_together(db_url, jobs)

    assert Counter(results) == {BookingResult.confirmed: 5, BookingResult.waitlisted: 45}
    # The database agrees: ten confirmed in all (five before, five now), 45 waiting.
    assert statuses(db, session.id) == {BookingStatus.confirmed: 10, BookingStatus.waitlisted: 45}


def test_concurrent_wheelchair_bookings_never_exceed_the_wheelchair_places(
    db_url, db, make_session, make_person, make_commune, make_user, now
):
    session = make_session(seats=30, wheelchair_places=2)
    commune = make_commune()
    animator = make_user(role=Role.animator)
    users = [make_person(commune=commune, mobility=Mobility.wheelchair) for _ in range(12)]
    jobs = [booking_job(session.id, person.id, animator.id, now) for person in users]

    results = run_together(db_url, jobs)

    assert Counter(results) == {BookingResult.confirmed: 2, BookingResult.waitlisted: 10}
    assert taken_load(db, session.id).wheelchair_places == 2


def test_cancellations_and_bookings_racing_keep_the_session_exactly_full(
    db_url, db, make_session, make_person, make_commune, make_user, now
):
    session = make_session(seats=5, wheelchair_places=0)
    commune = make_commune()
    animator = make_user(role=Role.animator)
    first_ones = [
        book(
            db,
            session_id=session.id,
            person_id=make_person(commune=commune).id,
            actor=animator,
            now=now,
        ).booking
        for _ in range(10)
    ]
    db.commit()
    leaving = [b for b in first_ones if b.status is BookingStatus.confirmed][:3]

    def cancel_job(booking_id: int) -> Callable[[DbSession], Any]:
        def job(db: DbSession) -> int:
            actor = db.get(User, animator.id)
            outcome = cancel_booking(db, booking_id=booking_id, actor=actor, now=now)
            assert outcome.ok
            return len(outcome.promoted)

        return job

    jobs = [cancel_job(b.id) for b in leaving] + [
        booking_job(session.id, make_person(commune=commune).id, animator.id, now)
        for _ in range(10)
    ]

    run_together(db_url, jobs)

    counts = statuses(db, session.id)
    # Three seats were freed and the waitlist refilled them: full, never more.
    assert counts[BookingStatus.confirmed] == 5
    assert counts[BookingStatus.cancelled] == 3
    assert counts[BookingStatus.waitlisted] == 12
    assert taken_load(db, session.id).seats == 5
