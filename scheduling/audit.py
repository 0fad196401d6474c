"""The audit log: who did what to bookings, sessions, persons, rounds and account passwords.

Entries are written by a listener on the ORM session (``install``), after each flush, from what
the flush changed, and join the same transaction: a change rolled back leaves no entry, a
committed one always has its entry. Use-cases know nothing of it (``erase_person`` excepted, see
``forget_person``).

Who acted is read from ``db.info[ACTOR_KEY]``: an ``Actor``, or a callable returning one (the web
shell resolves the signed-in user; jobs and commands get a fixed label). Without it the entry says
« système ».

Entries hold no health data and no more personal data than needed: a summary never holds a
person's name, address, phone number, driver notes or a cancellation's free-text reason. The
person concerned is kept by reference (``person_id``) and the page shows their current name, so
erasing a person (which blanks the name) also erases it from the log. The author is kept as text
(``actor_label``) so the entry outlives the account; erasing a person also blanks the label of
entries their own account made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, event, inspect, select
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm.attributes import History

from scheduling.db import Base
from scheduling.models import (
    LABELS,
    Activity,
    ActivitySession,
    Booking,
    BookingStatus,
    LabelledEnum,
    Person,
    SessionSeries,
    SessionStatus,
    User,
    Vehicle,
    _enum_column,
)
from scheduling.notifications import format_date, format_when, plural
from scheduling.people import _fold
from scheduling.transport_models import (
    DayStatus,
    JobStatus,
    Round,
    RoundStop,
    StopStatus,
    TransportDay,
)

ACTOR_KEY = "audit_actor"
_OPEN_KEY = "audit_open"  # entries of the current transaction that later flushes may complete
_ERASING_KEY = "audit_erasing"  # persons being erased in the current transaction
_LATER_KEY = "audit_later"  # changes to entries this flush wrote, applied once it is over
_RESET_KEY = "audit_password_reset"  # accounts whose password is chosen from a reset link


class AuditKind(LabelledEnum):
    """The kind of object an entry is about (the page's filter)."""

    booking = "booking"
    session = "session"
    person = "person"
    rounds = "rounds"
    account = "account"


LABELS[AuditKind] = {
    "booking": "Réservations",
    "session": "Séances et activités",
    "person": "Personnes",
    "rounds": "Tournées",
    "account": "Comptes",
}


class AuditEntry(Base):
    """One thing someone did, in the centre's log (read by the admin)."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_centre_id_at", "centre_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    # When, in UTC (naive): the log is about the moment things were done, not a local slot.
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AuditKind] = mapped_column(_enum_column(AuditKind))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[int | None] = mapped_column(Integer)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL"), index=True
    )
    summary: Mapped[str] = mapped_column(Text)

    person: Mapped[Person | None] = relationship()


@dataclass(frozen=True)
class Actor:
    """Who acts: an account (kept by id and by a label that outlives it) or a process."""

    label: str
    user_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(label=f"{user.display_name} ({user.role.label})", user_id=user.id)


SCHEDULED_TASK = Actor("tâche planifiée")
COMMAND_LINE = Actor("ligne de commande")
SYSTEM = Actor("système")


def install(target: Any) -> None:
    """Log the changes of every session ``target`` (a sessionmaker or a Session) makes."""
    event.listen(target, "after_flush", _after_flush)
    event.listen(target, "after_flush_postexec", _after_flush_postexec)
    for name in ("after_commit", "after_rollback", "after_soft_rollback"):
        event.listen(target, name, _end_of_transaction)


def set_actor(db: DbSession, actor: Actor | Callable[[], Actor]) -> None:
    db.info[ACTOR_KEY] = actor


def note_password_reset(db: DbSession, user: User) -> None:
    """The password `user` gets in this transaction is chosen from a « mot de passe oublié »
    link (the entry says so, instead of a change by the signed-in owner)."""
    db.info.setdefault(_RESET_KEY, set()).add(user.id)


def forget_person(db: DbSession, person: Person) -> None:
    """Called by the erasure: the next change to ``person`` is logged as « person.erased », and
    entries made by the person's own accounts lose their author's name."""
    db.info.setdefault(_ERASING_KEY, set()).add(person.id)
    accounts = select(User.id).where(User.person_id == person.id)
    for entry in db.scalars(select(AuditEntry).where(AuditEntry.actor_id.in_(accounts))):
        entry.actor_label = f"compte de la personne effacée n° {person.id}"


# --- the listener ---------------------------------------------------------------------------


def _end_of_transaction(db: DbSession, *_args: Any) -> None:
    db.info.pop(_OPEN_KEY, None)
    db.info.pop(_ERASING_KEY, None)
    db.info.pop(_LATER_KEY, None)
    db.info.pop(_RESET_KEY, None)


@dataclass
class _Open:
    """An entry later flushes of the same transaction add to (a cycle, a roll call…)."""

    entry: AuditEntry
    statuses: dict[int, BookingStatus] = field(default_factory=dict)
    count: int = 0


class _Log:
    """The entries one flush produces."""

    def __init__(self, db: DbSession) -> None:
        self.db = db
        self.opened: dict[tuple[str, int, int], _Open] = db.info.setdefault(_OPEN_KEY, {})
        self._actor: Actor | None = None

    @property
    def actor(self) -> Actor:
        if self._actor is None:
            found = self.db.info.get(ACTOR_KEY, SYSTEM)
            self._actor = found() if callable(found) else found
        return self._actor

    def add(
        self,
        *,
        centre_id: int,
        kind: AuditKind,
        action: str,
        obj: Any,
        summary: str,
        person_id: int | None = None,
    ) -> AuditEntry:
        entry = AuditEntry(
            centre_id=centre_id,
            at=dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
            actor_id=self.actor.user_id,
            actor_label=self.actor.label[:200],
            kind=kind,
            action=action,
            object_type=_OBJECT_TYPES[type(obj)],
            object_id=obj.id,
            person_id=person_id,
            summary=summary,
        )
        self.db.add(entry)
        return entry

    def update(self, entry: AuditEntry, **values: Any) -> None:
        """Change an entry once the flush is over (a change made while it runs would be lost
        if the entry was part of it)."""
        self.db.info.setdefault(_LATER_KEY, []).append((entry, values))

    def get(self, model: type[_T], ident: int | None) -> _T | None:
        if ident is None:
            return None
        with self.db.no_autoflush:
            return self.db.get(model, ident)


_T = TypeVar("_T")

_OBJECT_TYPES: dict[type[Any], str] = {
    Booking: "booking",
    ActivitySession: "session",
    SessionSeries: "series",
    Activity: "activity",
    Person: "person",
    TransportDay: "transport_day",
    Round: "round",
    RoundStop: "round_stop",
    User: "user",
}


def _history(obj: Any, name: str) -> History:
    history: History = inspect(obj).attrs[name].history
    return history


def _changed(obj: Any, names: Iterable[str]) -> list[str]:
    return [name for name in names if _history(obj, name).has_changes()]


def _old(obj: Any, name: str) -> Any:
    deleted = _history(obj, name).deleted
    return deleted[0] if deleted else None


def _after_flush_postexec(db: DbSession, _context: Any) -> None:
    for entry, values in db.info.pop(_LATER_KEY, []):
        for name, value in values.items():
            setattr(entry, name, value)


def _after_flush(db: DbSession, _context: Any) -> None:
    log = _Log(db)
    new = [obj for obj in db.new if not isinstance(obj, AuditEntry)]
    dirty = [obj for obj in db.dirty if not isinstance(obj, AuditEntry)]
    for obj in new:
        handler = _ON_NEW.get(type(obj))
        if handler is not None:
            handler(log, obj)
    for obj in dirty:
        handler = _ON_CHANGE.get(type(obj))
        if handler is not None and db.is_modified(obj, include_collections=False):
            handler(log, obj)


# --- bookings -------------------------------------------------------------------------------


def _session_words(log: _Log, session_id: int) -> tuple[ActivitySession | None, str]:
    session = log.get(ActivitySession, session_id)
    if session is None:
        return None, f"séance n° {session_id}"
    activity = log.get(Activity, session.activity_id)
    title = activity.title if activity is not None else "activité"
    return session, f"« {title} », {format_when(session.starts_at)}"


def _transport_words(booking: Booking) -> str:
    legs = [
        word
        for word, wanted in (("aller", booking.transport_out), ("retour", booking.transport_back))
        if wanted
    ]
    return f" Transport demandé ({' et '.join(legs)})." if legs else ""


def _booking_created(log: _Log, booking: Booking) -> None:
    session, words = _session_words(log, booking.session_id)
    waiting = booking.status is BookingStatus.waitlisted
    series_id = session.series_id if session is not None else None
    if series_id is not None:
        key = ("cycle", booking.person_id, series_id)
        opened = log.opened.get(key)
        if opened is not None:
            opened.statuses[booking.id] = booking.status
            _describe_cycle(log, opened, series_id)
            return
    entry = log.add(
        centre_id=booking.centre_id,
        kind=AuditKind.booking,
        action="booking.waitlisted" if waiting else "booking.created",
        obj=booking,
        person_id=booking.person_id,
        summary=(
            f"{'Inscription sur la liste d’attente' if waiting else 'Réservation confirmée'} : "
            f"{words}.{_transport_words(booking)}"
        ),
    )
    if series_id is not None:
        log.opened[("cycle", booking.person_id, series_id)] = _Open(
            entry, statuses={booking.id: booking.status}
        )


def _describe_cycle(log: _Log, opened: _Open, series_id: int) -> None:
    """Several bookings of one series for one person in one go: joining the cycle."""
    series = log.get(SessionSeries, series_id)
    activity = log.get(Activity, series.activity_id) if series is not None else None
    title = activity.title if activity is not None else "activité"
    waiting = sum(1 for s in opened.statuses.values() if s is BookingStatus.waitlisted)
    confirmed = len(opened.statuses) - waiting
    log.update(
        opened.entry,
        action="booking.cycle_joined",
        object_type="series",
        object_id=series_id,
        summary=(
            f"Inscription au cycle « {title} » : "
            f"{plural(len(opened.statuses), 'séance', 'séances')} "
            f"({plural(confirmed, 'confirmée', 'confirmées')}, "
            f"{plural(waiting, 'en liste d’attente', 'en liste d’attente')})."
        ),
    )


ATTENDED_STATUSES = (BookingStatus.attended, BookingStatus.excused, BookingStatus.no_show)


def _booking_changed(log: _Log, booking: Booking) -> None:
    if not _history(booking, "status").has_changes():
        return  # transport dropped, address blanked by an erasure…: not logged
    old, new = _old(booking, "status"), booking.status
    session, words = _session_words(log, booking.session_id)
    if new in ATTENDED_STATUSES:
        _roll_call(log, booking, session, words)
        return
    if new is BookingStatus.cancelled and session is not None and session.is_cancelled:
        opened = log.opened.get(("session.cancelled", session.id, 0))
        if opened is not None:  # told on the session's own entry
            opened.count += 1
            log.update(opened.entry, summary=_session_cancelled_summary(words, opened.count))
            return
    if new is BookingStatus.cancelled:
        action = "booking.cancelled"
        text = (
            "Retrait de la liste d’attente"
            if old is BookingStatus.waitlisted
            else "Réservation annulée"
        )
    elif old is BookingStatus.waitlisted and new is BookingStatus.confirmed:
        action, text = "booking.promoted", "Réservation confirmée depuis la liste d’attente"
    else:
        action = "booking.status_changed"
        before = old.label if isinstance(old, BookingStatus) else "inconnu"
        text = f"Réservation passée de « {before} » à « {new.label} »"
    log.add(
        centre_id=booking.centre_id,
        kind=AuditKind.booking,
        action=action,
        obj=booking,
        person_id=booking.person_id,
        summary=f"{text} : {words}.",
    )


def _roll_call(log: _Log, booking: Booking, session: ActivitySession | None, words: str) -> None:
    """The attendance of a session is one entry, whatever the number of persons."""
    if session is None:
        return
    key = ("session.attendance", session.id, 0)
    opened = log.opened.get(key)
    if opened is None:
        entry = log.add(
            centre_id=booking.centre_id,
            kind=AuditKind.session,
            action="session.attendance",
            obj=session,
            summary="",
        )
        opened = log.opened[key] = _Open(entry)
    opened.statuses[booking.id] = booking.status
    counts = [
        f"{status.label.lower()} : {sum(1 for s in opened.statuses.values() if s is status)}"
        for status in ATTENDED_STATUSES
        if status in opened.statuses.values()
    ]
    log.update(opened.entry, summary=f"Appel noté pour {words} ({', '.join(counts)}).")


# --- sessions, series, activities -----------------------------------------------------------

SESSION_FIELDS = {
    "starts_at": "horaire",
    "ends_at": "horaire",
    "venue_id": "lieu",
    "seats": "places",
    "wheelchair_places": "places en fauteuil",
    "animator_id": "animateur",
    "booking_deadline": "date limite de réservation",
    "transport_offered": "transport",
}


def _session_created(log: _Log, session: ActivitySession) -> None:
    if session.series_id is not None:
        return  # an occurrence of a new series: the series' entry tells it
    _, words = _session_words(log, session.id)
    log.add(
        centre_id=session.centre_id,
        kind=AuditKind.session,
        action="session.created",
        obj=session,
        summary=f"Séance créée : {words}.",
    )


def _session_cancelled_summary(words: str, bookings: int) -> str:
    text = f"Séance annulée : {words}."
    if bookings:
        text += f" {plural(bookings, 'réservation annulée', 'réservations annulées')} avec elle."
    return text


def _session_changed(log: _Log, session: ActivitySession) -> None:
    _, words = _session_words(log, session.id)
    if _history(session, "status").has_changes():
        if session.status is SessionStatus.cancelled:
            entry = log.add(
                centre_id=session.centre_id,
                kind=AuditKind.session,
                action="session.cancelled",
                obj=session,
                summary=_session_cancelled_summary(words, 0),
            )
            log.opened[("session.cancelled", session.id, 0)] = _Open(entry)
        else:
            log.add(
                centre_id=session.centre_id,
                kind=AuditKind.session,
                action="session.reinstated",
                obj=session,
                summary=f"Séance remise au programme : {words}.",
            )
        return
    changed = _changed(session, SESSION_FIELDS)
    if not changed:
        return
    what = ", ".join(dict.fromkeys(SESSION_FIELDS[name] for name in changed))
    text = f"Séance modifiée ({what}) : {words}."
    before = _old(session, "starts_at")
    if before is not None and before != session.starts_at:
        text += f" Elle était prévue le {format_when(before)}."
    log.add(
        centre_id=session.centre_id,
        kind=AuditKind.session,
        action="session.changed",
        obj=session,
        summary=text,
    )


def _series_created(log: _Log, series: SessionSeries) -> None:
    activity = log.get(Activity, series.activity_id)
    if activity is None:
        return
    count = len(series.sessions)
    log.add(
        centre_id=activity.centre_id,
        kind=AuditKind.session,
        action="session.series_created",
        obj=series,
        summary=(
            f"Cycle créé : « {activity.title} », {series.frequency.label.lower()}, "
            f"du {format_date(series.first_date)} au {format_date(series.until_date)} "
            f"({plural(count, 'séance', 'séances')})."
        ),
    )


ACTIVITY_FIELDS = {
    "title": "titre",
    "description": "description",
    "field": "axe",
    "audience": "public",
    "active": "proposée ou non",
}


def _activity_created(log: _Log, activity: Activity) -> None:
    log.add(
        centre_id=activity.centre_id,
        kind=AuditKind.session,
        action="activity.created",
        obj=activity,
        summary=f"Activité créée : « {activity.title} ».",
    )


def _activity_changed(log: _Log, activity: Activity) -> None:
    changed = _changed(activity, ACTIVITY_FIELDS)
    if changed:
        log.add(
            centre_id=activity.centre_id,
            kind=AuditKind.session,
            action="activity.changed",
            obj=activity,
            summary=(
                f"Activité modifiée ({', '.join(ACTIVITY_FIELDS[n] for n in changed)}) : "
                f"« {activity.title} »."
            ),
        )


# --- persons --------------------------------------------------------------------------------

PERSON_FIELDS = {
    "first_name": "prénom",
    "last_name": "nom",
    "phone": "téléphone",
    "email": "courriel",
    "address": "adresse",
    "commune_id": "commune",
    "lat": "position",
    "lon": "position",
    "mobility": "mobilité",
    "companion_needed": "accompagnement",
    "driver_notes": "consignes pour le chauffeur",
}


def _person_created(log: _Log, person: Person) -> None:
    log.add(
        centre_id=person.centre_id,
        kind=AuditKind.person,
        action="person.created",
        obj=person,
        person_id=person.id,
        summary="Fiche créée.",
    )


def _person_changed(log: _Log, person: Person) -> None:
    erasing: set[int] = log.db.info.get(_ERASING_KEY, set())
    if person.id in erasing:
        erasing.discard(person.id)
        log.add(
            centre_id=person.centre_id,
            kind=AuditKind.person,
            action="person.erased",
            obj=person,
            person_id=person.id,
            # On request or by the retention rule: the author tells which.
            summary="Données personnelles effacées (les réservations passées restent, sans nom).",
        )
        return
    changed = _changed(person, PERSON_FIELDS)
    if changed:
        what = ", ".join(dict.fromkeys(PERSON_FIELDS[name] for name in changed))
        log.add(
            centre_id=person.centre_id,
            kind=AuditKind.person,
            action="person.updated",
            obj=person,
            person_id=person.id,
            summary=f"Fiche modifiée : {what}.",
        )


# --- rounds ---------------------------------------------------------------------------------


def _day_changed(log: _Log, day: TransportDay) -> None:
    # A build writes its progress on the day many times: only these changes are logged.
    when = format_date(day.date)
    if _history(day, "job_status").has_changes() and day.job_status is JobStatus.queued:
        action, text = "rounds.build_requested", f"Calcul des tournées du {when} demandé."
    elif _history(day, "status").has_changes() and day.status is DayStatus.published:
        action, text = "rounds.published", f"Tournées du {when} publiées"
    elif _history(day, "built_at").has_changes():
        if day.status is DayStatus.published:
            action, text = "rounds.replanned", f"Tournées publiées du {when} ajustées"
        else:
            action, text = "rounds.built", f"Tournées du {when} calculées"
    else:
        return
    if action != "rounds.build_requested":
        text += f" ({plural(len(day.rounds), 'tournée', 'tournées')})."
    log.add(centre_id=day.centre_id, kind=AuditKind.rounds, action=action, obj=day, summary=text)


def _round_changed(log: _Log, round_: Round) -> None:
    """A round's driver chosen, changed or taken off by hand (a build makes new rounds)."""
    if not _history(round_, "driver_id").has_changes():
        return
    before = _old(round_, "driver_id")
    if round_.driver_id is None:
        action, text = "rounds.driver_removed", "Chauffeur retiré"
    elif before is None:
        action, text = "rounds.driver_chosen", "Chauffeur choisi"
    else:
        action, text = "rounds.driver_changed", "Chauffeur changé"
    # The vehicle and the time say which round; the drivers' names stay out of the log.
    vehicle = log.get(Vehicle, round_.vehicle_id)
    which = f" ({vehicle.name})" if vehicle is not None else ""
    log.add(
        centre_id=round_.centre_id,
        kind=AuditKind.rounds,
        action=action,
        obj=round_,
        summary=f"{text} : tournée du {format_when(round_.starts_at)}{which}.",
    )


def _stop_changed(log: _Log, stop: RoundStop) -> None:
    if not _history(stop, "status").has_changes():
        return
    round_ = log.get(Round, stop.round_id)
    booking = log.get(Booking, stop.booking_id)
    if round_ is None or booking is None:
        return
    where = f"{stop.kind.label.lower()} ({stop.leg.label.lower()})"
    if stop.status is StopStatus.planned:
        action, text = "rounds.stop_unmarked", f"Pointage annulé : {where}"
    else:
        action, text = "rounds.stop_marked", f"Pointé « {stop.status.label} » : {where}"
    log.add(
        centre_id=round_.centre_id,
        kind=AuditKind.rounds,
        action=action,
        obj=stop,
        person_id=booking.person_id,
        summary=f"{text}, tournée du {format_when(round_.starts_at)}.",
    )


# --- accounts -------------------------------------------------------------------------------


def _user_changed(log: _Log, user: User) -> None:
    """Security events of an account (no name in the summary: the author column says who)."""
    if not _history(user, "password_hash").has_changes() or user.password_hash == "!":
        return  # "!" closes the account (erasure, retention): their own entries tell it
    by_link = user.id in log.db.info.get(_RESET_KEY, set())
    log.add(
        centre_id=user.centre_id,
        kind=AuditKind.account,
        action="account.password_reset" if by_link else "account.password_changed",
        obj=user,
        summary=(
            "Mot de passe choisi depuis le lien « Mot de passe oublié ? » reçu par e-mail."
            if by_link
            else "Mot de passe changé."
        ),
    )


_ON_NEW: dict[type[Any], Callable[[_Log, Any], None]] = {
    Booking: _booking_created,
    ActivitySession: _session_created,
    SessionSeries: _series_created,
    Activity: _activity_created,
    Person: _person_created,
}
_ON_CHANGE: dict[type[Any], Callable[[_Log, Any], None]] = {
    Booking: _booking_changed,
    ActivitySession: _session_changed,
    Activity: _activity_changed,
    Person: _person_changed,
    TransportDay: _day_changed,
    Round: _round_changed,
    RoundStop: _stop_changed,
    User: _user_changed,
}


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class JournalPage:
    entries: Sequence[AuditEntry]
    page: int
    has_next: bool


def journal(
    db: DbSession,
    *,
    centre_id: int,
    kind: AuditKind | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    who: str = "",
    page: int = 1,
    per_page: int = 50,
) -> JournalPage:
    """A page of the centre's log, newest first.

    ``since``/``until`` are UTC bounds (``until`` excluded); ``who`` matches the author's label
    or the name of the person concerned (accents and case ignored, every word must match).
    """
    query = select(AuditEntry).where(AuditEntry.centre_id == centre_id)
    if kind is not None:
        query = query.where(AuditEntry.kind == kind)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    words = [_fold(word) for word in who.split()]
    if words:
        persons = [
            pid
            for pid, first, last in db.execute(
                select(Person.id, Person.first_name, Person.last_name).where(
                    Person.centre_id == centre_id
                )
            )
            if all(w in _fold(f"{first} {last}") for w in words)
        ]
        actors = [
            label
            for label in db.scalars(
                select(AuditEntry.actor_label).where(AuditEntry.centre_id == centre_id).distinct()
            )
            if all(w in _fold(label) for w in words)
        ]
        query = query.where(AuditEntry.person_id.in_(persons) | AuditEntry.actor_label.in_(actors))
    page = max(1, page)
    rows = list(
        db.scalars(
            query.options(selectinload(AuditEntry.person))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return JournalPage(entries=rows[:per_page], page=page, has_next=len(rows) > per_page)
