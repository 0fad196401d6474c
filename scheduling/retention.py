"""Retention of past personal data: what Navette forgets once it is older than the set duration.

`purge_old_personal_data` (run nightly, or by hand with ``flask --app webapp privacy purge``):

- a person with no trace of activity since the cutoff (no booking made, changed or cancelled,
  no session attended or booked, no transport stop, no message, no welfare alert, no calendar
  link given, no change in the audit log) is anonymised by the GDPR erasure itself
  (`scheduling.privacy.erase_person`): bookings stay, without name or address, so the centre's
  figures stay true;
- welfare alerts raised before the cutoff lose their address and their free-text note (the
  alert itself stays: the reports count them);
- messages (e-mails sent, calls to make) created before the cutoff are deleted;
- audit-log entries written before the cutoff are deleted: they name the staff who acted, and
  an account of who did what is not kept longer than the data it is about.

A person with no dated trace at all (registered before the audit log existed, never booked) is
kept and counted: nothing says how old their record is, and erasing someone registered yesterday
would be worse than keeping them. The coordination decides for them (the erase page).

A person still in use is kept and counted too, whatever her traces say: her own account is
active (she signs in), or an active carer's account is linked to her (the carer follows her).
Erasing her would unlink and lock those accounts; the coordination is told so it can decide.

Persons this rule erased are anonymised exactly as on request; the rule acts with the rights of
the centre's coordination.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import Select, delete, func, select, union_all, update
from sqlalchemy.orm import Session as DbSession

from scheduling.audit import AuditEntry
from scheduling.db import is_postgresql
from scheduling.models import (
    ActivitySession,
    Booking,
    CalendarToken,
    Notification,
    Person,
    Role,
    User,
    carer_link,
)
from scheduling.notifications import format_date, plural
from scheduling.privacy import erase_person, is_erased
from scheduling.transport_models import RoundStop, WelfareAlert


@dataclass(frozen=True)
class ErasedPerson:
    person_id: int
    centre_id: int
    name: str
    last_activity: dt.datetime


@dataclass
class RetentionReport:
    """What the purge did (or, on a dry run, would do)."""

    months: int
    cutoff: dt.datetime
    dry_run: bool
    persons: list[ErasedPerson] = field(default_factory=list)
    alerts: int = 0
    messages: int = 0
    audit_entries: int = 0
    undated: int = 0
    in_use: int = 0

    def lines(self) -> list[str]:
        """The report in French, one line each, for the command line and the job's log."""
        dry = self.dry_run
        lines = ["Simulation : rien n'est modifié."] if dry else []
        lines += [
            f"Conservation : {duration_label(self.months)}, soit tout ce qui est antérieur au "
            f"{format_date(self.cutoff.date())}.",
            f"Personnes sans activité depuis, {'à anonymiser' if dry else 'anonymisées'} : "
            f"{len(self.persons)} (leurs réservations passées restent, sans nom ni adresse).",
        ]
        if dry:
            lines += [
                f"  - {p.name} (n° {p.person_id}), dernière activité le "
                f"{format_date(p.last_activity.date())}"
                for p in self.persons
            ]
        lines += [
            f"Alertes « personne ne répond » plus anciennes, {'à vider' if dry else 'vidées'} "
            f"de leur adresse et de leur note : {self.alerts} (elles restent comptées).",
            f"Messages plus anciens, {'à supprimer' if dry else 'supprimés'} : {self.messages}.",
            f"Lignes du journal plus anciennes, {'à supprimer' if dry else 'supprimées'} : "
            f"{self.audit_entries}.",
        ]
        if self.in_use:
            lines.append(
                "Personnes sans activité depuis mais liées à un compte actif (le leur ou celui "
                f"d'un aidant), gardées, à examiner par la coordination : {self.in_use}."
            )
        if self.undated:
            lines.append(
                "Personnes sans aucune activité datée (ni réservation ni modification "
                f"enregistrée), gardées, à examiner par la coordination : {self.undated}."
            )
        return lines


