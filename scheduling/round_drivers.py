"""Who drives each round, and what drivers are told when their rounds change.

- The coordinator picks (or changes) a round's driver by hand, before or after publication.
  The choice is kept per vehicle in the day's summary (``manual_drivers``), so a re-plan or a
  rebuild gives the vehicle's new round the same driver.
- Once a day is published, what each driver was last told is kept in the day's summary
  (``published_rounds``). When the day is published again (after a rebuild) each driver whose
  rounds differ from it gets one message that sums up the difference.

Drivers are told the way a cancellation's re-plan tells them (``notify_driver``): an e-mail to
their account's address. Use-cases only flush; the caller commits, then sends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import selectinload

from scheduling.models import (
    Booking,
    Driver,
    Notification,
    NotificationChannel,
    NotificationKind,
    Role,
    User,
)
from scheduling.notifications import format_date, format_time, plural
from scheduling.outcomes import Result, failed, succeeded
from scheduling.transport_models import DayStatus, Leg, Round, StopKind, TransportDay

MANUAL_KEY = "manual_drivers"  # {vehicle id (str): driver id}
TOLD_KEY = (
    "published_rounds"  # [{driver, vehicle, vehicle_name, stops: [[booking, leg, kind, hh:mm]]}]
)
KEPT_SUMMARY_KEYS = (MANUAL_KEY, TOLD_KEY)
INVALID_CHOICE = "Choix invalide : choisissez un chauffeur de la liste."


# --- telling a driver -----------------------------------------------------------------------


def notify_driver(
    db: DbSession,
    user: User,
    day: TransportDay,
    changes: Sequence[str],
    now: dt.datetime,
    *,
    intro: str = "Votre tournée a changé :",
) -> list[Notification]:
    """An e-mail to the driver's account listing ``changes`` (nothing without an address)."""
    if not user.email or not changes:
        return []
    notification = Notification(
        centre_id=day.centre_id,
        user_id=user.id,
        kind=NotificationKind.transport_changed,
        channel=NotificationChannel.email,
        recipient=user.email,
        subject=f"Tournée du {day.date:%d/%m/%Y} modifiée",
        body=intro + "\n" + "\n".join(f"- {c}" for c in changes),
        created_at=now,
    )
    db.add(notification)
    db.flush()
    return [notification]


# --- choosing drivers by hand ---------------------------------------------------------------


@dataclass(frozen=True)
class DriverChoice:
    driver: Driver
    available: bool  # declared that weekday

    @property
    def label(self) -> str:
        name = self.driver.user.display_name
        return name if self.available else f"{name} (pas de disponibilité déclarée ce jour-là)"


def driver_choices(db: DbSession, centre_id: int, day: dt.date) -> list[DriverChoice]:
    """The centre's active drivers: those who declared ``day``'s weekday first, then the others."""
    drivers = db.scalars(
        select(Driver)
        .join(User, Driver.user_id == User.id)
        .where(
            Driver.centre_id == centre_id,
            User.centre_id == centre_id,
            User.active.is_(True),
            User.role == Role.driver,
        )
        .options(selectinload(Driver.user))
    ).all()
    choices = [DriverChoice(d, day.weekday() in (d.weekdays or [])) for d in drivers]
    return sorted(choices, key=lambda c: (not c.available, c.driver.user.display_name, c.driver.id))


def manual_drivers(day: TransportDay) -> dict[int, int]:
    """Vehicle id -> driver id chosen by hand for that vehicle's round."""
    chosen = (day.summary or {}).get(MANUAL_KEY, {})
    return {int(vehicle): int(driver) for vehicle, driver in chosen.items()}


