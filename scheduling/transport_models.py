"""The transport tables: settings, geocoding cache, planned days, rounds and their stops.

Same conventions as ``scheduling.models``: naive wall-clock datetimes in the centre's zone,
string enums with French labels, ``centre_id`` on every top-level row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduling.db import Base
from scheduling.models import (
    LABELS,
    Booking,
    Centre,
    Driver,
    LabelledEnum,
    Mobility,
    Person,
    User,
    Vehicle,
    _enum_column,
)


class GeocodeSource(LabelledEnum):
    ban = "ban"
    commune = "commune"
    manual = "manual"


class DayStatus(LabelledEnum):
    draft = "draft"
    published = "published"


class JobStatus(LabelledEnum):
    idle = "idle"
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Leg(LabelledEnum):
    outbound = "outbound"
    back = "return"


class StopKind(LabelledEnum):
    pickup = "pickup"
    dropoff = "dropoff"


class StopStatus(LabelledEnum):
    planned = "planned"
    picked_up = "picked_up"
    dropped_off = "dropped_off"
    no_show = "no_show"
    nobody_answered = "nobody_answered"


LABELS.update(
    {
        GeocodeSource: {
            "ban": "Base adresse nationale",
            "commune": "Centre de la commune",
            "manual": "Saisie manuelle",
        },
        DayStatus: {"draft": "Brouillon", "published": "Publiée"},
        JobStatus: {
            "idle": "Aucun calcul",
            "queued": "En attente",
            "running": "Calcul en cours",
            "done": "Terminé",
            "failed": "Échec",
        },
        Leg: {"outbound": "Aller", "return": "Retour"},
        StopKind: {"pickup": "Prise en charge", "dropoff": "Dépose"},
        StopStatus: {
            "planned": "Prévu",
            "picked_up": "Pris(e) en charge",
            "dropped_off": "Déposé(e)",
            "no_show": "Absent(e)",
            "nobody_answered": "Personne ne répond",
        },
    }
)


class TransportSettings(Base):
    """The centre's transport rules; the defaults are the agreed ones (see DESIGN.md flow 3)."""

    __tablename__ = "transport_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), unique=True)
    # Arrive at the venue between `earliest` and `latest` minutes before the session starts.
    outbound_earliest_min: Mapped[int] = mapped_column(Integer, default=30)
    outbound_latest_min: Mapped[int] = mapped_column(Integer, default=5)
    # Picked up at the venue within this many minutes after the session ends.
    return_latest_min: Mapped[int] = mapped_column(Integer, default=20)
    boarding_walks_min: Mapped[int] = mapped_column(Integer, default=2)
    boarding_walker_min: Mapped[int] = mapped_column(Integer, default=4)
    boarding_wheelchair_min: Mapped[int] = mapped_column(Integer, default=8)
    alighting_min: Mapped[int] = mapped_column(Integer, default=2)
    # Max ride = min(cap, max(floor, factor × direct trip)).
    max_ride_floor_min: Mapped[int] = mapped_column(Integer, default=30)
    max_ride_factor: Mapped[float] = mapped_column(Float, default=1.5)
    max_ride_cap_min: Mapped[int] = mapped_column(Integer, default=90)
    promise_window_min: Mapped[int] = mapped_column(Integer, default=15)
    speed_kmh: Mapped[float] = mapped_column(Float, default=45.0)
    circuity: Mapped[float] = mapped_column(Float, default=1.3)
    osrm_url: Mapped[str | None] = mapped_column(String(300))
    solver_time_limit_s: Mapped[int] = mapped_column(Integer, default=10)

    centre: Mapped[Centre] = relationship()

    def boarding_minutes(self, mobility: Mobility) -> int:
        return {
            Mobility.walks: self.boarding_walks_min,
            Mobility.walker: self.boarding_walker_min,
            Mobility.wheelchair: self.boarding_wheelchair_min,
        }[mobility]

    def max_ride(self, direct_minutes: float) -> float:
        longest = max(float(self.max_ride_floor_min), self.max_ride_factor * direct_minutes)
        return min(float(self.max_ride_cap_min), longest)