def duration_label(months: int) -> str:
    """« 3 ans », « 18 mois »."""
    if months % 12 == 0:
        return plural(months // 12, "an", "ans")
    return f"{months} mois"


def cutoff_for(now: dt.datetime, months: int) -> dt.datetime:
    return now - relativedelta(months=months)


def purge_old_personal_data(
    db: DbSession,
    *,
    now: dt.datetime,
    months: int,
    dry_run: bool = False,
    utc_now: dt.datetime | None = None,
) -> RetentionReport:
    """Forget what is older than `months` (see the module's doc). Flushes; the caller commits.

    Each column is compared in its own convention: `now` is the centres' wall-clock time (naive),
    like bookings, sessions, stops, alerts, messages and calendar links; `utc_now` is the same
    moment in UTC (naive), like the audit log's `at` (`now` when not given)."""
    if months < 1:
        raise ValueError("La durée de conservation doit être d'au moins un mois.")
    _one_purge_at_a_time(db)
    cutoff = cutoff_for(now, months)
    utc_cutoff = cutoff_for(utc_now or now, months)
    report = RetentionReport(months=months, cutoff=cutoff, dry_run=dry_run)
    last_activity = _last_activity(db)
    in_use = _linked_to_active_accounts(db)
    for person in db.scalars(select(Person).order_by(Person.id)):
        if is_erased(person):
            continue
        last = last_activity.get(person.id)
        if last is None:
            report.undated += 1
        elif last >= cutoff:
            continue
        elif person.id in in_use:
            report.in_use += 1
        else:
            report.persons.append(ErasedPerson(person.id, person.centre_id, person.full_name, last))
    old_alerts = (
        WelfareAlert.raised_at < cutoff,
        (WelfareAlert.address != "") | (WelfareAlert.note != ""),
    )
    report.alerts = db.scalar(select(func.count(WelfareAlert.id)).where(*old_alerts)) or 0
    old_messages = Notification.created_at < cutoff
    report.messages = db.scalar(select(func.count(Notification.id)).where(old_messages)) or 0
    old_entries = AuditEntry.at < utc_cutoff
    report.audit_entries = db.scalar(select(func.count(AuditEntry.id)).where(old_entries)) or 0
    if dry_run:
        return report

    for erased in report.persons:
        actor = _retention_actor(erased.centre_id)
        result = erase_person(db, actor=actor, person_id=erased.person_id, now=now)
        assert result.ok, result.errors  # the rule acts as the coordination: always allowed
    db.execute(
        update(WelfareAlert).where(*old_alerts).values(address="", note=""),
        execution_options={"synchronize_session": "fetch"},
    )
    db.execute(delete(Notification).where(old_messages))
    # After the erasures: their own entries ("personne effacée") are of today, so they stay.
    db.execute(delete(AuditEntry).where(old_entries))
    db.flush()
    return report


# Any constant, the same for every purge: the key of PostgreSQL's advisory lock.
PURGE_LOCK_KEY = 4_127_913_275


def _one_purge_at_a_time(db: DbSession) -> None:
    """Several queue consumers may run the nightly purge at once. On PostgreSQL the second waits
    here until the first commits, then reads what is left (nothing to erase twice, no second
    « personne effacée » entry). SQLite's write lock (BEGIN IMMEDIATE) already serialises them."""
    if is_postgresql(db):
        db.execute(select(func.pg_advisory_xact_lock(PURGE_LOCK_KEY)))


def _retention_actor(centre_id: int) -> User:
    """The retention rule acts with the coordination's rights. A transient object, never saved:
    the erasure only reads its centre and role."""
    return User(
        centre_id=centre_id,
        username="conservation",
        display_name="Règle de conservation",
        role=Role.coordinator,
        active=True,
        password_hash="!",
    )


def _activity_dates() -> list[Select[Any, Any]]:
    """Every dated trace of a person's activity, as (person id, moment) rows."""
    stop_booking = RoundStop.booking_id == Booking.id
    return [
        select(Booking.person_id, ActivitySession.starts_at).join(Booking.session),
        select(Booking.person_id, Booking.created_at),
        select(Booking.person_id, Booking.cancelled_at),
        select(Booking.person_id, Booking.updated_at),
        select(Booking.person_id, RoundStop.marked_at).join(RoundStop, stop_booking),
        select(WelfareAlert.person_id, WelfareAlert.raised_at),
        select(Notification.person_id, Notification.created_at),
        select(AuditEntry.person_id, AuditEntry.at),
        select(CalendarToken.person_id, CalendarToken.created_at),
    ]


def _linked_to_active_accounts(db: DbSession) -> set[int]:
    """Persons whose own account is active, or whom an active carer's account is linked to."""
    own = select(User.person_id).where(User.active.is_(True), User.person_id.is_not(None))
    helped = (
        select(carer_link.c.person_id)
        .join(User, User.id == carer_link.c.user_id)
        .where(User.active.is_(True))
    )
    return {pid for pid in db.scalars(union_all(own, helped)) if pid is not None}


def _last_activity(db: DbSession) -> dict[int, dt.datetime]:
    """Each person's latest dated trace of activity (persons with none are absent)."""
    traces = union_all(*_activity_dates()).subquery()
    person_id, moment = traces.c[0], traces.c[1]
    rows = db.execute(
        select(person_id, func.max(moment))
        .where(person_id.is_not(None), moment.is_not(None))
        .group_by(person_id)
    )
    return {pid: last for pid, last in rows if pid is not None and last is not None}