def set_round_drivers(
    db: DbSession,
    *,
    day: TransportDay,
    wanted: Mapping[int, int | None],
    actor: User,
    now: dt.datetime,
) -> Result[list[Notification]]:
    """Give each round of ``day`` (round id -> driver id, None for nobody) its driver.

    All or nothing: a driver who is not an active driver of the centre is refused with the
    round's key (``round-<id>``) and nothing changes. On a published day the driver newly given
    a round and the driver who lost it are told.
    """
    if not actor.active or actor.role not in (Role.coordinator, Role.admin):
        return failed({"__all__": "Seule la coordination choisit les chauffeurs."})
    if day.centre_id != actor.centre_id:
        return failed({"__all__": "Ce jour n'existe pas."})
    allowed = {c.driver.id: c.driver for c in driver_choices(db, day.centre_id, day.date)}
    rounds = {r.id: r for r in day.rounds}
    errors = {
        f"round-{round_id}": INVALID_CHOICE
        for round_id, driver_id in wanted.items()
        if round_id in rounds and driver_id is not None and driver_id not in allowed
    }
    errors = errors or _clashes(rounds, wanted)
    if errors:
        return failed(errors)
    chosen = manual_drivers(day)
    gained: dict[int, list[Round]] = {}
    lost: dict[int, list[Round]] = {}
    for round_id, driver_id in wanted.items():
        round_ = rounds.get(round_id)
        if round_ is None or round_.driver_id == driver_id:
            continue
        if round_.driver_id is not None:
            lost.setdefault(round_.driver_id, []).append(round_)
        if driver_id is not None:
            gained.setdefault(driver_id, []).append(round_)
        round_.driver_id = driver_id
        if driver_id is None:
            chosen.pop(round_.vehicle_id, None)
        else:
            chosen[round_.vehicle_id] = driver_id
    day.summary = {**(day.summary or {}), MANUAL_KEY: {str(v): d for v, d in chosen.items()}}
    db.flush()
    notifications: list[Notification] = []
    if day.status is DayStatus.published:
        for driver_id in sorted(gained.keys() | lost.keys()):
            driver = db.get(Driver, driver_id)
            if driver is None:
                continue
            lines = [f"Tournée retirée : {_round_words(r)}." for r in lost.get(driver_id, [])]
            lines += [f"Nouvelle tournée : {_round_words(r)}." for r in gained.get(driver_id, [])]
            notifications += notify_driver(
                db, driver.user, day, lines, now, intro=f"Vos tournées du {format_date(day.date)} :"
            )
        remember_published(day)
    return succeeded(notifications)


def _clashes(rounds: Mapping[int, Round], wanted: Mapping[int, int | None]) -> dict[str, str]:
    """Rounds a driver would have to drive at the same time, keyed by the round chosen here."""
    driver_of = {rid: wanted.get(rid, r.driver_id) for rid, r in rounds.items()}
    errors: dict[str, str] = {}
    for round_id in wanted:
        round_ = rounds.get(round_id)
        driver_id = driver_of.get(round_id)
        if round_ is None or driver_id is None:
            continue
        for other_id, other in rounds.items():
            overlaps = other.starts_at < round_.ends_at and round_.starts_at < other.ends_at
            if other_id != round_id and driver_of[other_id] == driver_id and overlaps:
                errors[f"round-{round_id}"] = (
                    f"Ce chauffeur conduit aussi {other.vehicle.name} de "
                    f"{format_time(other.starts_at)} à {format_time(other.ends_at)} : "
                    "choisissez-en un autre pour l'une des deux tournées."
                )
                break
    return errors


def _round_words(round_: Round) -> str:
    return round_words(
        round_.vehicle.name,
        format_time(round_.starts_at),
        format_time(round_.ends_at),
        len(round_.stops),
    )


def round_words(vehicle: str, starts: str, ends: str, stops: int) -> str:
    """« Minibus, départ 8 h 10, retour 11 h 05 (3 arrêts) »."""
    return f"{vehicle}, départ {starts}, retour {ends} ({plural(stops, 'arrêt', 'arrêts')})"


# --- what drivers were told, and what changed since ----------------------------------------


