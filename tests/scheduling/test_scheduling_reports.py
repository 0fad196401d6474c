"""The activity report over a small known period: every figure checked by hand.

The period is February–March 2026, seen on 20 March 2026 at noon. The territory has five
communes; the persons who came live in two of them.

    S0  15 Jan  Atelier mémoire (axe 1)     outside: Hugo and Inès present (before the period)
    S1  10 Feb  Atelier mémoire (axe 1)     Alice, Bruno present; Chloé excused; Denis absent;
                                            Émile waitlisted, never promoted; Fanny cancelled
    S2   5 Mar  Atelier mémoire (axe 1)     Alice present; Gaston booked, attendance not taken
    S3  10 Mar  Café des aidants (axe 2)    Bruno, Hugo present
    S4  12 Mar  Café des aidants (axe 2)    session cancelled (Alice's booking with it)
    S5  25 Mar  Formation (axe 3)           upcoming: Chloé booked
    S6   2 Apr  Atelier mémoire (axe 1)     outside: Alice booked
    another centre: a session on 10 Mar with someone present, never counted
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from scheduling.models import Audience, BookingStatus, Field, SessionStatus
from scheduling.reports import (
    Attendance,
    Figures,
    Period,
    activity_report,
    french_date,
    last_month,
    last_year,
    this_month,
    this_year,
)

PERIOD = Period(dt.date(2026, 2, 1), dt.date(2026, 3, 31))
NOW = dt.datetime(2026, 3, 20, 12, 0)


def at(month: int, day: int, hour: int = 14) -> dt.datetime:
    return dt.datetime(2026, month, day, hour)


@dataclass
class KnownPeriod:
    centre: Any
    memory: Any
    cafe: Any
    training: Any
    elsewhere: Any


@pytest.fixture
def known(
    db: Any,
    centre: Any,
    make_centre: Callable[..., Any],
    make_commune: Callable[..., Any],
    make_person: Callable[..., Any],
    make_activity: Callable[..., Any],
    make_venue: Callable[..., Any],
    make_session: Callable[..., Any],
    make_booking: Callable[..., Any],
) -> KnownPeriod:
    lalinde, eymet, issigeac, sigoules, mouleydier = (
        make_commune(name=name)
        for name in ("Lalinde", "Eymet", "Issigeac", "Sigoules", "Mouleydier")
    )
    alice, bruno = (make_person(first_name=n, commune=lalinde) for n in ("Alice", "Bruno"))
    hugo = make_person(first_name="Hugo", commune=eymet)
    ines = make_person(first_name="Inès", commune=sigoules)
    chloe, denis, emile, fanny, gaston = (
        make_person(first_name=n, commune=issigeac)
        for n in ("Chloé", "Denis", "Émile", "Fanny", "Gaston")
    )
    memory = make_activity(
        title="Atelier mémoire", field=Field.care_prevention, audience=Audience.older_people
    )
    cafe = make_activity(title="Café des aidants", field=Field.isolation, audience=Audience.carers)
    training = make_activity(
        title="Formation bientraitance",
        field=Field.professional,
        audience=Audience.professionals,
    )

    hall = make_venue(commune=lalinde)

    def session(activity: Any, starts_at: dt.datetime, **overrides: Any) -> Any:
        return make_session(activity=activity, venue=hall, starts_at=starts_at, **overrides)

    def booking(session: Any, person: Any, status: BookingStatus) -> None:
        make_booking(session, person=person, status=status, created_at=session.starts_at)

    s0 = session(memory, at(1, 15))
    booking(s0, hugo, BookingStatus.attended)
    booking(s0, ines, BookingStatus.attended)
    s1 = session(memory, at(2, 10))
    booking(s1, alice, BookingStatus.attended)
    booking(s1, bruno, BookingStatus.attended)
    booking(s1, chloe, BookingStatus.excused)
    booking(s1, denis, BookingStatus.no_show)
    booking(s1, emile, BookingStatus.waitlisted)
    booking(s1, fanny, BookingStatus.cancelled)
    s2 = session(memory, at(3, 5))
    booking(s2, alice, BookingStatus.attended)
    booking(s2, gaston, BookingStatus.confirmed)
    s3 = session(cafe, at(3, 10))
    booking(s3, bruno, BookingStatus.attended)
    booking(s3, hugo, BookingStatus.attended)
    s4 = session(cafe, at(3, 12), status=SessionStatus.cancelled)
    booking(s4, alice, BookingStatus.cancelled)
    s5 = session(training, at(3, 25))
    booking(s5, chloe, BookingStatus.confirmed)
    s6 = session(memory, at(4, 2))
    booking(s6, alice, BookingStatus.confirmed)
    _ = mouleydier

    elsewhere = make_centre()
    far_away = make_commune(centre=elsewhere)
    stranger = make_person(centre=elsewhere, commune=far_away)
    foreign = make_session(
        centre=elsewhere,
        venue=make_venue(centre=elsewhere, commune=far_away),
        starts_at=at(3, 10),
        activity=make_activity(centre=elsewhere, field=Field.professional),
    )
    booking(foreign, stranger, BookingStatus.attended)
    return KnownPeriod(centre, memory, cafe, training, elsewhere)


def figures(
    held: int = 0,
    cancelled: int = 0,
    upcoming: int = 0,
    bookings: int = 0,
    present: int = 0,
    excused: int = 0,
    absent: int = 0,
    not_taken: int = 0,
    persons: int = 0,
) -> Figures:
    return Figures(
        sessions_held=held,
        sessions_cancelled=cancelled,
        sessions_upcoming=upcoming,
        bookings=bookings,
        attendance=Attendance(present, excused, absent, not_taken),
        persons_reached=persons,
    )


def test_totals_of_the_period(db: Any, known: KnownPeriod) -> None:
    report = activity_report(db, centre_id=known.centre.id, period=PERIOD, now=NOW)

    assert report.totals == figures(
        held=3,  # S1, S2, S3
        cancelled=1,  # S4
        upcoming=1,  # S5
        bookings=9,  # S1: 4 seats, S2: 2, S3: 2, S5: 1
        present=5,
        excused=1,
        absent=1,
        not_taken=1,  # Gaston at S2
        persons=3,  # Alice, Bruno, Hugo
    )
    assert report.bookings_cancelled == 1  # Fanny; S4's went with the session
    assert report.first_timers == 2  # Alice and Bruno; Hugo first came in January
    assert report.turned_away == 1  # Émile
    assert report.persons_turned_away == 1


def test_breakdown_by_field_audience_and_activity(db: Any, known: KnownPeriod) -> None:
    report = activity_report(db, centre_id=known.centre.id, period=PERIOD, now=NOW)

    care = figures(held=2, bookings=6, present=3, excused=1, absent=1, not_taken=1, persons=2)
    isolation = figures(held=1, cancelled=1, bookings=2, present=2, persons=2)
    professional = figures(upcoming=1, bookings=1)
    assert [(line.field, line.number, line.figures) for line in report.by_field] == [
        (Field.care_prevention, 1, care),
        (Field.isolation, 2, isolation),
        (Field.professional, 3, professional),
    ]
    assert [line.label for line in report.by_field] == [
        "Axe 1 – Accès aux soins et prévention",
        "Axe 2 – Lutte contre l'isolement",
        "Axe 3 – Pratiques professionnelles",
    ]
    assert [(line.audience, line.figures) for line in report.by_audience] == [
        (Audience.older_people, care),
        (Audience.carers, isolation),
        (Audience.professionals, professional),
    ]
    assert [(a.title, a.field, a.audience, a.figures) for a in report.by_activity] == [
        ("Atelier mémoire", Field.care_prevention, Audience.older_people, care),
        ("Café des aidants", Field.isolation, Audience.carers, isolation),
        ("Formation bientraitance", Field.professional, Audience.professionals, professional),
    ]


def test_month_by_month(db: Any, known: KnownPeriod) -> None:
    report = activity_report(db, centre_id=known.centre.id, period=PERIOD, now=NOW)

    assert [(m.label, m.figures) for m in report.by_month] == [
        (
            "février 2026",
            figures(held=1, bookings=4, present=2, excused=1, absent=1, persons=2),
        ),
        (
            "mars 2026",
            figures(held=2, cancelled=1, upcoming=1, bookings=5, present=3, not_taken=1, persons=3),
        ),
    ]


def test_communes_reached_and_their_share_of_the_territory(db: Any, known: KnownPeriod) -> None:
    report = activity_report(db, centre_id=known.centre.id, period=PERIOD, now=NOW)

    assert [(c.name, c.persons_reached) for c in report.communes] == [
        ("Lalinde", 2),
        ("Eymet", 1),
    ]
    assert report.communes_reached == 2
    assert report.communes_in_territory == 5  # the other centre's commune is not ours
    assert report.communes_share_percent == 40.0


def test_obligation_names_the_missing_field_until_each_has_a_held_session(
    db: Any, known: KnownPeriod, make_session: Callable[..., Any]
) -> None:
    report = activity_report(db, centre_id=known.centre.id, period=PERIOD, now=NOW)
    assert report.missing_fields == (Field.professional,)  # S5 is still to come
    assert not report.obligation_met

    later = dt.datetime(2026, 3, 26, 9)
    report = activity_report(db, centre_id=known.centre.id, period=PERIOD, now=later)
    assert report.missing_fields == ()
    assert report.obligation_met
    assert report.totals.sessions_held == 4
    assert report.totals.attendance.not_taken == 2  # Chloé at S5 too, now it has passed


def test_a_first_time_participant_counts_once_whatever_the_period(
    db: Any, known: KnownPeriod
) -> None:
    march = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    report = activity_report(db, centre_id=known.centre.id, period=march, now=NOW)
    # Alice and Bruno first came in February, Hugo in January: nobody new in March.
    assert report.totals.persons_reached == 3
    assert report.first_timers == 0

    january = Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    report = activity_report(db, centre_id=known.centre.id, period=january, now=NOW)
    assert report.first_timers == 2  # Hugo and Inès
    assert [(c.name, c.persons_reached) for c in report.communes] == [
        ("Eymet", 1),
        ("Sigoules", 1),
    ]


def test_another_centre_sees_only_its_own_session(db: Any, known: KnownPeriod) -> None:
    report = activity_report(db, centre_id=known.elsewhere.id, period=PERIOD, now=NOW)
    assert report.totals == figures(held=1, bookings=1, present=1, persons=1)
    assert report.missing_fields == (Field.care_prevention, Field.isolation)


def test_an_empty_period_gives_zeros_and_every_field_missing(db: Any, centre: Any) -> None:
    report = activity_report(db, centre_id=centre.id, period=PERIOD, now=NOW)
    assert report.totals == figures()
    assert report.communes == ()
    assert report.communes_share_percent == 0.0
    assert report.missing_fields == tuple(Field)
    assert [m.label for m in report.by_month] == ["février 2026", "mars 2026"]


def test_period_presets_and_words() -> None:
    today = dt.date(2026, 1, 15)
    assert this_month(today) == Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert last_month(today) == Period(dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    assert this_year(today) == Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert last_year(today) == Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert last_month(dt.date(2028, 3, 31)) == Period(dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    assert Period(dt.date(2025, 11, 3), dt.date(2026, 2, 1)).months() == [
        (2025, 11),
        (2025, 12),
        (2026, 1),
        (2026, 2),
    ]
    assert PERIOD.label == "du 1er février 2026 au 31 mars 2026"
    assert french_date(dt.date(2026, 8, 15)) == "15 août 2026"
    with pytest.raises(ValueError, match="précède"):
        Period(dt.date(2026, 3, 2), dt.date(2026, 3, 1))
