"""The volet-1 activity report of a period: every figure the centre gives its funder.

One function, `activity_report`, reads the records the rest of the app writes (sessions,
bookings and their attendance, persons and communes, and the transport rounds) and returns
frozen data. The pages, the CSV files and the PDF only format it: a number is computed once.

Definitions (they are written on the report page too):
- a session belongs to the period when it starts within it (both dates included); it is *held*
  when it is not cancelled and has started before `now`, *upcoming* when it is not cancelled and
  starts later, *cancelled* otherwise;
- *bookings* are the seats held on sessions that are not cancelled (confirmed, or attendance
  taken); attendance is what the animator recorded: present, excused, absent, or not yet taken;
- a person is *reached* when marked present at least once in the period; their commune is the
  one on their record;
- a *first-time participant* is a person whose first attendance ever (in this centre) falls in
  the period;
- a person *turned away* is a waitlist entry of a held session that was never promoted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import joinedload, selectinload

from scheduling.models import (
    SEAT_HOLDING_STATUSES,
    Activity,
    ActivitySession,
    Audience,
    Booking,
    BookingStatus,
    Commune,
    Field,
    Person,
    SessionStatus,
)
from scheduling.transport_models import (
    DayStatus,
    Leg,
    Round,
    RoundStop,
    StopKind,
    StopStatus,
    TransportDay,
    WelfareAlert,
)

MONTH_NAMES = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
# Every field gets a number in the regulations: "volet 1, axe 1/2/3".
FIELD_NUMBERS = {Field.care_prevention: 1, Field.isolation: 2, Field.professional: 3}


# --- the period -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("La date de fin précède la date de début.")

    @property
    def first_moment(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time.min)

    @property
    def after_last_moment(self) -> dt.datetime:
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min)

    def contains(self, moment: dt.datetime) -> bool:
        return self.first_moment <= moment < self.after_last_moment

    def months(self) -> list[tuple[int, int]]:
        """(year, month) of every month the period touches, in order."""
        months = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            months.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months

    @property
    def label(self) -> str:
        return f"du {french_date(self.start)} au {french_date(self.end)}"


def french_date(day: dt.date) -> str:
    """'1er janvier 2026', '24 novembre 2026'."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTH_NAMES[day.month - 1]} {day.year}"


def month_label(year: int, month: int) -> str:
    return f"{MONTH_NAMES[month - 1]} {year}"


def _month_end(year: int, month: int) -> dt.date:
    following = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return following - dt.timedelta(days=1)


def this_month(today: dt.date) -> Period:
    return Period(today.replace(day=1), _month_end(today.year, today.month))


def last_month(today: dt.date) -> Period:
    last_day = today.replace(day=1) - dt.timedelta(days=1)
    return Period(last_day.replace(day=1), last_day)


def this_year(today: dt.date) -> Period:
    return Period(dt.date(today.year, 1, 1), dt.date(today.year, 12, 31))


def last_year(today: dt.date) -> Period:
    return Period(dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31))


# --- the figures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attendance:
    """What the animators recorded for the seats held on sessions of the period."""

    present: int = 0
    excused: int = 0
    absent: int = 0
    not_taken: int = 0  # held sessions whose attendance nobody recorded (still "confirmed")


@dataclass(frozen=True)
class Figures:
    """The activity figures of a set of sessions (a field, an audience, an activity, a month)."""

    sessions_held: int
    sessions_cancelled: int
    sessions_upcoming: int
    bookings: int
    attendance: Attendance
    persons_reached: int


@dataclass(frozen=True)
class FieldLine:
    field: Field
    figures: Figures

    @property
    def number(self) -> int:
        return FIELD_NUMBERS[self.field]

    @property
    def label(self) -> str:
        return f"Axe {self.number} – {self.field.label}"


@dataclass(frozen=True)
class AudienceLine:
    audience: Audience
    figures: Figures

    @property
    def label(self) -> str:
        return self.audience.label


@dataclass(frozen=True)
class ActivityLine:
    title: str
    field: Field
    audience: Audience
    figures: Figures

    @property
    def label(self) -> str:
        return self.title


@dataclass(frozen=True)
class MonthLine:
    year: int
    month: int
    figures: Figures

    @property
    def label(self) -> str:
        return month_label(self.year, self.month)


@dataclass(frozen=True)
class CommuneLine:
    name: str
    insee: str
    persons_reached: int


