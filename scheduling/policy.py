"""Booking rules as pure functions: values in, values out, no database, no clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from scheduling.models import SEAT_HOLDING_STATUSES, BookingStatus, Mobility, SessionStatus
from scheduling.notifications import plural

# A person comes with at most this many companions (a carer, a spouse…).
MAX_COMPANIONS = 3


@dataclass(frozen=True)
class Load:
    """Seats and wheelchair places: what a session offers, what bookings take."""

    seats: int = 0
    wheelchair_places: int = 0

    def __add__(self, other: Load) -> Load:
        return Load(self.seats + other.seats, self.wheelchair_places + other.wheelchair_places)

    def __sub__(self, other: Load) -> Load:
        return Load(self.seats - other.seats, self.wheelchair_places - other.wheelchair_places)


class SessionLike(Protocol):
    starts_at: dt.datetime
    booking_deadline: dt.datetime | None
    status: SessionStatus
    seats: int
    wheelchair_places: int
    transport_offered: bool


class BookingLike(Protocol):
    id: int
    status: BookingStatus
    companions: int
    mobility: Mobility
    created_at: dt.datetime


B = TypeVar("B", bound=BookingLike)


def seats_needed(companions: int) -> int:
    """Seats a booking takes: the person plus their companions."""
    return 1 + companions


def wheelchair_needed(mobility: Mobility) -> int:
    """Wheelchair places a booking takes (a wheelchair user also takes a seat)."""
    return 1 if mobility is Mobility.wheelchair else 0


def load_of(companions: int, mobility: Mobility) -> Load:
    return Load(seats_needed(companions), wheelchair_needed(mobility))


def capacity_of(session: SessionLike) -> Load:
    return Load(session.seats, session.wheelchair_places)


def holds_seat(status: BookingStatus) -> bool:
    """Confirmed bookings hold their seats, and keep them once attendance is taken."""
    return status in SEAT_HOLDING_STATUSES


def taken_by(bookings: Iterable[BookingLike]) -> Load:
    """Total load of the bookings that hold seats."""
    total = Load()
    for booking in bookings:
        if holds_seat(booking.status):
            total += load_of(booking.companions, booking.mobility)
    return total


def fits(capacity: Load, taken: Load, needed: Load) -> bool:
    """Tell whether ``needed`` fits in what ``capacity`` has left after ``taken``."""
    left = capacity - taken
    return needed.seats <= left.seats and needed.wheelchair_places <= left.wheelchair_places


def remaining(capacity: Load, taken: Load) -> Load:
    """What is left, never below zero (a session whose seats were lowered shows 0)."""
    left = capacity - taken
    return Load(max(left.seats, 0), max(left.wheelchair_places, 0))


def booking_refusal(session: SessionLike, now: dt.datetime) -> str | None:
    """Why nobody can book ``session`` at ``now`` (a French sentence), or None if open."""
    if session.status is SessionStatus.cancelled:
        return "Cette séance est annulée."
    if session.starts_at <= now:
        return "Cette séance est déjà passée."
    if session.booking_deadline is not None and now > session.booking_deadline:
        return "La date limite de réservation est dépassée."
    return None


# The name used in DOMAIN.md: returns the reason the booking is closed, None when open.
booking_open = booking_refusal


def request_refusal(
    session: SessionLike,
    *,
    companions: int,
    mobility: Mobility,
    transport_out: bool,
    transport_back: bool,
) -> str | None:
    """Why this particular request can never be accepted on ``session``, or None."""
    if companions < 0:
        return "Le nombre d'accompagnants ne peut pas être négatif."
    if companions > MAX_COMPANIONS:
        return f"Au plus {MAX_COMPANIONS} accompagnants par réservation."
    if seats_needed(companions) > session.seats:
        return (
            f"Cette séance ne compte que {plural(session.seats, 'place', 'places')} : "
            "réduisez le nombre d'accompagnants."
        )
    if wheelchair_needed(mobility) > session.wheelchair_places:
        return "Cette séance n'a pas de place pour un fauteuil roulant."
    if (transport_out or transport_back) and not session.transport_offered:
        return "Le transport n'est pas proposé pour cette séance."
    return None


def waitlist_order(bookings: Iterable[B]) -> list[B]:
    """Waitlisted bookings, first come first served (created_at, then id)."""
    waiting = [b for b in bookings if b.status is BookingStatus.waitlisted]
    return sorted(waiting, key=lambda b: (b.created_at, b.id))


def promotable(capacity: Load, taken: Load, waiting: Sequence[B]) -> list[B]:
    """Waitlisted bookings to confirm, in order, skipping those that no longer fit."""
    chosen: list[B] = []
    for booking in waiting:
        needed = load_of(booking.companions, booking.mobility)
        if fits(capacity, taken, needed):
            chosen.append(booking)
            taken += needed
    return chosen


def availability_label(left: Load) -> str:
    """What the agenda says about the seats left."""
    if left.seats <= 0:
        return "Complet — liste d'attente"
    if left.seats == 1:
        return "1 place restante"
    return f"{left.seats} places restantes"
