"""What drivers do with a published round: read it, mark each stop, raise welfare alerts.

Who may see and mark a round: its own driver (once the round is published), and the
coordinators and administrators of its centre (any round). Everyone else gets nothing back, so a
page answers 404 rather than telling that the round exists.

« Personne ne répond » at a door is not a no-show: an older person who does not open may have
fallen. It raises a ``WelfareAlert`` and tells the coordinators at once; it stays open until a
coordinator acknowledges it, whatever the driver marks afterwards.

Use-cases take the clock (``now``) and the acting user; they only flush.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import selectinload

from scheduling.models import (
    Booking,
    Driver,
    Notification,
    NotificationChannel,
    NotificationKind,
    Person,
    Role,
    User,
)
from scheduling.notifications import format_time, phone_to_call
from scheduling.outcomes import Result, failed, succeeded
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

SUPERVISOR_ROLES = frozenset({Role.coordinator, Role.admin})

NOT_ALLOWED = {"__all__": "Vous ne pouvez pas pointer cette tournée."}


@dataclass(frozen=True)
class Marked:
    """A recorded mark; with the alert and the messages (to send) when nobody answered."""

    stop: RoundStop
    alert: WelfareAlert | None = None
    notifications: list[Notification] = field(default_factory=list)


def marks_for(stop: RoundStop) -> list[StopStatus]:
    """The marks offered at ``stop``, in the order of the buttons.

    « Personne ne répond » belongs to a door: the outbound pickup at home, not the venue.
    """
    if stop.kind is StopKind.dropoff:
        return [StopStatus.dropped_off]
    marks = [StopStatus.picked_up, StopStatus.no_show]
    if stop.leg is Leg.outbound:
        marks.append(StopStatus.nobody_answered)
    return marks


def is_supervisor(user: User) -> bool:
    """Coordinators and administrators follow every round of their centre."""
    return user.active and user.role in SUPERVISOR_ROLES


def is_rounds_driver(user: User, round_: Round) -> bool:
    return round_.driver is not None and round_.driver.user_id == user.id


def may_open_round(user: User, round_: Round) -> bool:
    """The round's driver once published; a coordinator or admin of its centre always."""
    if not user.active or round_.centre_id != user.centre_id:
        return False
    if is_supervisor(user):
        return True
    return (
        user.role is Role.driver
        and round_.status is DayStatus.published
        and is_rounds_driver(user, round_)
    )


def _round_query() -> Select[Round]:
    return (
        select(Round)
        .join(TransportDay, Round.day_id == TransportDay.id)
        .options(
            selectinload(Round.stops)
            .selectinload(RoundStop.booking)
            .selectinload(Booking.person)
            .selectinload(Person.commune),
            selectinload(Round.vehicle),
            selectinload(Round.driver).selectinload(Driver.user),
            selectinload(Round.day),
        )
        .order_by(TransportDay.date, Round.starts_at, Round.id)
    )


def rounds_for_driver(db: DbSession, *, user: User, start: dt.date, days: int = 1) -> list[Round]:
    """The published rounds ``user`` drives from ``start`` for ``days`` days, in order."""
    if not user.active or user.role is not Role.driver:
        return []
    query = (
        _round_query()
        .join(Driver, Round.driver_id == Driver.id)
        .where(
            Round.centre_id == user.centre_id,
            Round.status == DayStatus.published,
            Driver.user_id == user.id,
            TransportDay.date >= start,
            TransportDay.date < start + dt.timedelta(days=days),
        )
    )
    return list(db.scalars(query))


def rounds_of_centre(db: DbSession, *, user: User, start: dt.date, days: int = 1) -> list[Round]:
    """Every round of the supervisor's centre (drafts too) from ``start`` for ``days`` days."""
    if not is_supervisor(user):
        return []
    query = _round_query().where(
        Round.centre_id == user.centre_id,
        TransportDay.date >= start,
        TransportDay.date < start + dt.timedelta(days=days),
    )
    return list(db.scalars(query))


def get_round_for(db: DbSession, *, user: User, round_id: int) -> Round | None:
    """The round if ``user`` may open it, else None."""
    round_ = db.scalar(_round_query().where(Round.id == round_id))
    if round_ is None or not may_open_round(user, round_):
        return None
    return round_


def get_stop_for(db: DbSession, *, user: User, stop_id: int) -> RoundStop | None:
    """The stop if ``user`` may open its round, else None."""
    stop = db.get(RoundStop, stop_id)
    if stop is None or not may_open_round(user, stop.round):
        return None
    return stop


