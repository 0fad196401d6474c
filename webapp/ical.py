"""iCalendar (RFC 5545) documents, returned as bytes: the one place that writes them.

Times in the database are naive wall-clock times of the centre's zone; events carry that zone
(TZID) with its VTIMEZONE, so a phone shows 14 h 30 in Dordogne whatever its own setting.

Rules every feed follows, so subscribed calendars update rather than duplicate:
- a UID per thing that never changes (``session-42@crt-bergerac.navette``);
- SEQUENCE counts the changes (kept in the database by the use-cases), DTSTAMP dates the last one
  (RFC 5545: in a feed without METHOD, DTSTAMP is when the object was last revised), so the same
  data always gives the same bytes and an unchanged feed answers 304;
- a cancelled session or booking stays as STATUS:CANCELLED for ``CANCELLED_KEPT_DAYS`` days, so
  calendars strike it out, then leaves the feed;
- a recurring series is one event with RRULE and EXDATE; an occurrence that was moved, cancelled
  or re-instated is an override with RECURRENCE-ID (its original slot) and its own SEQUENCE; an
  occurrence cancelled long ago becomes an EXDATE.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy.orm import Session as DbSession

from scheduling.calendars import Attendance, Pickup, promised_pickups
from scheduling.models import (
    ActivitySession,
    Booking,
    BookingStatus,
    Centre,
    SessionSeries,
    SessionStatus,
    Venue,
)
from scheduling.notifications import format_time, plural
from scheduling.sessions import rrule_text
from scheduling.transport_models import Leg, Round, StopKind
from webapp.fr import with_town

PRODID = "-//Navette//Centre de ressources territorial//FR"
CANCELLED_KEPT_DAYS = 30
# Clients that honour it poll hourly; a change of time is also announced by e-mail.
REFRESH = dt.timedelta(hours=1)
# DTSTAMP of rows written before the column existed: fixed, so the feed's bytes stay stable.
OLD_ROWS = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
TO_BRING = (
    "À apporter : vos lunettes, votre carte Vitale, et une tenue confortable "
    "pour les ateliers où l'on bouge."
)

# icalendar 7.3.0 puts the DST onset at 03:00 instead of 02:00 (RECIPES §3): the classic rule
# form is exact for every year since 1996 and is what calendar clients know.
PARIS_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Paris
X-LIC-LOCATION:Europe/Paris
BEGIN:DAYLIGHT
TZNAME:CEST
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZNAME:CET
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""


@dataclass(frozen=True)
class Feed:
    """A rendered feed: its bytes and the time of its latest change (for Last-Modified)."""

    body: bytes
    last_modified: dt.datetime


# --- writing content lines ---------------------------------------------------------------------
# icalendar's Component.to_ical costs about 1 ms per event (property objects, time-zone lookups,
# folding), 0.5 s for a 1 000-event feed. Our events use a dozen fixed properties, so they are
# written here as content lines (escaped and folded per RFC 5545 §3.1 and §3.3.11); icalendar
# still writes the RRULE values and the VTIMEZONE of zones other than Paris, and every test
# parses the feeds back with icalendar.


def _text(value: str) -> str:
    """A TEXT value escaped (RFC 5545 §3.3.11); chained str.replace beats str.translate."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _fold(line: str) -> bytes:
    """A content line as bytes, folded at 75 octets without cutting a UTF-8 character."""
    raw = line.encode()
    if len(raw) <= 75:
        return raw + b"\r\n"
    parts, start, width = [], 0, 75
    while start < len(raw):
        end = min(start + width, len(raw))
        while end < len(raw) and raw[end] & 0xC0 == 0x80:  # inside a multi-byte character
            end -= 1
        parts.append(raw[start:end])
        start, width = end, 74  # continuation lines start with a space
    return b"\r\n ".join(parts) + b"\r\n"


