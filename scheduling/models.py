"""The booking domain's tables.

Times are naive wall-clock datetimes in the centre's zone (``Centre.timezone``, Europe/Paris by
default): sessions happen at a place, and "14:00" must stay "14:00" across DST changes.
Every row belongs to a centre, directly (``centre_id``) or through its parent.
"""

from __future__ import annotations

import datetime as dt
import enum
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.orm import Mapped, mapped_column, relationship

import scheduling.data_version  # noqa: F401  (the change counter: its table and listeners)
from scheduling.db import Base


def _enum_column(enum_class: type[enum.Enum]) -> SqlEnum:
    # Stored as plain strings: adding a state later needs no ALTER TYPE on PostgreSQL.
    return SqlEnum(enum_class, native_enum=False, length=30, create_constraint=False)


class LabelledEnum(enum.StrEnum):
    """A string enum whose members carry a French label for the pages."""

    @property
    def label(self) -> str:
        return LABELS.get(type(self), {}).get(self.value, self.value)


class VenueKind(LabelledEnum):
    ehpad = "ehpad"
    hall = "hall"
    bus_stop = "bus_stop"
    other = "other"


class Role(LabelledEnum):
    admin = "admin"
    coordinator = "coordinator"
    animator = "animator"
    carer = "carer"
    driver = "driver"


class Mobility(LabelledEnum):
    walks = "walks"
    walker = "walker"
    wheelchair = "wheelchair"


class Field(LabelledEnum):
    """The three fields (axes) of the CRT's volet 1."""

    care_prevention = "care_prevention"
    isolation = "isolation"
    professional = "professional"


class Audience(LabelledEnum):
    older_people = "older_people"
    carers = "carers"
    professionals = "professionals"


class Frequency(LabelledEnum):
    weekly = "weekly"
    biweekly = "biweekly"
    monthly = "monthly"


class SessionStatus(LabelledEnum):
    scheduled = "scheduled"
    cancelled = "cancelled"


class BookingStatus(LabelledEnum):
    confirmed = "confirmed"
    waitlisted = "waitlisted"
    cancelled = "cancelled"
    attended = "attended"
    excused = "excused"
    no_show = "no_show"


# A booking in one of these states holds its seats (attendance keeps the seat counted).
SEAT_HOLDING_STATUSES = (
    BookingStatus.confirmed,
    BookingStatus.attended,
    BookingStatus.excused,
    BookingStatus.no_show,
)
# States of a booking that is still "on" for the person (no second booking allowed).
ACTIVE_BOOKING_STATUSES = (*SEAT_HOLDING_STATUSES, BookingStatus.waitlisted)


class VehicleKind(LabelledEnum):
    minibus = "minibus"
    adapted_van = "adapted_van"
    volunteer_car = "volunteer_car"


class NotificationKind(LabelledEnum):
    booking_confirmed = "booking_confirmed"
    booking_waitlisted = "booking_waitlisted"
    booking_cancelled = "booking_cancelled"
    promoted_from_waitlist = "promoted_from_waitlist"
    session_cancelled = "session_cancelled"
    session_changed = "session_changed"
    # A driver found nobody at the door: the coordinator must check on the person at once.
    welfare_alert = "welfare_alert"
    # A round was published (pickup window promised) or changed after publication.
    transport_planned = "transport_planned"
    transport_changed = "transport_changed"


class NotificationChannel(LabelledEnum):
    email = "email"
    phone_call = "phone_call"


