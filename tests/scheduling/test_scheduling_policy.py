"""Pure booking rules: no database, plain values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from scheduling.models import BookingStatus, Mobility, SessionStatus
from scheduling.policy import (
    MAX_COMPANIONS,
    Load,
    availability_label,
    booking_refusal,
    fits,
    load_of,
    promotable,
    remaining,
    request_refusal,
    seats_needed,
    taken_by,
    waitlist_order,
    wheelchair_needed,
)

NOW = dt.datetime(2026, 12, 1, 10, 0)


@dataclass
class FakeSession:
    starts_at: dt.datetime = NOW + dt.timedelta(days=2)
    booking_deadline: dt.datetime | None = None
    status: SessionStatus = SessionStatus.scheduled
    seats: int = 10
    wheelchair_places: int = 1
    transport_offered: bool = True


@dataclass
class FakeBooking:
    id: int
    status: BookingStatus = BookingStatus.confirmed
    companions: int = 0
    mobility: Mobility = Mobility.walks
    created_at: dt.datetime = NOW


def test_a_booking_takes_one_seat_per_person_and_companion() -> None:
    assert seats_needed(0) == 1
    assert seats_needed(2) == 3


def test_only_a_wheelchair_takes_a_wheelchair_place() -> None:
    assert wheelchair_needed(Mobility.wheelchair) == 1
    assert wheelchair_needed(Mobility.walker) == 0
    assert wheelchair_needed(Mobility.walks) == 0


def test_fits_checks_seats_and_wheelchair_places_separately() -> None:
    capacity = Load(seats=5, wheelchair_places=1)
    assert fits(capacity, Load(4, 0), load_of(0, Mobility.wheelchair))
    assert not fits(capacity, Load(4, 1), load_of(0, Mobility.wheelchair))
    assert not fits(capacity, Load(4, 0), load_of(1, Mobility.walks))
    assert fits(capacity, Load(3, 1), load_of(1, Mobility.walks))


def test_taken_counts_confirmed_and_attended_but_not_waitlisted_or_cancelled() -> None:
    bookings = [
        FakeBooking(1, BookingStatus.confirmed, companions=1),
        FakeBooking(2, BookingStatus.attended, mobility=Mobility.wheelchair),
        FakeBooking(3, BookingStatus.waitlisted, companions=2),
        FakeBooking(4, BookingStatus.cancelled),
        FakeBooking(5, BookingStatus.no_show),
    ]
    assert taken_by(bookings) == Load(seats=4, wheelchair_places=1)


def test_remaining_never_goes_below_zero() -> None:
    assert remaining(Load(3, 0), Load(5, 1)) == Load(0, 0)


@pytest.mark.parametrize(
    ("session", "expected"),
    [
        (FakeSession(), None),
        (FakeSession(status=SessionStatus.cancelled), "Cette séance est annulée."),
        (FakeSession(starts_at=NOW - dt.timedelta(hours=1)), "Cette séance est déjà passée."),
        (FakeSession(starts_at=NOW), "Cette séance est déjà passée."),
        (
            FakeSession(booking_deadline=NOW - dt.timedelta(minutes=1)),
            "La date limite de réservation est dépassée.",
        ),
        (FakeSession(booking_deadline=NOW), None),
    ],
)
def test_booking_refusal(session: FakeSession, expected: str | None) -> None:
    assert booking_refusal(session, NOW) == expected


def request(session: FakeSession, **overrides: object) -> str | None:
    values: dict[str, object] = {
        "companions": 0,
        "mobility": Mobility.walks,
        "transport_out": False,
        "transport_back": False,
    }
    values.update(overrides)
    return request_refusal(session, **values)  # type: ignore[arg-type]


def test_request_refusals_say_why_in_french() -> None:
    session = FakeSession(seats=3, wheelchair_places=0, transport_offered=False)
    assert request(session) is None
    assert request(session, companions=-1) == "Le nombre d'accompagnants ne peut pas être négatif."
    assert request(session, companions=MAX_COMPANIONS + 1) == (
        f"Au plus {MAX_COMPANIONS} accompagnants par réservation."
    )
    assert "ne compte que 3 places :" in (request(session, companions=3) or "")
    single = FakeSession(seats=1, wheelchair_places=0, transport_offered=False)
    assert "ne compte que 1 place :" in (request(single, companions=1) or "")
    assert request(session, mobility=Mobility.wheelchair) == (
        "Cette séance n'a pas de place pour un fauteuil roulant."
    )
    assert request(session, transport_back=True) == (
        "Le transport n'est pas proposé pour cette séance."
    )


def test_waitlist_order_is_first_come_first_served_then_by_id() -> None:
    later = NOW + dt.timedelta(minutes=5)
    bookings = [
        FakeBooking(7, BookingStatus.waitlisted, created_at=later),
        FakeBooking(9, BookingStatus.waitlisted, created_at=NOW),
        FakeBooking(3, BookingStatus.confirmed, created_at=NOW),
        FakeBooking(8, BookingStatus.waitlisted, created_at=NOW),
    ]
    assert [b.id for b in waitlist_order(bookings)] == [8, 9, 7]


def test_promotable_skips_entries_that_no_longer_fit_and_keeps_order() -> None:
    waiting = [
        FakeBooking(1, BookingStatus.waitlisted, mobility=Mobility.wheelchair),
        FakeBooking(2, BookingStatus.waitlisted, companions=2),
        FakeBooking(3, BookingStatus.waitlisted),
        FakeBooking(4, BookingStatus.waitlisted),
    ]
    # Two seats free, the only wheelchair place taken.
    chosen = promotable(Load(seats=10, wheelchair_places=1), Load(8, 1), waiting)
    assert [b.id for b in chosen] == [3, 4]


def test_availability_label() -> None:
    assert availability_label(Load(3, 0)) == "3 places restantes"
    assert availability_label(Load(1, 0)) == "1 place restante"
    assert availability_label(Load(0, 1)) == "Complet — liste d'attente"