@dataclass(frozen=True)
class ActivityReport:
    period: Period
    totals: Figures
    bookings_cancelled: int  # cancelled by the person (or staff) on sessions that went ahead
    first_timers: int
    turned_away: int  # waitlist entries of held sessions never promoted
    persons_turned_away: int
    by_field: tuple[FieldLine, ...]  # always the three fields, in their regulatory order
    by_audience: tuple[AudienceLine, ...]  # always the three audiences
    by_activity: tuple[ActivityLine, ...]  # activities with a session in the period
    by_month: tuple[MonthLine, ...]
    communes: tuple[CommuneLine, ...]  # communes of the persons reached, most first
    communes_in_territory: int

    @property
    def communes_reached(self) -> int:
        return len(self.communes)

    @property
    def communes_share_percent(self) -> float:
        """Share of the territory's communes reached, in percent (one decimal)."""
        if not self.communes_in_territory:
            return 0.0
        return round(100 * self.communes_reached / self.communes_in_territory, 1)

    @property
    def missing_fields(self) -> tuple[Field, ...]:
        """Fields with no session held in the period (the obligation asks for one in each)."""
        return tuple(line.field for line in self.by_field if line.figures.sessions_held == 0)

    @property
    def obligation_met(self) -> bool:
        return not self.missing_fields


# --- computing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """One session of the period with its bookings, as the breakdowns need it."""

    session: ActivitySession
    bookings: tuple[Booking, ...]


def _figures(rows: Sequence[_Row], now: dt.datetime) -> Figures:
    held = [r for r in rows if _is_held(r.session, now)]
    cancelled = [r for r in rows if r.session.status is SessionStatus.cancelled]
    upcoming = [r for r in rows if _is_upcoming(r.session, now)]
    live = held + upcoming
    seats = [b for r in live for b in r.bookings if b.status in SEAT_HOLDING_STATUSES]
    statuses = Counter(b.status for b in seats)
    not_taken = sum(1 for r in held for b in r.bookings if b.status is BookingStatus.confirmed)
    return Figures(
        sessions_held=len(held),
        sessions_cancelled=len(cancelled),
        sessions_upcoming=len(upcoming),
        bookings=len(seats),
        attendance=Attendance(
            present=statuses[BookingStatus.attended],
            excused=statuses[BookingStatus.excused],
            absent=statuses[BookingStatus.no_show],
            not_taken=not_taken,
        ),
        persons_reached=len(_persons_present(rows)),
    )


def _month_of(row: _Row) -> tuple[int, int]:
    return row.session.starts_at.year, row.session.starts_at.month


def _is_held(session: ActivitySession, now: dt.datetime) -> bool:
    return session.status is not SessionStatus.cancelled and session.starts_at < now


def _is_upcoming(session: ActivitySession, now: dt.datetime) -> bool:
    return session.status is not SessionStatus.cancelled and session.starts_at >= now


def _persons_present(rows: Iterable[_Row]) -> set[int]:
    return {b.person_id for r in rows for b in r.bookings if b.status is BookingStatus.attended}


def _load_rows(db: DbSession, centre_id: int, period: Period) -> list[_Row]:
    sessions = db.scalars(
        select(ActivitySession)
        .options(joinedload(ActivitySession.activity))
        .where(
            ActivitySession.centre_id == centre_id,
            ActivitySession.starts_at >= period.first_moment,
            ActivitySession.starts_at < period.after_last_moment,
        )
        .order_by(ActivitySession.starts_at, ActivitySession.id)
    ).all()
    bookings: dict[int, list[Booking]] = defaultdict(list)
    if sessions:
        for booking in db.scalars(
            select(Booking).where(
                Booking.centre_id == centre_id,
                Booking.session_id.in_([s.id for s in sessions]),
            )
        ):
            bookings[booking.session_id].append(booking)
    return [_Row(s, tuple(bookings[s.id])) for s in sessions]


def _first_attendance_by_person(
    db: DbSession, centre_id: int, person_ids: set[int]
) -> dict[int, dt.datetime]:
    if not person_ids:
        return {}
    found = db.execute(
        select(Booking.person_id, func.min(ActivitySession.starts_at))
        .join(ActivitySession, ActivitySession.id == Booking.session_id)
        .where(
            Booking.centre_id == centre_id,
            Booking.status == BookingStatus.attended,
            Booking.person_id.in_(person_ids),
        )
        .group_by(Booking.person_id)
    ).all()
    return {person_id: first for person_id, first in found}