def _duration(span: dt.timedelta) -> str:
    """An RFC 5545 duration (whole minutes): -P1D, -PT2H, PT30M."""
    minutes = int(span.total_seconds() // 60)
    sign, minutes = ("-", -minutes) if minutes < 0 else ("", minutes)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if not days and not time:
        return "PT0M"
    return f"{sign}P{f'{days}D' if days else ''}{'T' + time if time else ''}"


class Event:
    """One VEVENT as content lines, in the centre's zone."""

    def __init__(self, tzid: str) -> None:
        self.tzid = tzid
        self.lines: list[str] = []
        self.alarms: list[list[str]] = []

    def text(self, name: str, value: str) -> None:
        self.lines.append(f"{name}:{_text(value)}")

    def value(self, name: str, value: object) -> None:
        self.lines.append(f"{name}:{value}")

    def local(self, name: str, *moments: dt.datetime) -> None:
        """Wall-clock times of the centre's zone (one or several, for EXDATE)."""
        times = ",".join(m.strftime("%Y%m%dT%H%M%S") for m in moments)
        self.lines.append(f"{name};TZID={self.tzid}:{times}")

    def utc(self, name: str, moment: dt.datetime) -> None:
        self.lines.append(f"{name}:{moment.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}")

    def replace_utc(self, name: str, moment: dt.datetime) -> None:
        self.lines = [line for line in self.lines if not line.startswith(f"{name}:")]
        self.utc(name, moment)

    def alarm(self, before: dt.timedelta, text: str) -> None:
        self.alarms.append(
            ["ACTION:DISPLAY", f"DESCRIPTION:{_text(text)}", f"TRIGGER:{_duration(-before)}"]
        )

    def to_ical(self) -> bytes:
        lines = ["BEGIN:VEVENT", *self.lines]
        for alarm in self.alarms:
            lines += ["BEGIN:VALARM", *alarm, "END:VALARM"]
        lines.append("END:VEVENT")
        return b"".join(_fold(line) for line in lines)


@functools.lru_cache(maxsize=32)
def _vtimezone(zone: str, first_year: int, last_year: int) -> bytes:
    """The VTIMEZONE of ``zone`` as written by icalendar, for the years a feed covers."""
    if zone == "Europe/Paris":
        return PARIS_VTIMEZONE.replace("\n", "\r\n").encode()
    calendar = icalendar.Calendar()
    probe = icalendar.Event()
    probe.add("dtstart", dt.datetime(first_year, 6, 1, tzinfo=ZoneInfo(zone)))
    calendar.add_component(probe)
    calendar.add_missing_timezones(
        first_date=dt.date(first_year, 1, 1), last_date=dt.date(last_year, 12, 31)
    )
    [timezone] = calendar.walk("VTIMEZONE")
    return bytes(timezone.to_ical())


class _Writer:
    """Events of one centre, in its zone."""

    def __init__(self, centre: Centre, now: dt.datetime) -> None:
        self.centre = centre
        self.zone = centre.zone
        self.tzid = self.zone.key
        self.now = now
        self.domain = f"{centre.slug}.navette"
        self.latest = OLD_ROWS
        self.years: set[int] = set()

    def utc(self, moment: dt.datetime | None) -> dt.datetime:
        if moment is None:
            return OLD_ROWS
        return moment.replace(tzinfo=self.zone).astimezone(dt.UTC)

    def stamp(self, *moments: dt.datetime | None) -> dt.datetime:
        """DTSTAMP: the latest change among ``moments`` (local wall times), in UTC."""
        stamp = max(self.utc(m) for m in moments)
        self.latest = max(self.latest, stamp)
        return stamp

    def expired(self, cancelled: bool, changed: dt.datetime | None) -> bool:
        """A cancellation older than the retention period leaves the feed."""
        if not cancelled:
            return False
        return changed is None or changed < self.now - dt.timedelta(days=CANCELLED_KEPT_DAYS)

    def event(
        self,
        uid: str,
        *,
        starts_at: dt.datetime,
        ends_at: dt.datetime,
        summary: str,
        stamp: dt.datetime,
        sequence: int,
        status: str,
    ) -> Event:
        self.years.add(starts_at.year)
        event = Event(self.tzid)
        event.text("UID", f"{uid}@{self.domain}")
        event.utc("DTSTAMP", stamp)
        event.local("DTSTART", starts_at)
        event.local("DTEND", ends_at)
        event.text("SUMMARY", summary)
        event.value("SEQUENCE", sequence)
        event.value("STATUS", status)
        return event

    def place(self, event: Event, venue: Venue) -> None:
        event.text("LOCATION", f"{venue.name}, {with_town(venue.address, venue.commune)}")
        event.value("GEO", f"{venue.lat};{venue.lon}")

    def calendar(self, name: str, events: Iterable[Event]) -> Feed:
        head = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            f"PRODID:{PRODID}",
            "CALSCALE:GREGORIAN",
            f"X-WR-CALNAME:{_text(name)}",
            f"X-WR-TIMEZONE:{self.tzid}",
            f"REFRESH-INTERVAL;VALUE=DURATION:{_duration(REFRESH)}",
            f"X-PUBLISHED-TTL:{_duration(REFRESH)}",
        ]
        body = [_fold(line) for line in head]
        body += [event.to_ical() for event in events]
        years = self.years or {self.now.year}
        body.append(_vtimezone(self.tzid, min(years) - 1, max(years) + 1))
        body.append(b"END:VCALENDAR\r\n")
        return Feed(b"".join(body), self.latest)