class GeocodeEntry(Base):
    """A cache of looked-up addresses: each address is geocoded once."""

    __tablename__ = "geocode_entries"
    __table_args__ = (UniqueConstraint("centre_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    address: Mapped[str] = mapped_column(String(400))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    source: Mapped[GeocodeSource] = mapped_column(_enum_column(GeocodeSource))
    looked_up_at: Mapped[dt.datetime] = mapped_column(DateTime)


class TransportDay(Base):
    """One date's transport plan for a centre, and the state of its background build."""

    __tablename__ = "transport_days"
    __table_args__ = (UniqueConstraint("centre_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[DayStatus] = mapped_column(_enum_column(DayStatus), default=DayStatus.draft)
    job_status: Mapped[JobStatus] = mapped_column(_enum_column(JobStatus), default=JobStatus.idle)
    job_progress: Mapped[int] = mapped_column(Integer, default=0)
    job_message: Mapped[str] = mapped_column(Text, default="")
    job_id: Mapped[str | None] = mapped_column(String(100))
    built_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # distance_km, hours, longest_ride_min, unserved: [{booking_id, leg, reason}], unlocated: [...]
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    centre: Mapped[Centre] = relationship()
    rounds: Mapped[list[Round]] = relationship(
        back_populates="day", order_by="Round.id", cascade="all, delete-orphan"
    )
    pins: Mapped[list[RequestPin]] = relationship(
        back_populates="day", cascade="all, delete-orphan"
    )


class Round(Base):
    """One vehicle's route on a day."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("transport_days.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    driver_id: Mapped[int | None] = mapped_column(ForeignKey("drivers.id"), index=True)
    status: Mapped[DayStatus] = mapped_column(_enum_column(DayStatus), default=DayStatus.draft)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime)
    distance_km: Mapped[float] = mapped_column(Float, default=0.0)

    day: Mapped[TransportDay] = relationship(back_populates="rounds")
    vehicle: Mapped[Vehicle] = relationship()
    driver: Mapped[Driver | None] = relationship()
    stops: Mapped[list[RoundStop]] = relationship(
        back_populates="round", order_by="RoundStop.seq", cascade="all, delete-orphan"
    )


class RoundStop(Base):
    __tablename__ = "round_stops"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    leg: Mapped[Leg] = mapped_column(_enum_column(Leg))
    kind: Mapped[StopKind] = mapped_column(_enum_column(StopKind))
    address: Mapped[str] = mapped_column(String(400), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    planned_arrival: Mapped[dt.datetime] = mapped_column(DateTime)
    planned_begin: Mapped[dt.datetime] = mapped_column(DateTime)
    planned_departure: Mapped[dt.datetime] = mapped_column(DateTime)
    # Set at publication, for pickups: the window the carer is told.
    promised_from: Mapped[dt.datetime | None] = mapped_column(DateTime)
    promised_to: Mapped[dt.datetime | None] = mapped_column(DateTime)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[StopStatus] = mapped_column(_enum_column(StopStatus), default=StopStatus.planned)
    marked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    round: Mapped[Round] = relationship(back_populates="stops")
    booking: Mapped[Booking] = relationship()
    marked_by: Mapped[User | None] = relationship()


class RequestPin(Base):
    """The coordinator keeps one leg of a booking on a given vehicle when re-solving."""

    __tablename__ = "request_pins"
    __table_args__ = (UniqueConstraint("day_id", "booking_id", "leg"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("transport_days.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    leg: Mapped[Leg] = mapped_column(_enum_column(Leg))
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)

    day: Mapped[TransportDay] = relationship(back_populates="pins")
    vehicle: Mapped[Vehicle] = relationship()


class WelfareAlert(Base):
    """« Personne ne répond » at a door: a possible fall, for the coordinator to follow up."""

    __tablename__ = "welfare_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    # The stop may leave the rounds (the booking cancelled, the day re-planned) while the alert,
    # a possible fall, must stay: it keeps the person and the address, and loses only the stop.
    stop_id: Mapped[int | None] = mapped_column(
        ForeignKey("round_stops.id", ondelete="SET NULL"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")

    stop: Mapped[RoundStop | None] = relationship()
    person: Mapped[Person | None] = relationship()
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])

    @property
    def concerned(self) -> Person | None:
        """The person at the door, known even once the stop has left the rounds."""
        if self.person is not None:
            return self.person
        return self.stop.booking.person if self.stop is not None else None

    @property
    def person_name(self) -> str:
        return self.concerned.full_name if self.concerned is not None else "personne inconnue"
