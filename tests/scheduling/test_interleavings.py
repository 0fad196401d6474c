"""1 000 random interleavings of booking, cancelling, waitlist promotion and session edits.

PostgreSQL only (skipped without it, failed under CI): SQLite serialises every write
transaction (``BEGIN IMMEDIATE``), so only PostgreSQL's row locks (``SELECT … FOR UPDATE`` on
the session) are really put to the test here.

**One interleaving** is one *run*: 2 to 4 threads released together by a barrier, each
playing its own seeded random list of 1 or 2 operations: ``book`` (a random
person, with 0 to 2 companions, walking or in a wheelchair), ``cancel`` (a random live booking
of the session, confirmed or waitlisted, so a seat may be freed and the waitlist promoted) and
``edit`` (the session's seats and wheelchair places raised or lowered, which may promote the
waitlist or be refused). Each operation runs like a web request: its own ORM session and
transaction, a random pause before it and a random pause between the use-case and the commit
(the session's row lock is then held while the others queue on it), so the transactions
overlap in a different order from one run to the next. Runs come in blocks of
``RUNS_PER_BLOCK`` on the same one or two sessions (random seats and wheelchair places, 0 to 7
bookings made beforehand, so a waitlist may exist from the start); each run starts from what
the previous one left. ``RUNS`` runs in all: 1 000.

After each run the database must show, for every session:
- capacity: confirmed seats ≤ seats and confirmed wheelchair users ≤ wheelchair places;
- waitlist order: nobody still waiting would fit in what is left (promotion is complete, so a
  newcomer never jumps a waiting person who fits), each promotion took the waiting bookings in
  order, and no promoted booking overtook an earlier one still waiting whose need was no
  larger (in every dimension);
- no booking lost: every committed booking request is there, and each booking's status is the
  one its committed history gives (booked confirmed, or waitlisted then promoted once, or
  cancelled by exactly one committed cancellation), and at most one live booking per person.

A failure names its block's seed and run. Replay it (the same schedule; the interleaving itself
is up to the threads) with ``NAVETTE_INTERLEAVING_SEED=<seed> pytest
tests/scheduling/test_interleavings.py``, which plays that block ``REPLAYS`` times;
``NAVETTE_INTERLEAVING_BASE_SEED`` explores other schedules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import random
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session as DbSession

from scheduling.booking import book, cancel_booking, taken_load
from scheduling.db import make_engine, make_session_factory
from scheduling.models import (
    ActivitySession,
    Booking,
    BookingStatus,
    Mobility,
    Person,
    Role,
    SessionStatus,
    User,
)
from scheduling.policy import Load, capacity_of, fits, load_of
from scheduling.sessions import edit_occurrence

RUNS = int(os.environ.get("NAVETTE_INTERLEAVING_RUNS", "1000"))
BASE_SEED = int(os.environ.get("NAVETTE_INTERLEAVING_BASE_SEED", "20261122"))
REPLAY_SEED = os.environ.get("NAVETTE_INTERLEAVING_SEED")
REPLAYS = 20
RUNS_PER_BLOCK = 5
PERSONS = 12  # the last WHEELCHAIR_USERS of them use a wheelchair
WHEELCHAIR_USERS = 4
MAX_THREADS = 4

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


# --- schedules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    kind: str  # "book", "cancel" or "edit"
    session: int  # index among the run's sessions
    person: int = 0  # book: index among the persons
    companions: int = 0  # book
    pick: float = 0.0  # cancel: which live booking, as a fraction of the list
    seats_delta: int = 0  # edit
    wheelchair_delta: int = 0  # edit
    pause: float = 0.0  # seconds before the operation
    hold: float = 0.0  # seconds between the use-case and the commit (lock held)


@dataclass(frozen=True)
class Schedule:
    """A block of runs on the same sessions: set up once, then raced ``RUNS_PER_BLOCK`` times."""

    seed: int
    capacities: tuple[Load, ...]
    preset: tuple[Op, ...]  # played one after the other before the first run
    runs: tuple[tuple[tuple[Op, ...], ...], ...]  # per run, per thread, its operations


def _pause(rng: random.Random) -> float:
    return rng.choice((0.0, 0.0, 0.0, 0.0005, 0.001, 0.002))


def _book_op(rng: random.Random, sessions: int, *, timed: bool) -> Op:
    return Op(
        "book",
        rng.randrange(sessions),
        person=rng.randrange(PERSONS),
        companions=rng.choice((0, 0, 0, 1, 2)),
        pause=_pause(rng) if timed else 0.0,
        hold=_pause(rng) if timed else 0.0,
    )


def _thread_ops(rng: random.Random, sessions: int) -> tuple[Op, ...]:
    ops = []
    for _ in range(rng.choice((1, 1, 1, 2, 2))):
        kind = rng.choices(("book", "cancel", "edit"), weights=(5, 3, 2))[0]
        if kind == "book":
            ops.append(_book_op(rng, sessions, timed=True))
            continue
        ops.append(
            Op(
                kind,
                rng.randrange(sessions),
                pick=rng.random(),
                seats_delta=rng.randint(-2, 3),
                wheelchair_delta=rng.randint(-1, 1),
                pause=_pause(rng),
                hold=_pause(rng),
            )
        )
    return tuple(ops)


def make_schedule(seed: int) -> Schedule:
    rng = random.Random(seed)
    sessions = rng.choice((1, 1, 2))
    capacities = []
    for _ in range(sessions):
        seats = rng.randint(2, 6)
        capacities.append(Load(seats, rng.randint(0, min(2, seats))))
    preset = tuple(_book_op(rng, sessions, timed=False) for _ in range(rng.randint(0, 7)))
    runs = tuple(
        tuple(_thread_ops(rng, sessions) for _ in range(rng.randint(2, MAX_THREADS)))
        for _ in range(RUNS_PER_BLOCK)
    )
    return Schedule(seed, tuple(capacities), preset, runs)


# --- what happened -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One committed operation and what the use-case said about it."""

    thread: str
    op: Op
    session_id: int
    outcome: str  # confirmed / waitlisted / refused / cancelled / edited / nothing
    booking_id: int | None = None
    promoted: tuple[int, ...] = ()
    reason: str = ""