# --- words ----------------------------------------------------------------------------------


def _who_to_call(session: ActivitySession) -> str:
    animator = session.animator
    if animator is not None and animator.phone:
        return f"Qui appeler : {animator.display_name}, au {animator.phone}."
    if animator is not None:
        return f"Qui appeler : le centre, et demander {animator.display_name}."
    return "Qui appeler : le centre."


def _session_lines(session: ActivitySession) -> list[str]:
    lines = []
    if session.is_cancelled:
        reason = f" : {session.cancel_reason}" if session.cancel_reason else "."
        lines.append(f"SÉANCE ANNULÉE{reason}")
    if session.activity.description:
        lines.append(session.activity.description)
    lines += [TO_BRING, _who_to_call(session)]
    if not session.venue.step_free:
        lines.append("Attention : le lieu n'est pas de plain-pied.")
    return lines


def _series_lines(series: SessionSeries) -> list[str]:
    lines = [series.activity.description] if series.activity.description else []
    animator = series.animator
    if animator is not None and animator.phone:
        who = f"Qui appeler : {animator.display_name}, au {animator.phone}."
    else:
        who = "Qui appeler : le centre."
    return [*lines, TO_BRING, who]


def _window(pickup: Pickup) -> str:
    leg = "Aller" if pickup.leg is Leg.outbound else "Retour"
    return (
        f"{leg} : le véhicule passe entre {format_time(pickup.promised_from)} "
        f"et {format_time(pickup.promised_to)}, {pickup.address}."
    )


def _transport_lines(booking: Booking, pickups: Sequence[Pickup]) -> list[str]:
    if not booking.needs_transport:
        return []
    if pickups:
        return [_window(p) for p in pickups]
    legs = " et ".join(
        leg
        for leg, wanted in (("aller", booking.transport_out), ("retour", booking.transport_back))
        if wanted
    )
    return [
        f"Transport demandé ({legs}) depuis : {booking.pickup_address}. "
        "L'heure de passage sera indiquée ici dès que la tournée sera publiée."
    ]


# --- bookings: the carer's feed, one person's feed, the single download ----------------------


def _booking_status(booking: Booking) -> str:
    if booking.status is BookingStatus.cancelled or booking.session.is_cancelled:
        return "CANCELLED"
    if booking.status is BookingStatus.waitlisted:
        return "TENTATIVE"
    return "CONFIRMED"


def _booking_event(
    writer: _Writer, booking: Booking, pickups: Sequence[Pickup], url: str | None
) -> Event:
    session = booking.session
    status = _booking_status(booking)
    event = writer.event(
        f"booking-{booking.id}",
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        summary=f"{session.activity.title} — {booking.person.full_name}",
        stamp=writer.stamp(booking.created_at, booking.updated_at, session.updated_at),
        # Both only ever grow: a moved session or a cancelled booking both raise it.
        sequence=booking.sequence + session.sequence,
        status=status,
    )
    writer.place(event, session.venue)
    lines = _transport_lines(booking, pickups) + _session_lines(session)
    if booking.status is BookingStatus.waitlisted:
        lines.insert(0, "Sur la liste d'attente : pas encore de place.")
    elif booking.status is BookingStatus.cancelled and not session.is_cancelled:
        lines.insert(0, "RÉSERVATION ANNULÉE.")
    if url:
        lines.append(f"Réservation : {url}")
        event.value("URL", url)
    event.text("DESCRIPTION", "\n".join(lines))
    if status != "CANCELLED":
        event.alarm(dt.timedelta(days=1), f"Demain : {session.activity.title}")
    return event