def _communes(db: DbSession, centre_id: int, person_ids: set[int]) -> tuple[CommuneLine, ...]:
    if not person_ids:
        return ()
    found = db.execute(
        select(Commune.name, Commune.insee, func.count(Person.id))
        .join(Person, Person.commune_id == Commune.id)
        .where(Person.centre_id == centre_id, Person.id.in_(person_ids))
        .group_by(Commune.id, Commune.name, Commune.insee)
    ).all()
    lines = [CommuneLine(name, insee, count) for name, insee, count in found]
    return tuple(sorted(lines, key=lambda c: (-c.persons_reached, c.name)))


def activity_report(
    db: DbSession, *, centre_id: int, period: Period, now: dt.datetime
) -> ActivityReport:
    """The activity of `centre_id` over `period`, as seen at `now` (naive local time)."""
    rows = _load_rows(db, centre_id, period)
    by_field = tuple(
        FieldLine(field, _figures([r for r in rows if r.session.activity.field is field], now))
        for field in Field
    )
    by_audience = tuple(
        AudienceLine(
            audience,
            _figures([r for r in rows if r.session.activity.audience is audience], now),
        )
        for audience in Audience
    )
    activities: dict[int, Activity] = {r.session.activity_id: r.session.activity for r in rows}
    by_activity = tuple(
        ActivityLine(
            activity.title,
            activity.field,
            activity.audience,
            _figures([r for r in rows if r.session.activity_id == activity.id], now),
        )
        for activity in sorted(
            activities.values(), key=lambda a: (FIELD_NUMBERS[a.field], a.title.lower(), a.id)
        )
    )
    by_month = tuple(
        MonthLine(year, month, _figures([r for r in rows if _month_of(r) == (year, month)], now))
        for year, month in period.months()
    )

    reached = _persons_present(rows)
    first = _first_attendance_by_person(db, centre_id, reached)
    first_timers = sum(1 for person_id in reached if period.contains(first[person_id]))

    held = [r for r in rows if _is_held(r.session, now)]
    waiting = [b for r in held for b in r.bookings if b.status is BookingStatus.waitlisted]
    cancelled_bookings = sum(
        1
        for r in rows
        if r.session.status is not SessionStatus.cancelled
        for b in r.bookings
        if b.status is BookingStatus.cancelled
    )
    territory = db.scalar(select(func.count(Commune.id)).where(Commune.centre_id == centre_id))
    return ActivityReport(
        period=period,
        totals=_figures(rows, now),
        bookings_cancelled=cancelled_bookings,
        first_timers=first_timers,
        turned_away=len(waiting),
        persons_turned_away=len({b.person_id for b in waiting}),
        by_field=by_field,
        by_audience=by_audience,
        by_activity=by_activity,
        by_month=by_month,
        communes=_communes(db, centre_id, reached),
        communes_in_territory=territory or 0,
    )


# --- transport ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonLine:
    reason: str
    requests: int


@dataclass(frozen=True)
class TransportMonth:
    year: int
    month: int
    rounds: int
    requests_served: int
    passengers_carried: int
    distance_km: float

    @property
    def label(self) -> str:
        return month_label(self.year, self.month)


@dataclass(frozen=True)
class TransportReport:
    """The published rounds of the period's days, up to the day of `now`.

    A request is one leg (outbound or return) of a booking. It is *served* when a published
    round has its pickup, *carried* when the driver marked the pickup or the drop-off done.
    Ride times are planned in-vehicle minutes, from leaving the pickup to the drop-off.
    """

    days: int
    rounds: int
    requests_served: int
    requests_unserved: int
    unserved_reasons: tuple[ReasonLine, ...]  # most frequent first
    passengers_carried: int
    distance_km: float
    vehicle_hours: float
    average_ride_min: float | None
    longest_ride_min: float | None
    no_shows: int
    nobody_answered: int
    welfare_alerts: int
    persons_thanks_to_transport: int  # present at a session of the period, on a served leg
    by_month: tuple[TransportMonth, ...]


