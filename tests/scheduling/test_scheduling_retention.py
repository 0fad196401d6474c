"""Retention: persons without activity since the cutoff are anonymised (bookings stay), old welfare
alerts lose their address and note, old messages go; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, text

from scheduling import audit
from scheduling.audit import AuditEntry, AuditKind
from scheduling.models import (
    Booking,
    BookingStatus,
    CalendarToken,
    FeedKind,
    Notification,
    NotificationChannel,
    NotificationKind,
    Person,
    User,
)
from scheduling.retention import PURGE_LOCK_KEY, purge_old_personal_data
from scheduling.transport_models import WelfareAlert

NOW = dt.datetime(2026, 11, 22, 10, 0)
LONG_AGO = dt.datetime(2022, 5, 10, 14, 0)  # beyond 36 months
LAST_YEAR = dt.datetime(2025, 6, 3, 14, 0)


@dataclass
class Past:
    old: Person
    recent: Person
    messaged: Person
    undated: Person
    future: Person
    old_alert: WelfareAlert
    recent_alert: WelfareAlert
    bookings: int


def message(db: Any, person: Person, at: dt.datetime) -> Notification:
    note = Notification(
        centre_id=person.centre_id,
        person_id=person.id,
        kind=NotificationKind.booking_confirmed,
        channel=NotificationChannel.email,
        recipient=person.email or "x@example.org",
        subject="Votre réservation",
        body=f"Bonjour {person.first_name}, …",
        created_at=at,
    )
    db.add(note)
    return note


def alert(db: Any, person: Person, at: dt.datetime) -> WelfareAlert:
    row = WelfareAlert(
        centre_id=person.centre_id,
        person_id=person.id,
        address=person.address,
        note="Voisine prévenue, la clé est chez elle.",
        raised_at=at,
    )
    db.add(row)
    return row


@pytest.fixture
def past(db, make_person, make_session, make_booking) -> Past:
    old = make_person(first_name="Odette", last_name="Ancienne", address="2 chemin du Puits")
    recent = make_person(first_name="Rémi", last_name="Récent", address="4 rue Haute")
    messaged = make_person(first_name="Mireille", last_name="Messagée", address="6 rue Basse")
    undated = make_person(first_name="Ulysse", last_name="Sansdate", address="8 place")
    future = make_person(first_name="Fanny", last_name="Future", address="10 allée")

    long_ago = make_session(starts_at=LONG_AGO)
    make_booking(long_ago, person=old, created_at=LONG_AGO - dt.timedelta(days=9))
    make_booking(long_ago, person=messaged, created_at=LONG_AGO - dt.timedelta(days=9))
    make_booking(
        make_session(starts_at=LAST_YEAR), person=recent, created_at=LAST_YEAR - dt.timedelta(7)
    )
    # Booked long ago for a session still to come: not inactive.
    make_booking(
        make_session(starts_at=NOW + dt.timedelta(days=20)),
        person=future,
        created_at=LONG_AGO,
    )
    message(db, messaged, LAST_YEAR)  # the centre wrote to her last year
    message(db, old, LONG_AGO)
    message(db, recent, LONG_AGO)
    old_alert = alert(db, recent, LONG_AGO)
    recent_alert = alert(db, recent, LAST_YEAR)
    db.commit()
    bookings = db.scalar(select(func.count(Booking.id)))
    return Past(old, recent, messaged, undated, future, old_alert, recent_alert, bookings)


def test_an_inactive_person_is_anonymised_and_her_bookings_stay(db, past):
    report = purge_old_personal_data(db, now=NOW, months=36)
    db.commit()

    assert [p.person_id for p in report.persons] == [past.old.id]
    db.expire_all()
    old = db.get(Person, past.old.id)
    assert old.first_name == "Personne"
    assert old.last_name == f"effacée n° {old.id}"
    assert old.address == ""
    assert old.phone is None and old.email is None
    # Statistics stay true: every booking is still there, with its status.
    assert db.scalar(select(func.count(Booking.id))) == past.bookings
    kept = db.scalars(select(Booking).where(Booking.person_id == old.id)).all()
    assert [b.status for b in kept] == [BookingStatus.confirmed]
    assert kept[0].pickup_address == ""
    # The others are untouched.
    for person in (past.recent, past.messaged, past.undated, past.future):
        assert db.get(Person, person.id).address != ""
    assert report.undated == 1


def test_old_alerts_and_messages_are_forgotten_recent_ones_kept(db, past):
    report = purge_old_personal_data(db, now=NOW, months=36)
    db.commit()
    db.expire_all()

    old_alert = db.get(WelfareAlert, past.old_alert.id)
    assert (old_alert.address, old_alert.note) == ("", "")
    assert old_alert.raised_at == LONG_AGO  # still counted in the reports
    recent_alert = db.get(WelfareAlert, past.recent_alert.id)
    assert recent_alert.address == "4 rue Haute"
    assert recent_alert.note
    assert report.alerts == 1

    left = db.scalars(select(Notification.created_at)).all()
    assert left == [LAST_YEAR]
    assert report.messages == 2


def test_a_dry_run_changes_nothing_and_says_what_it_would_do(db, past):
    report = purge_old_personal_data(db, now=NOW, months=36, dry_run=True)
    db.rollback()
    db.expire_all()
    assert db.get(Person, past.old.id).last_name == "Ancienne"
    assert db.get(WelfareAlert, past.old_alert.id).note
    assert db.scalar(select(func.count(Notification.id))) == 3
    text = "\n".join(report.lines())
    assert "Simulation : rien n'est modifié." in text
    assert "Conservation : 3 ans, soit tout ce qui est antérieur au mercredi 22 novembre 2023." in (
        text
    )
    assert "Personnes sans activité depuis, à anonymiser : 1 " in text
    assert f"Odette Ancienne (n° {past.old.id}), dernière activité le mardi 10 mai 2022" in text
    assert "gardées, à examiner par la coordination : 1." in text


def test_the_purge_is_idempotent_and_reports_in_french(db, past):
    first = purge_old_personal_data(db, now=NOW, months=36)
    db.commit()
    text = "\n".join(first.lines())
    assert "Personnes sans activité depuis, anonymisées : 1 " in text
    assert "Odette" not in text  # names are listed on a dry run only
    assert "Messages plus anciens, supprimés : 2." in text
    second = purge_old_personal_data(db, now=NOW, months=36)
    db.commit()
    assert (len(second.persons), second.alerts, second.messages) == (0, 0, 0)


def test_a_shorter_duration_reaches_more(db, past):
    report = purge_old_personal_data(db, now=NOW, months=12, dry_run=True)
    db.rollback()
    # Last year's booking and message are now older than the cutoff too.
    assert {p.person_id for p in report.persons} == {past.old.id, past.recent.id, past.messaged.id}
    assert "Conservation : 1 an, soit tout ce qui est antérieur au samedi 22 novembre 2025." in (
        report.lines()
    )


def test_zero_months_is_refused(db):
    with pytest.raises(ValueError):
        purge_old_personal_data(db, now=NOW, months=0)


def test_the_audit_log_is_kept_as_long_as_the_data_it_is_about(db, past):
    def entry(at: dt.datetime) -> AuditEntry:
        return AuditEntry(
            centre_id=past.recent.centre_id,
            at=at,
            actor_label="Paul Lebrun (Coordination)",
            kind=AuditKind.booking,
            action="booking.created",
            object_type="booking",
            person_id=past.recent.id,
            summary="Réservation",
        )

    db.add_all([entry(LONG_AGO), entry(LAST_YEAR)])
    db.commit()
    dry = purge_old_personal_data(db, now=NOW, months=36, dry_run=True)
    db.rollback()
    assert dry.audit_entries == 1
    assert db.scalar(select(func.count(AuditEntry.id))) == 2

    report = purge_old_personal_data(db, now=NOW, months=36)
    db.commit()
    assert "Lignes du journal plus anciennes, supprimées : 1." in report.lines()
    assert db.scalars(select(AuditEntry.at)).all() == [LAST_YEAR]


def test_a_person_still_using_navette_is_kept_and_counted(
    db, past, make_user, make_person, make_session, make_booking
):
    """Her own active account, or an active carer linked to her, says she is still followed:
    no booking for 36 months is not enough to erase her (it would lock her out, and the carer
    would lose her)."""
    long_ago = make_session(starts_at=LONG_AGO)
    own = make_user(person_id=past.old.id)
    helped = make_person(first_name="Hélène", last_name="Aidée", address="12 rue du Four")
    make_booking(long_ago, person=helped, created_at=LONG_AGO)
    carer = make_user(helped_persons=[helped])
    gone = make_person(first_name="Gaston", last_name="Parti", address="14 rue du Four")
    make_booking(long_ago, person=gone, created_at=LONG_AGO)
    make_user(person_id=gone.id, active=False)  # a closed account: no reason
    db.commit()

    report = purge_old_personal_data(db, now=NOW, months=36)
    db.commit()
    db.expire_all()

    assert [p.person_id for p in report.persons] == [gone.id]
    assert report.in_use == 2
    assert db.get(Person, past.old.id).last_name == "Ancienne"
    assert db.get(User, own.id).person_id == past.old.id
    assert [p.id for p in db.get(User, carer.id).helped_persons] == [helped.id]
    assert (
        "Personnes sans activité depuis mais liées à un compte actif (le leur ou celui d'un "
        "aidant), gardées, à examiner par la coordination : 2."
    ) in report.lines()


def test_a_calendar_link_given_recently_is_a_trace_of_activity(db, past):
    db.add(
        CalendarToken(
            centre_id=past.old.centre_id,
            token="jeton-odette-recent",
            kind=FeedKind.person,
            person_id=past.old.id,
            created_at=LAST_YEAR,
        )
    )
    db.commit()
    report = purge_old_personal_data(db, now=NOW, months=36, dry_run=True)
    db.rollback()
    assert report.persons == []


def test_durations_and_counts_are_worded_in_french():
    from scheduling.notifications import plural
    from scheduling.retention import duration_label

    assert [duration_label(m) for m in (12, 36, 18)] == ["1 an", "3 ans", "18 mois"]
    assert [plural(n, "séance", "séances") for n in (0, 1, 2)] == [
        "0 séance",
        "1 séance",
        "2 séances",
    ]


def test_the_audit_log_is_compared_in_utc_the_rest_in_local_time(db, past):
    """10 h in France in winter is 9 h UTC: an entry written at 9 h 30 UTC three years ago is
    not yet older than three years, though 9 h 30 is before 10 h."""

    def entry(at: dt.datetime) -> AuditEntry:
        return AuditEntry(
            centre_id=past.recent.centre_id,
            at=at,
            actor_label="Paul Lebrun (Coordination)",
            kind=AuditKind.booking,
            action="booking.created",
            object_type="booking",
            person_id=past.recent.id,
            summary="Réservation",
        )

    db.add_all([entry(dt.datetime(2023, 11, 22, 8, 30)), entry(dt.datetime(2023, 11, 22, 9, 30))])
    db.commit()
    report = purge_old_personal_data(db, now=NOW, utc_now=NOW - dt.timedelta(hours=1), months=36)
    db.commit()
    assert report.audit_entries == 1
    assert dt.datetime(2023, 11, 22, 9, 30) in db.scalars(select(AuditEntry.at)).all()


# PostgreSQL only: on SQLite, BEGIN IMMEDIATE already makes a second purge wait for the first.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_purges_at_once_erase_each_person_once(db, past, session_factory):
    """Several queue consumers may start the nightly purge together: on PostgreSQL the second
    waits for the first to commit, then finds nothing left to erase."""
    first, second, watcher = session_factory(), session_factory(), session_factory()
    for purging in (first, second):
        audit.install(purging)  # as the app's sessions: the erasure writes « person.erased »
    later: dict[str, Any] = {}

    def purge_in_parallel() -> None:
        later["report"] = purge_old_personal_data(second, now=NOW, months=36)
        second.commit()

    waiting_for_the_lock = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = :key"
    )
    try:
        report = purge_old_personal_data(first, now=NOW, months=36)  # not committed yet
        assert not watcher.scalar(select(func.pg_try_advisory_xact_lock(PURGE_LOCK_KEY)))
        watcher.rollback()
        thread = threading.Thread(target=purge_in_parallel)
        thread.start()
        for _ in range(1000):  # until the second purge is seen waiting (bounded)
            waiting = watcher.scalar(waiting_for_the_lock, {"key": PURGE_LOCK_KEY})
            watcher.rollback()
            if waiting:
                break
            time.sleep(0.01)
        assert waiting, "the second purge should wait for the first"
        first.commit()
        thread.join(timeout=60)
    finally:
        for session in (first, second, watcher):
            session.rollback()
            session.close()

    assert [p.person_id for p in report.persons] == [past.old.id]
    assert later["report"].persons == []
    erased = select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "person.erased", AuditEntry.person_id == past.old.id
    )
    assert db.scalar(erased) == 1