def driven_rounds(day: TransportDay) -> list[dict[str, Any]]:
    """The day's rounds as drivers see them, JSON-ready."""
    return [
        {
            "driver": r.driver_id,
            "vehicle": r.vehicle_id,
            "vehicle_name": r.vehicle.name,
            "starts": format_time(r.starts_at),
            "ends": format_time(r.ends_at),
            "stops": [
                [s.booking_id, s.leg.value, s.kind.value, format_time(s.planned_begin)]
                for s in r.stops
            ],
        }
        for r in day.rounds
    ]


def remember_published(day: TransportDay) -> None:
    """Record what the drivers now know of the day (call once they are told)."""
    day.summary = {**(day.summary or {}), TOLD_KEY: driven_rounds(day)}


def _stop_words(db: DbSession, booking_id: int, leg: str, kind: str) -> str:
    booking = db.get(Booking, booking_id)
    who = booking.person.full_name if booking is not None else f"réservation {booking_id}"
    what = StopKind(kind).label.lower()
    return f"{what} ({Leg(leg).label.lower()}) de {who}"


def round_changes(
    db: DbSession, before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]
) -> dict[int, list[str]]:
    """Driver id -> the changes of their rounds between two ``driven_rounds``, in French."""
    changes: dict[int, list[str]] = {}

    def by_driver(rounds: Sequence[Mapping[str, Any]]) -> dict[int, dict[int, Mapping[str, Any]]]:
        found: dict[int, dict[int, Mapping[str, Any]]] = {}
        for r in rounds:
            if r.get("driver") is not None:
                found.setdefault(int(r["driver"]), {})[int(r["vehicle"])] = r
        return found

    old, new = by_driver(before), by_driver(after)
    for driver_id in sorted(old.keys() | new.keys()):
        lines: list[str] = []
        had, has = old.get(driver_id, {}), new.get(driver_id, {})
        for vehicle in sorted(had.keys() - has.keys()):
            lines.append(f"Tournée retirée : {had[vehicle]['vehicle_name']}.")
        for vehicle in sorted(has.keys() - had.keys()):
            r = has[vehicle]
            words = round_words(r["vehicle_name"], r["starts"], r["ends"], len(r["stops"]))
            lines.append(f"Nouvelle tournée : {words}.")
        for vehicle in sorted(had.keys() & has.keys()):
            name = has[vehicle]["vehicle_name"]
            was = {(s[0], s[1], s[2]): s[3] for s in had[vehicle]["stops"]}
            now_ = {(s[0], s[1], s[2]): s[3] for s in has[vehicle]["stops"]}
            for key in [tuple(s[:3]) for s in has[vehicle]["stops"]]:
                if key not in was:
                    lines.append(f"{name} : arrêt ajouté à {now_[key]}, {_stop_words(db, *key)}.")
                elif was[key] != now_[key]:
                    lines.append(
                        f"{name} : {_stop_words(db, *key)} à {now_[key]} au lieu de {was[key]}."
                    )
            for key in [tuple(s[:3]) for s in had[vehicle]["stops"]]:
                if key not in now_:
                    lines.append(f"{name} : arrêt retiré, {_stop_words(db, *key)}.")
        if lines:
            changes[driver_id] = lines
    return changes


def notify_changed_rounds(db: DbSession, day: TransportDay, now: dt.datetime) -> list[Notification]:
    """After a published day is published again: one message per driver whose rounds changed
    since they were last told; then remember what they now know."""
    told = (day.summary or {}).get(TOLD_KEY)
    notifications: list[Notification] = []
    if told is not None:
        for driver_id, lines in round_changes(db, told, driven_rounds(day)).items():
            driver = db.get(Driver, driver_id)
            if driver is not None and driver.centre_id == day.centre_id:
                notifications += notify_driver(
                    db,
                    driver.user,
                    day,
                    lines,
                    now,
                    intro=f"Vos tournées du {format_date(day.date)} ont changé :",
                )
    remember_published(day)
    return notifications