def booking_calendar(
    booking: Booking,
    *,
    centre: Centre,
    now: dt.datetime,
    url: str | None = None,
    pickups: Sequence[Pickup] = (),
) -> bytes:
    """One booking as a file to add to an agenda (confirmation page and e-mail)."""
    writer = _Writer(centre, now)
    event = _booking_event(writer, booking, pickups, url)
    return writer.calendar(f"Navette — {booking.session.activity.title}", [event]).body


def booking_file(db: DbSession, booking: Booking, url: str | None = None) -> bytes:
    """``booking_calendar`` with the centre and promised pickups read from the database."""
    centre = db.get(Centre, booking.centre_id)
    assert centre is not None  # a booking always belongs to a centre
    now = dt.datetime.now(centre.zone).replace(tzinfo=None)
    pickups = promised_pickups(db, [booking.id]).get(booking.id, ())
    return booking_calendar(booking, centre=centre, now=now, url=url, pickups=pickups)


def bookings_feed(
    bookings: Iterable[Booking],
    *,
    centre: Centre,
    now: dt.datetime,
    name: str,
    pickups: Mapping[int, Sequence[Pickup]],
) -> Feed:
    """A carer's (or one person's) bookings, with their promised pickup windows."""
    writer = _Writer(centre, now)
    events = [
        _booking_event(writer, b, pickups.get(b.id, ()), None)
        for b in bookings
        if not writer.expired(
            _booking_status(b) == "CANCELLED",
            max(filter(None, (b.updated_at, b.session.updated_at)), default=None),
        )
    ]
    return writer.calendar(name, events)


# --- sessions: the public agenda and the animator's feed -------------------------------------


def _session_status(session: ActivitySession) -> str:
    return "CANCELLED" if session.status is SessionStatus.cancelled else "CONFIRMED"


def _session_event(writer: _Writer, session: ActivitySession, uid: str, summary: str) -> Event:
    event = writer.event(
        uid,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        summary=summary,
        stamp=writer.stamp(session.updated_at),
        sequence=session.sequence,
        status=_session_status(session),
    )
    writer.place(event, session.venue)
    return event


def _series_rule(series: SessionSeries, writer: _Writer) -> str:
    first = dt.datetime.combine(series.first_date, series.start_time)
    rule = icalendar.vRecur.from_ical(
        series.rrule_text or rrule_text(series.frequency, first, series.until_date)
    )
    # With a TZID on DTSTART, RFC 5545 wants UNTIL in UTC.
    last = dt.datetime.combine(series.until_date, dt.time(23, 59))
    rule["UNTIL"] = [writer.utc(last)]
    return str(rule.to_ical().decode())


def _series_events(
    writer: _Writer, series: SessionSeries, occurrences: Sequence[ActivitySession]
) -> list[Event]:
    """The series as RRULE + EXDATE, and an override per occurrence that changed."""
    first = dt.datetime.combine(series.first_date, series.start_time)
    master = writer.event(
        f"series-{series.id}",
        starts_at=first,
        ends_at=dt.datetime.combine(series.first_date, series.end_time),
        summary=series.activity.title,
        stamp=writer.stamp(None, *(s.updated_at for s in occurrences if s.sequence == 0)),
        sequence=0,
        status="CONFIRMED",
    )
    writer.place(master, series.venue)
    master.value("RRULE", _series_rule(series, writer))
    excluded = [
        dt.datetime.combine(dt.date.fromisoformat(day), series.start_time)
        for day in series.excluded_dates
    ]
    overrides = []
    for session in occurrences:
        slot = session.series_slot or session.starts_at
        if writer.expired(session.is_cancelled, session.updated_at):
            excluded.append(slot)
        elif session.sequence > 0:
            override = _session_event(writer, session, f"series-{series.id}", series.activity.title)
            override.local("RECURRENCE-ID", slot)
            override.text("DESCRIPTION", "\n".join(_session_lines(session)))
            overrides.append(override)
    master.text("DESCRIPTION", "\n".join(_series_lines(series)))
    if excluded:
        master.local("EXDATE", *sorted(excluded))
    return [master, *overrides]