# French labels shown on the pages, by enum and value.
LABELS: dict[type[LabelledEnum], dict[str, str]] = {
    VenueKind: {
        "ehpad": "EHPAD",
        "hall": "Salle communale",
        "bus_stop": "Arrêt du bus de téléconsultation",
        "other": "Autre lieu",
    },
    Role: {
        "admin": "Administrateur",
        "coordinator": "Coordination",
        "animator": "Animation",
        "carer": "Aidant",
        "driver": "Chauffeur",
    },
    Mobility: {
        "walks": "Se déplace seul(e)",
        "walker": "Avec un déambulateur",
        "wheelchair": "En fauteuil roulant",
    },
    Field: {
        "care_prevention": "Accès aux soins et prévention",
        "isolation": "Lutte contre l'isolement",
        "professional": "Pratiques professionnelles",
    },
    Audience: {
        "older_people": "Personnes âgées",
        "carers": "Aidants",
        "professionals": "Professionnels",
    },
    Frequency: {
        "weekly": "Toutes les semaines",
        "biweekly": "Toutes les deux semaines",
        "monthly": "Tous les mois",
    },
    SessionStatus: {
        "scheduled": "Prévue",
        "cancelled": "Annulée",
    },
    BookingStatus: {
        "confirmed": "Confirmée",
        "waitlisted": "Liste d'attente",
        "cancelled": "Annulée",
        "attended": "Présent(e)",
        "excused": "Excusé(e)",
        "no_show": "Absent(e)",
    },
    VehicleKind: {
        "minibus": "Minibus",
        "adapted_van": "Véhicule adapté (TPMR)",
        "volunteer_car": "Voiture de bénévole",
    },
    NotificationKind: {
        "booking_confirmed": "Réservation confirmée",
        "booking_waitlisted": "Inscription en liste d'attente",
        "booking_cancelled": "Réservation annulée",
        "promoted_from_waitlist": "Place libérée",
        "session_cancelled": "Séance annulée",
        "session_changed": "Séance modifiée",
        "welfare_alert": "Personne ne répond à la porte",
        "transport_planned": "Heure de passage du transport",
        "transport_changed": "Transport modifié",
    },
    NotificationChannel: {
        "email": "Courriel",
        "phone_call": "Appel téléphonique",
    },
}


# Where a centre is unless it says otherwise (its times are wall-clock times there).
DEFAULT_TIMEZONE = "Europe/Paris"


class Centre(Base):
    """A CRT: the tenant. Everything else belongs to one."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    address: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)

    communes: Mapped[list[Commune]] = relationship(back_populates="centre")
    venues: Mapped[list[Venue]] = relationship(back_populates="centre")
    users: Mapped[list[User]] = relationship(back_populates="centre")
    persons: Mapped[list[Person]] = relationship(back_populates="centre")
    activities: Mapped[list[Activity]] = relationship(back_populates="centre")
    vehicles: Mapped[list[Vehicle]] = relationship(back_populates="centre")
    drivers: Mapped[list[Driver]] = relationship(back_populates="centre")

    @property
    def zone(self) -> ZoneInfo:
        """The centre's time zone: its times are stored as wall-clock times there."""
        return ZoneInfo(self.timezone or DEFAULT_TIMEZONE)