def may_mark(user: User, round_: Round) -> bool:
    """Marks come from the round's driver, or from a coordinator or admin of its centre."""
    if not may_open_round(user, round_):
        return False
    return is_supervisor(user) or is_rounds_driver(user, round_)


def mark_stop(
    db: DbSession,
    *,
    stop: RoundStop,
    status: StopStatus,
    actor: User,
    now: dt.datetime,
) -> Result[Marked]:
    """Record what happened at a stop, or set it back to « planned » to undo a wrong mark.

    « nobody_answered » also raises a welfare alert and notifies the coordinators.
    """
    round_ = stop.round
    if not may_mark(actor, round_):
        return failed(NOT_ALLOWED)
    if round_.status is not DayStatus.published:
        return failed({"__all__": "Cette tournée n'est pas encore publiée."})
    if status is not StopStatus.planned:
        if status not in marks_for(stop):
            return failed({"status": _wrong_mark_message(stop)})
        if now.date() < round_.day.date:
            return failed({"__all__": "Les arrêts se pointent le jour de la tournée."})
    if stop.status is status:
        return succeeded(Marked(stop))  # a second tap on the same button changes nothing
    stop.status = status
    if status is StopStatus.planned:
        stop.marked_at = None
        stop.marked_by_id = None
    else:
        stop.marked_at = now
        stop.marked_by_id = actor.id
    db.flush()
    if status is StopStatus.nobody_answered:
        alert, notifications = raise_welfare_alert(db, stop=stop, actor=actor, now=now)
        return succeeded(Marked(stop, alert, notifications))
    return succeeded(Marked(stop))


def _wrong_mark_message(stop: RoundStop) -> str:
    if stop.kind is StopKind.dropoff:
        return "À une dépose, on pointe seulement « déposé(e) »."
    words = ", ".join(f"« {m.label.lower()} »" for m in marks_for(stop))
    return f"À cette prise en charge, on pointe : {words}."


def raise_welfare_alert(
    db: DbSession, *, stop: RoundStop, actor: User, now: dt.datetime
) -> tuple[WelfareAlert, list[Notification]]:
    """Open an alert for the person at ``stop`` and tell the coordinators.

    One open alert per stop: while it is open, marking again adds no alert and no message.
    """
    open_alert = db.scalar(
        select(WelfareAlert).where(
            WelfareAlert.stop_id == stop.id, WelfareAlert.acknowledged_at.is_(None)
        )
    )
    if open_alert is not None:
        return open_alert, []
    alert = WelfareAlert(
        centre_id=stop.round.centre_id,
        stop_id=stop.id,
        person_id=stop.booking.person_id,
        address=stop.address or stop.booking.person.address,
        raised_by_id=actor.id,
        raised_at=now,
        note="",
    )
    db.add(alert)
    db.flush()
    return alert, notify_coordinators(db, stop=stop, actor=actor, now=now)


def notify_coordinators(
    db: DbSession, *, stop: RoundStop, actor: User, now: dt.datetime
) -> list[Notification]:
    """An e-mail to every coordinator of the centre who has one; else a call on the call list."""
    person = stop.booking.person
    coordinators = db.scalars(
        select(User)
        .where(
            User.centre_id == stop.round.centre_id,
            User.role == Role.coordinator,
            User.active.is_(True),
        )
        .order_by(User.id)
    ).all()
    phone = phone_to_call(person) or "aucun numéro connu"
    subject = f"Alerte : personne ne répond chez {person.full_name}"
    body = (
        f"{actor.display_name} est passé(e) à {format_time(now)} chercher {person.full_name}, "
        f"{stop.address or person.address}. Personne n'a répondu à la porte.\n"
        f"Il peut s'agir d'une chute : appelez la personne ou son aidant ({phone}) "
        "et, sans réponse, faites vérifier sur place.\n"
        "L'alerte reste ouverte dans Navette tant qu'elle n'est pas prise en compte."
    )
    common = {
        "centre_id": stop.round.centre_id,
        "person_id": person.id,
        "booking_id": stop.booking_id,
        "kind": NotificationKind.welfare_alert,
        "subject": subject,
        "body": body,
        "created_at": now,
    }
    notifications = [
        Notification(channel=NotificationChannel.email, recipient=c.email, user_id=c.id, **common)
        for c in coordinators
        if c.email
    ]
    if not notifications:
        # Nobody to e-mail: the staff's call list shows it, with the number to ring.
        notifications.append(
            Notification(
                channel=NotificationChannel.phone_call,
                recipient=phone_to_call(person),
                **common,
            )
        )
    db.add_all(notifications)
    db.flush()
    return notifications