def agenda_feed(
    sessions: Sequence[ActivitySession], *, centre: Centre, now: dt.datetime, name: str
) -> Feed:
    """The centre's public agenda: what is on, where, and what was cancelled."""
    writer = _Writer(centre, now)
    events: list[Event] = []
    series_done: set[int] = set()
    for session in sessions:
        series = session.series
        if series is not None:
            if series.id in series_done:
                continue
            series_done.add(series.id)
            # Every occurrence, even one a filter left out: the rule would bring it back
            # at its old time or place otherwise.
            events += _series_events(writer, series, series.sessions)
        elif not writer.expired(session.is_cancelled, session.updated_at):
            event = _session_event(writer, session, f"session-{session.id}", session.activity.title)
            event.text("DESCRIPTION", "\n".join(_session_lines(session)))
            events.append(event)
    return writer.calendar(name, events)


def animator_feed(
    sessions: Iterable[ActivitySession],
    attendance: Mapping[int, Attendance],
    *,
    centre: Centre,
    now: dt.datetime,
    name: str,
) -> Feed:
    """The sessions a staff member leads, each with how many are booked.

    One event per session (not RRULE): each occurrence has its own list of people.
    """
    writer = _Writer(centre, now)
    events = []
    for session in sessions:
        if writer.expired(session.is_cancelled, session.updated_at):
            continue
        counts = attendance.get(session.id, Attendance())
        booked = (
            f"{plural(counts.seats_taken, 'inscrit', 'inscrits')} "
            f"sur {plural(session.seats, 'place', 'places')}"
        )
        event = _session_event(
            writer, session, f"session-{session.id}", f"{session.activity.title} ({booked})"
        )
        event.replace_utc("DTSTAMP", writer.stamp(session.updated_at, counts.last_change))
        lines = [booked + "."]
        if counts.waitlisted:
            lines.append(
                f"{plural(counts.waitlisted, 'personne', 'personnes')} en liste d'attente."
            )
        lines += _session_lines(session)[:-2]
        event.text("DESCRIPTION", "\n".join(lines))
        if not session.is_cancelled:
            event.alarm(dt.timedelta(hours=2), f"Dans 2 heures : {session.activity.title}")
        events.append(event)
    return writer.calendar(name, events)


# --- rounds: the driver's feed -----------------------------------------------------------------


def _publication_number(published_at: dt.datetime | None) -> int:
    """A round's SEQUENCE: rounds keep no change counter, and each (re)publication is the
    change a driver must see, so its time in minutes since 2026 serves: it only grows."""
    if published_at is None:
        return 0
    return max(0, int((published_at - dt.datetime(2026, 1, 1)).total_seconds() // 60))


def rounds_feed(rounds: Iterable[Round], *, centre: Centre, now: dt.datetime, name: str) -> Feed:
    """A driver's published rounds, located at their first pickup."""
    writer = _Writer(centre, now)
    events = []
    for round_ in rounds:
        pickups = [s for s in round_.stops if s.kind is StopKind.pickup]
        event = writer.event(
            f"round-{round_.id}",
            starts_at=round_.starts_at,
            ends_at=round_.ends_at,
            summary=f"Tournée — {round_.vehicle.name}",
            stamp=writer.stamp(round_.day.published_at),
            sequence=_publication_number(round_.day.published_at),
            status="CONFIRMED",
        )
        lines = [
            f"{plural(len(pickups), 'prise', 'prises')} en charge, {round_.distance_km:.0f} km."
        ]
        if pickups:
            first = min(pickups, key=lambda s: s.planned_begin)
            event.text("LOCATION", first.address)
            event.value("GEO", f"{first.lat};{first.lon}")
            lines.insert(
                0, f"Premier passage à {format_time(first.planned_begin)} : {first.address}."
            )
        lines.append("La feuille de route détaillée est dans Navette (onglet Chauffeur).")
        event.text("DESCRIPTION", "\n".join(lines))
        event.alarm(dt.timedelta(minutes=30), "Départ de tournée dans 30 minutes")
        events.append(event)
    return writer.calendar(name, events)