class Commune(Base):
    __tablename__ = "communes"
    __table_args__ = (UniqueConstraint("centre_id", "insee"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    insee: Mapped[str] = mapped_column(String(5))
    name: Mapped[str] = mapped_column(String(120))
    postcode: Mapped[str] = mapped_column(String(5))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)

    centre: Mapped[Centre] = relationship(back_populates="communes")
    venues: Mapped[list[Venue]] = relationship(back_populates="commune")
    persons: Mapped[list[Person]] = relationship(back_populates="commune")


class Venue(Base):
    __tablename__ = "venues"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    step_free: Mapped[bool] = mapped_column(Boolean, default=True)
    kind: Mapped[VenueKind] = mapped_column(_enum_column(VenueKind), default=VenueKind.hall)

    centre: Mapped[Centre] = relationship(back_populates="venues")
    commune: Mapped[Commune] = relationship(back_populates="venues")
    sessions: Mapped[list[ActivitySession]] = relationship(back_populates="venue")


carer_link = Table(
    "carer_link",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class User(Base):
    """An account. Also satisfies Flask-Login's user protocol by duck typing."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(_enum_column(Role))
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    # An older person with an account is linked to their own person record.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    centre: Mapped[Centre] = relationship(back_populates="users")
    person: Mapped[Person | None] = relationship(
        back_populates="accounts", foreign_keys=[person_id]
    )
    helped_persons: Mapped[list[Person]] = relationship(
        secondary=carer_link, back_populates="carers"
    )

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class Person(Base):
    """Someone who attends. Holds mobility only: never a diagnosis, never a GIR score."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(300), default="")
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    mobility: Mapped[Mobility] = mapped_column(_enum_column(Mobility), default=Mobility.walks)
    companion_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Door code, dog, stairs: what a driver needs to know, nothing medical.
    driver_notes: Mapped[str] = mapped_column(Text, default="")

    centre: Mapped[Centre] = relationship(back_populates="persons")
    commune: Mapped[Commune] = relationship(back_populates="persons")
    carers: Mapped[list[User]] = relationship(secondary=carer_link, back_populates="helped_persons")
    accounts: Mapped[list[User]] = relationship(
        back_populates="person", foreign_keys="User.person_id"
    )
    bookings: Mapped[list[Booking]] = relationship(back_populates="person")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Activity(Base):
    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    field: Mapped[Field] = mapped_column(_enum_column(Field))
    audience: Mapped[Audience] = mapped_column(_enum_column(Audience))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    centre: Mapped[Centre] = relationship(back_populates="activities")
    series: Mapped[list[SessionSeries]] = relationship(back_populates="activity")
    sessions: Mapped[list[ActivitySession]] = relationship(back_populates="activity")


def series_rrule(frequency: Frequency, first: dt.datetime, until: dt.date) -> rrule:
    """The recurrence of a series starting at ``first``.

    Monthly repeats on the same weekday rank (« le 2e mardi du mois »), because workshops
    follow the weekly life of a village; a 5th weekday becomes « le dernier ».
    """
    last = dt.datetime.combine(until, dt.time(23, 59))
    if frequency is Frequency.monthly:
        rank = (first.day - 1) // 7 + 1
        return rrule(
            MONTHLY,
            dtstart=first,
            until=last,
            byweekday=weekday(first.weekday())(-1 if rank == 5 else rank),
        )
    interval = 2 if frequency is Frequency.biweekly else 1
    return rrule(WEEKLY, interval=interval, dtstart=first, until=last)


class SessionSeries(Base):
    """A recurring session; its occurrences are ordinary ``ActivitySession`` rows."""

    __tablename__ = "session_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    frequency: Mapped[Frequency] = mapped_column(_enum_column(Frequency))
    first_date: Mapped[dt.date] = mapped_column(Date)
    until_date: Mapped[dt.date] = mapped_column(Date)
    start_time: Mapped[dt.time] = mapped_column(Time)
    end_time: Mapped[dt.time] = mapped_column(Time)
    # ISO dates ("2026-12-24") on which no occurrence is generated.
    excluded_dates: Mapped[list[str]] = mapped_column(JSON, default=list)
    # RFC 5545 RRULE text (without DTSTART), kept for the iCal feeds.
    rrule_text: Mapped[str] = mapped_column(String(200), default="")
    # Defaults copied to each generated occurrence.
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    seats: Mapped[int] = mapped_column(Integer)
    wheelchair_places: Mapped[int] = mapped_column(Integer, default=0)
    animator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    transport_offered: Mapped[bool] = mapped_column(Boolean, default=False)
    booking_deadline_hours: Mapped[int | None] = mapped_column(Integer)

    activity: Mapped[Activity] = relationship(back_populates="series")
    venue: Mapped[Venue] = relationship()
    animator: Mapped[User | None] = relationship()
    sessions: Mapped[list[ActivitySession]] = relationship(
        back_populates="series", order_by="ActivitySession.starts_at"
    )

    def rrule(self) -> rrule:
        """The recurrence as a dateutil rrule (excluded dates not applied)."""
        first = dt.datetime.combine(self.first_date, self.start_time)
        return series_rrule(self.frequency, first, self.until_date)


class ActivitySession(Base):
    """One occurrence of an activity at a venue."""

    __tablename__ = "activity_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("session_series.id"), index=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime)
    seats: Mapped[int] = mapped_column(Integer)
    wheelchair_places: Mapped[int] = mapped_column(Integer, default=0)
    animator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    booking_deadline: Mapped[dt.datetime | None] = mapped_column(DateTime)
    transport_offered: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[SessionStatus] = mapped_column(
        _enum_column(SessionStatus), default=SessionStatus.scheduled
    )
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # iCalendar bookkeeping: SEQUENCE goes up on every change subscribers must see, and
    # ``updated_at`` (local wall time) dates it. ``series_slot`` keeps the slot of its series an
    # occurrence was generated for, once it is moved (the feeds' RECURRENCE-ID).
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    series_slot: Mapped[dt.datetime | None] = mapped_column(DateTime)

    activity: Mapped[Activity] = relationship(back_populates="sessions")
    series: Mapped[SessionSeries | None] = relationship(back_populates="sessions")
    venue: Mapped[Venue] = relationship(back_populates="sessions")
    animator: Mapped[User | None] = relationship()
    bookings: Mapped[list[Booking]] = relationship(back_populates="session")

    @property
    def is_cancelled(self) -> bool:
        return self.status is SessionStatus.cancelled


class Booking(Base):
    """A person's place (or waitlist entry) at a session.

    Seats used = 1 + companions; wheelchair places used = 1 when ``mobility`` is wheelchair.
    Waitlist order is ``created_at`` then ``id``.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        # At most one live booking per person and session, even if two requests race.
        Index(
            "uq_bookings_live_person",
            "session_id",
            "person_id",
            unique=True,
            sqlite_where=text("status <> 'cancelled'"),
            postgresql_where=text("status <> 'cancelled'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("activity_sessions.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    status: Mapped[BookingStatus] = mapped_column(_enum_column(BookingStatus))
    companions: Mapped[int] = mapped_column(Integer, default=0)
    transport_out: Mapped[bool] = mapped_column(Boolean, default=False)
    transport_back: Mapped[bool] = mapped_column(Boolean, default=False)
    # Copied from the person at booking time, editable for this booking only.
    pickup_address: Mapped[str] = mapped_column(String(300), default="")
    mobility: Mapped[Mobility] = mapped_column(_enum_column(Mobility), default=Mobility.walks)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # iCalendar bookkeeping, as on ActivitySession.
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    session: Mapped[ActivitySession] = relationship(back_populates="bookings")
    person: Mapped[Person] = relationship(back_populates="bookings")
    booked_by: Mapped[User | None] = relationship()

    @property
    def needs_transport(self) -> bool:
        return self.transport_out or self.transport_back


class Vehicle(Base):
    __tablename__ = "vehicles"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[VehicleKind] = mapped_column(_enum_column(VehicleKind))
    seats: Mapped[int] = mapped_column(Integer)
    wheelchair_places: Mapped[int] = mapped_column(Integer, default=0)
    depot_address: Mapped[str] = mapped_column(String(300), default="")
    depot_lat: Mapped[float] = mapped_column(Float)
    depot_lon: Mapped[float] = mapped_column(Float)
    available_from: Mapped[dt.time] = mapped_column(Time)
    available_until: Mapped[dt.time] = mapped_column(Time)

    centre: Mapped[Centre] = relationship(back_populates="vehicles")


class Driver(Base):
    __tablename__ = "drivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    phone: Mapped[str] = mapped_column(String(30), default="")
    volunteer: Mapped[bool] = mapped_column(Boolean, default=False)
    available_from: Mapped[dt.time] = mapped_column(Time)
    available_until: Mapped[dt.time] = mapped_column(Time)
    # Days the driver works, as Python weekday numbers (0 = Monday … 6 = Sunday).
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=lambda: [0, 1, 2, 3, 4])

    centre: Mapped[Centre] = relationship(back_populates="drivers")
    user: Mapped[User] = relationship()


class Notification(Base):
    """The outbox (e-mails the shell sends) and the staff's call list (phone calls)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("activity_sessions.id"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(_enum_column(NotificationKind))
    channel: Mapped[NotificationChannel] = mapped_column(_enum_column(NotificationChannel))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    person: Mapped[Person | None] = relationship()
    user: Mapped[User | None] = relationship()
    booking: Mapped[Booking | None] = relationship()
    session: Mapped[ActivitySession | None] = relationship()


class FeedKind(LabelledEnum):
    """Whose agenda a private calendar feed carries."""

    carer = "carer"  # the bookings of every person a carer helps
    animator = "animator"  # the sessions a staff member leads
    driver = "driver"  # a driver's published rounds
    person = "person"  # one person's bookings (given by staff to someone without an account)


LABELS[FeedKind] = {
    "carer": "Les réservations des personnes que j'aide",
    "animator": "Les séances que j'anime",
    "driver": "Mes tournées",
    "person": "Les réservations d'une personne",
}


class CalendarToken(Base):
    """The secret of a private calendar feed URL; revoked tokens answer 404."""

    __tablename__ = "calendar_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[FeedKind] = mapped_column(_enum_column(FeedKind))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    person: Mapped[Person | None] = relationship()