def transport_report(
    db: DbSession, *, centre_id: int, period: Period, now: dt.datetime
) -> TransportReport | None:
    """Transport figures of the period, or None when no published round ran in it."""
    last_day = min(period.end, now.date())
    days = db.scalars(
        select(TransportDay)
        .options(selectinload(TransportDay.rounds).selectinload(Round.stops))
        .where(
            TransportDay.centre_id == centre_id,
            TransportDay.status == DayStatus.published,
            TransportDay.date >= period.start,
            TransportDay.date <= last_day,
        )
    ).all()
    rounds = [r for day in days for r in day.rounds]
    if not rounds and not any(day.summary.get("unserved") for day in days):
        return None
    stops = [s for r in rounds for s in r.stops]
    pickups, dropoffs = _legs(rounds)
    rides = [
        (dropoffs[key].planned_begin - pickup.planned_departure).total_seconds() / 60
        for key, pickup in pickups.items()
        if key in dropoffs
    ]
    carried = _carried(pickups, dropoffs)
    reasons = Counter(
        str(entry.get("reason") or "Motif non précisé")
        for day in days
        for entry in day.summary.get("unserved", [])
    )
    served_bookings = {booking_id for booking_id, _leg in pickups}
    return TransportReport(
        days=len(days),
        rounds=len(rounds),
        requests_served=len(pickups),
        requests_unserved=sum(reasons.values()),
        unserved_reasons=tuple(
            ReasonLine(reason, count)
            for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
        ),
        passengers_carried=len(carried),
        distance_km=round(sum(r.distance_km for r in rounds), 1),
        vehicle_hours=round(
            sum((r.ends_at - r.starts_at).total_seconds() for r in rounds) / 3600, 2
        ),
        average_ride_min=round(sum(rides) / len(rides), 1) if rides else None,
        longest_ride_min=round(max(rides), 1) if rides else None,
        no_shows=sum(1 for s in stops if s.status is StopStatus.no_show),
        nobody_answered=sum(1 for s in stops if s.status is StopStatus.nobody_answered),
        welfare_alerts=_welfare_alerts(db, centre_id, period),
        persons_thanks_to_transport=_persons_present_on(db, centre_id, period, served_bookings),
        by_month=tuple(
            _transport_month(year, month, [r for r in rounds if _round_month(r) == (year, month)])
            for year, month in period.months()
        ),
    )


_LegKey = tuple[int, Leg]


def _legs(rounds: Sequence[Round]) -> tuple[dict[_LegKey, RoundStop], dict[_LegKey, RoundStop]]:
    """Pickup and drop-off stops by (booking, leg)."""
    stops = [s for r in rounds for s in r.stops]
    pickups = {(s.booking_id, s.leg): s for s in stops if s.kind is StopKind.pickup}
    dropoffs = {(s.booking_id, s.leg): s for s in stops if s.kind is StopKind.dropoff}
    return pickups, dropoffs


def _carried(pickups: dict[_LegKey, RoundStop], dropoffs: dict[_LegKey, RoundStop]) -> set[_LegKey]:
    """Legs the driver marked as done, at the pickup or at the drop-off."""
    return {
        key
        for key in pickups.keys() | dropoffs.keys()
        if (key in pickups and pickups[key].status is StopStatus.picked_up)
        or (key in dropoffs and dropoffs[key].status is StopStatus.dropped_off)
    }


def _round_month(round_: Round) -> tuple[int, int]:
    return round_.starts_at.year, round_.starts_at.month


def _transport_month(year: int, month: int, rounds: Sequence[Round]) -> TransportMonth:
    pickups, dropoffs = _legs(rounds)
    return TransportMonth(
        year=year,
        month=month,
        rounds=len(rounds),
        requests_served=len(pickups),
        passengers_carried=len(_carried(pickups, dropoffs)),
        distance_km=round(sum(r.distance_km for r in rounds), 1),
    )


def _welfare_alerts(db: DbSession, centre_id: int, period: Period) -> int:
    count = db.scalar(
        select(func.count(WelfareAlert.id)).where(
            WelfareAlert.centre_id == centre_id,
            WelfareAlert.raised_at >= period.first_moment,
            WelfareAlert.raised_at < period.after_last_moment,
        )
    )
    return count or 0


def _persons_present_on(
    db: DbSession, centre_id: int, period: Period, booking_ids: set[int]
) -> int:
    if not booking_ids:
        return 0
    persons = db.scalars(
        select(Booking.person_id)
        .join(ActivitySession, ActivitySession.id == Booking.session_id)
        .where(
            Booking.centre_id == centre_id,
            Booking.id.in_(booking_ids),
            Booking.status == BookingStatus.attended,
            ActivitySession.starts_at >= period.first_moment,
            ActivitySession.starts_at < period.after_last_moment,
        )
        .distinct()
    ).all()
    return len(persons)