@dataclass
class World:
    centre_id: int
    actor_id: int
    person_ids: list[int]
    activity_id: int
    venue_id: int
    engine: Engine
    factory: Callable[[], DbSession]
    now: dt.datetime
    starts_at: dt.datetime = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.starts_at = dt.datetime.combine(self.now.date() + dt.timedelta(days=7), dt.time(14))


def perform(db: DbSession, world: World, thread: str, op: Op, session_ids: list[int]) -> Entry:
    """Play one operation inside ``db``'s transaction (the caller commits)."""
    actor = db.get(User, world.actor_id)
    assert actor is not None
    session_id = session_ids[op.session]
    if op.kind == "book":
        outcome = book(
            db,
            session_id=session_id,
            person_id=world.person_ids[op.person],
            actor=actor,
            now=world.now,
            companions=op.companions,
        )
        booking_id = outcome.booking.id if outcome.booking is not None else None
        return Entry(
            thread, op, session_id, outcome.result.value, booking_id, (), outcome.reason or ""
        )
    if op.kind == "cancel":
        live = db.scalars(
            select(Booking.id)
            .where(
                Booking.session_id == session_id,
                Booking.status.in_((BookingStatus.confirmed, BookingStatus.waitlisted)),
            )
            .order_by(Booking.id)
        ).all()
        if not live:
            return Entry(thread, op, session_id, "nothing")
        target = live[int(op.pick * len(live))]
        cancelled = cancel_booking(db, booking_id=target, actor=actor, now=world.now)
        promoted = tuple(b.id for b in cancelled.promoted)
        if not cancelled.ok:
            return Entry(thread, op, session_id, "refused", target, promoted, cancelled.message)
        return Entry(thread, op, session_id, "cancelled", target, promoted)
    # edit: the form shows the session as it is, the coordinator changes the capacity.
    shown = db.get(ActivitySession, session_id)
    assert shown is not None
    seats = max(1, shown.seats + op.seats_delta)
    wheelchairs = min(seats, max(0, shown.wheelchair_places + op.wheelchair_delta))
    change = edit_occurrence(
        db,
        actor=actor,
        now=world.now,
        session_id=session_id,
        starts_at=shown.starts_at,
        ends_at=shown.ends_at,
        venue_id=shown.venue_id,
        seats=seats,
        wheelchair_places=wheelchairs,
        animator_id=shown.animator_id,
        booking_deadline=shown.booking_deadline,
        transport_offered=shown.transport_offered,
    )
    promoted = tuple(b.id for b in change.promoted)
    if not change.ok:
        return Entry(thread, op, session_id, "refused", None, promoted, change.message)
    return Entry(thread, op, session_id, "edited", None, promoted)


def set_up(world: World, schedule: Schedule) -> tuple[list[int], list[Entry]]:
    """Create the block's sessions and play its preset bookings."""
    with world.factory() as db:
        sessions = [
            ActivitySession(
                centre_id=world.centre_id,
                activity_id=world.activity_id,
                venue_id=world.venue_id,
                starts_at=world.starts_at,
                ends_at=world.starts_at + dt.timedelta(hours=2),
                seats=capacity.seats,
                wheelchair_places=capacity.wheelchair_places,
                transport_offered=False,
                status=SessionStatus.scheduled,
            )
            for capacity in schedule.capacities
        ]
        db.add_all(sessions)
        db.flush()
        session_ids = [s.id for s in sessions]
        log = [perform(db, world, "préparation", op, session_ids) for op in schedule.preset]
        db.commit()
    return session_ids, log