def coordination_phone(db: DbSession, centre_id: int) -> str:
    """The number a driver rings for help: a coordinator's, else an administrator's."""
    for role in (Role.coordinator, Role.admin):
        phone = db.scalar(
            select(User.phone)
            .where(
                User.centre_id == centre_id,
                User.role == role,
                User.active.is_(True),
                User.phone.is_not(None),
                User.phone != "",
            )
            .order_by(User.id)
            .limit(1)
        )
        if phone:
            return phone
    return ""


def open_alerts(db: DbSession, *, user: User) -> list[WelfareAlert]:
    """Alerts of the supervisor's centre not yet acknowledged, oldest first."""
    if not is_supervisor(user):
        return []
    query = (
        select(WelfareAlert)
        .where(WelfareAlert.centre_id == user.centre_id, WelfareAlert.acknowledged_at.is_(None))
        .options(
            selectinload(WelfareAlert.stop).selectinload(RoundStop.booking),
            selectinload(WelfareAlert.person),
            selectinload(WelfareAlert.raised_by),
        )
        .order_by(WelfareAlert.raised_at, WelfareAlert.id)
    )
    return list(db.scalars(query))


def count_open_alerts(db: DbSession, *, user: User) -> int:
    return len(open_alerts(db, user=user))


def recent_acknowledged_alerts(
    db: DbSession, *, user: User, since: dt.datetime
) -> Sequence[WelfareAlert]:
    """Alerts acknowledged since ``since``, newest first: the coordinator's recent history."""
    if not is_supervisor(user):
        return []
    return db.scalars(
        select(WelfareAlert)
        .where(
            WelfareAlert.centre_id == user.centre_id,
            WelfareAlert.acknowledged_at.is_not(None),
            WelfareAlert.acknowledged_at >= since,
        )
        .order_by(WelfareAlert.acknowledged_at.desc(), WelfareAlert.id.desc())
    ).all()


def acknowledge_alert(
    db: DbSession,
    *,
    alert_id: int,
    actor: User,
    now: dt.datetime,
    note: str = "",
) -> Result[WelfareAlert]:
    """A coordinator or admin of the centre takes the alert in hand (with what they did)."""
    if not is_supervisor(actor):
        return failed({"__all__": "Seule la coordination prend en compte les alertes."})
    alert = db.scalar(
        select(WelfareAlert).where(
            WelfareAlert.id == alert_id, WelfareAlert.centre_id == actor.centre_id
        )
    )
    if alert is None:
        return failed({"__all__": "Cette alerte n'existe pas."})
    note = note.strip()
    if len(note) > 1000:
        return failed({"note": "Note trop longue (1000 caractères au plus)."})
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by_id = actor.id
        alert.note = note
        db.flush()
    return succeeded(alert)


StopKey = tuple[int, Leg, StopKind]


def carry_over_marks(
    db: DbSession, *, old_stops: Sequence[RoundStop], new_stops: Sequence[RoundStop]
) -> list[RoundStop]:
    """Give the stops of a re-planned day the marks and welfare alerts of the stops they replace.

    A stop is the same when its booking, leg and kind are. Call this once the new stops are
    flushed and before the old ones are deleted: a welfare alert row points at its stop, so it
    must move first. Returns the old stops whose alerts found no new stop: deleting them would
    lose (or, with foreign keys, refuse to lose) a possible fall.
    """
    new_by_key: dict[StopKey, RoundStop] = {(s.booking_id, s.leg, s.kind): s for s in new_stops}
    stranded: list[RoundStop] = []
    for old in old_stops:
        new = new_by_key.get((old.booking_id, old.leg, old.kind))
        alerts = db.scalars(select(WelfareAlert).where(WelfareAlert.stop_id == old.id)).all()
        if new is None:
            if alerts:
                stranded.append(old)
            continue
        if old.status is not StopStatus.planned:
            new.status = old.status
            new.marked_at = old.marked_at
            new.marked_by_id = old.marked_by_id
        for alert in alerts:
            alert.stop_id = new.id
    db.flush()
    return stranded