def race(
    world: World, threads: tuple[tuple[Op, ...], ...], session_ids: list[int], log: list[Entry]
) -> None:
    """One run: the threads start together and play their operations; ``log`` gets each commit."""
    start = threading.Barrier(len(threads))
    errors: list[str] = []

    def run(name: str, ops: tuple[Op, ...]) -> None:
        try:
            start.wait(timeout=30)
            for op in ops:
                time.sleep(op.pause)
                with world.factory() as db:
                    entry = perform(db, world, name, op, session_ids)
                    time.sleep(op.hold)
                    db.commit()
                log.append(entry)  # list.append is atomic: threads may share the log
        except BaseException:  # reported with the seed by the caller
            errors.append(f"{name}: {traceback.format_exc()}")

    workers = [
        threading.Thread(target=run, args=(f"client {i + 1}", ops)) for i, ops in enumerate(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not any(w.is_alive() for w in workers), "un client n'a pas fini en 60 s"
    assert errors == [], "\n".join(errors)


# --- invariants ----------------------------------------------------------------------------------


def _covers(bigger: Load, smaller: Load) -> bool:
    return smaller.seats <= bigger.seats and smaller.wheelchair_places <= bigger.wheelchair_places


def _need(booking: Booking) -> Load:
    return load_of(booking.companions, booking.mobility)


def check_invariants(db: DbSession, session_ids: list[int], log: list[Entry]) -> None:
    """Assert what every run must leave behind (see the module docstring)."""
    db.expire_all()
    booked = {e.booking_id: e for e in log if e.op.kind == "book" and e.booking_id is not None}
    promotions = Counter(b for e in log for b in e.promoted)
    cancellations = Counter(e.booking_id for e in log if e.outcome == "cancelled")
    for session_id in session_ids:
        session = db.get(ActivitySession, session_id)
        assert session is not None
        bookings = list(
            db.scalars(
                select(Booking)
                .where(Booking.session_id == session_id)
                .order_by(Booking.created_at, Booking.id)
            )
        )
        capacity = capacity_of(session)
        confirmed = [b for b in bookings if b.status is BookingStatus.confirmed]
        waiting = [b for b in bookings if b.status is BookingStatus.waitlisted]
        taken = sum((_need(b) for b in confirmed), Load())

        # Capacity, in every dimension (and the database's own count agrees).
        assert _covers(capacity, taken), f"séance {session_id} : {taken} pris pour {capacity}"
        assert taken_load(db, session_id) == taken

        # Waitlist order.
        for w in waiting:
            assert not fits(capacity, taken, _need(w)), (
                f"réservation {w.id} attend alors qu'elle tient dans {capacity} - {taken}"
            )
        for b in bookings:
            if promotions[b.id] == 0:
                continue
            for w in waiting:
                if (w.created_at, w.id) < (b.created_at, b.id):
                    assert not _covers(_need(b), _need(w)), (
                        f"réservation {b.id} promue avant {w.id}, arrivée plus tôt et qui "
                        "demandait moins ou autant"
                    )
        order = {b.id: (b.created_at, b.id) for b in bookings}
        for entry in log:
            if entry.session_id == session_id and entry.promoted:
                keys = [order[b] for b in entry.promoted]
                assert keys == sorted(keys), f"promotion dans le désordre : {entry}"

        # No booking lost, each status explained by the committed history.
        expected_ids = {b for b, e in booked.items() if e.session_id == session_id}
        assert {b.id for b in bookings} == expected_ids, "réservation perdue ou inventée"
        live_persons = Counter(
            b.person_id
            for b in bookings
            if b.status in (BookingStatus.confirmed, BookingStatus.waitlisted)
        )
        assert max(live_persons.values(), default=0) <= 1, "deux réservations pour une personne"
        for b in bookings:
            first = booked[b.id].outcome
            assert promotions[b.id] <= 1, f"réservation {b.id} promue deux fois"
            assert promotions[b.id] == 0 or first == "waitlisted", (
                f"réservation {b.id} promue sans avoir attendu"
            )
            assert cancellations[b.id] == (1 if b.status is BookingStatus.cancelled else 0), (
                f"réservation {b.id} : {b.status.value}, {cancellations[b.id]} annulation(s)"
            )
            if b.status is BookingStatus.confirmed:
                assert first == "confirmed" or promotions[b.id] == 1, f"{b.id} confirmée à tort"
            if b.status is BookingStatus.waitlisted:
                assert first == "waitlisted" and promotions[b.id] == 0, f"{b.id} en attente à tort"
    for entry in log:
        if entry.outcome == "refused" and entry.op.kind == "book":
            assert any(why in entry.reason for why in EXPECTED_BOOKING_REFUSALS), entry


# Why a booking request may be refused here: the person is already booked, or the request
# cannot fit the session as it now stands (too many companions, no wheelchair place).
EXPECTED_BOOKING_REFUSALS = (
    "est déjà inscrit(e) à cette séance",
    "est déjà sur la liste d'attente",
    "Cette séance ne compte que",
    "Cette séance n'a pas de place pour un fauteuil roulant.",
)


# --- the test ----------------------------------------------------------------------------------


@pytest.fixture
def world(
    db_url: str,
    db: DbSession,
    make_person: Callable[..., Person],
    make_commune: Callable[..., Any],
    make_user: Callable[..., User],
    make_activity: Callable[..., Any],
    make_venue: Callable[..., Any],
    now: dt.datetime,
) -> Iterator[World]:
    commune = make_commune()
    persons = [
        make_person(
            commune=commune,
            mobility=Mobility.wheelchair if i >= PERSONS - WHEELCHAIR_USERS else Mobility.walks,
        )
        for i in range(PERSONS)
    ]
    animator = make_user(role=Role.animator)
    # A pool as big as the clients, so every thread holds its own connection. Commits do not
    # wait for the disk (a crash is not what is tested; locks and visibility are unchanged):
    # some 5 000 commits at about 5 ms of disk flush each would add half a minute.
    engine = make_engine(
        db_url,
        pool_pre_ping=False,  # the server stays up: no need for a round trip per checkout
        pool_size=MAX_THREADS + 1,
        max_overflow=0,
        connect_args={"options": "-c synchronous_commit=off"},
    )
    world = World(
        centre_id=animator.centre_id,
        actor_id=animator.id,
        person_ids=[p.id for p in persons],
        activity_id=make_activity().id,
        venue_id=make_venue(commune=commune).id,
        engine=engine,
        factory=make_session_factory(engine),
        now=now,
    )
    # Threads waiting for the database get the interpreter back sooner (default: 5 ms, which
    # every query of a busy thread would otherwise wait): faster runs, finer interleavings.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    yield world
    sys.setswitchinterval(switch_interval)
    engine.dispose()


def _describe(schedule: Schedule, run: int, log: list[Entry]) -> str:
    lines = [f"graine {schedule.seed}, passe {run + 1} ; capacités {schedule.capacities}"]
    for i, ops in enumerate(schedule.runs[run]):
        lines.append(f"  client {i + 1} : {[dataclasses.astuple(op)[:4] for op in ops]}")
    lines.extend(f"  {e}" for e in log)
    return "\n".join(lines)


def test_random_interleavings_keep_capacity_waitlist_order_and_every_booking(
    world: World, db: DbSession
) -> None:
    if REPLAY_SEED is not None:
        seeds = [int(REPLAY_SEED)] * REPLAYS
    else:
        seeds = [BASE_SEED * 10_000 + block for block in range(RUNS // RUNS_PER_BLOCK)]
    outcomes: Counter[str] = Counter()
    interleavings = 0
    for seed in seeds:
        schedule = make_schedule(seed)
        log: list[Entry] = []
        run = 0
        try:
            session_ids, log = set_up(world, schedule)
            for run in range(len(schedule.runs)):
                race(world, schedule.runs[run], session_ids, log)
                check_invariants(db, session_ids, log)
                db.rollback()
                interleavings += 1
        except Exception as error:  # any failure, with the seed to replay it
            raise AssertionError(
                f"{error}\n{_describe(schedule, run, log)}\n"
                f"Rejouer : NAVETTE_INTERLEAVING_SEED={seed}"
            ) from error
        outcomes.update(f"{e.op.kind}:{e.outcome}" for e in log)
        outcomes.update(f"promoted:{len(e.promoted) > 0}" for e in log if e.op.kind != "book")
    assert interleavings == len(seeds) * RUNS_PER_BLOCK
    # The runs did race what they were meant to race: all kinds of outcome happened.
    if REPLAY_SEED is None:
        for kind in ("book:confirmed", "book:waitlisted", "cancel:cancelled", "edit:edited"):
            assert outcomes[kind] > interleavings // 10, outcomes
        assert outcomes["promoted:True"] > interleavings // 10, outcomes
        assert outcomes["edit:refused"] > interleavings // 50, outcomes
