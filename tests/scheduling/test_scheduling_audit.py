"""The audit log's listener: entries join the change's transaction, say what changed in words,
and hold no personal detail. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from scheduling import audit
from scheduling.audit import Actor, AuditEntry
from scheduling.booking import book
from scheduling.models import Audience, Booking, BookingStatus, Field, Frequency, Role
from scheduling.people import create_person, update_person
from scheduling.sessions import (
    cancel_session,
    create_activity,
    create_series,
    create_session,
    edit_occurrence,
    reinstate_session,
    update_activity,
)

NOW = dt.datetime(2026, 12, 1, 9, 0)
TUESDAY = dt.datetime(2026, 12, 8, 14, 30)


def watch(db, user=None):
    """Log the changes made through ``db`` from now on, as ``user`` (else « système »)."""
    audit.install(db)
    if user is not None:
        audit.set_actor(db, Actor.of(user))
    return db


def logged(db):
    return list(db.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def count(db):
    return db.scalar(select(func.count(AuditEntry.id)))


def test_a_change_rolled_back_leaves_no_entry_and_a_committed_one_keeps_it(
    db, make_user, make_person, make_session, now
):
    staff = make_user(role=Role.coordinator, display_name="Paul Lebrun")
    person, session = make_person(), make_session(seats=3)
    watch(db, staff)

    assert book(db, session_id=session.id, person_id=person.id, actor=staff, now=now).confirmed
    db.flush()
    assert count(db) == 1
    db.rollback()
    assert count(db) == 0

    outcome = book(db, session_id=session.id, person_id=person.id, actor=staff, now=now)
    db.commit()
    [entry] = logged(db)
    assert (entry.action, entry.object_id) == ("booking.created", outcome.booking.id)
    assert (entry.actor_id, entry.actor_label) == (staff.id, "Paul Lebrun (Coordination)")


def test_a_change_that_fails_in_the_database_leaves_no_entry(
    db, make_user, make_person, make_session, now
):
    staff = make_user(role=Role.coordinator)
    person, session = make_person(), make_session()
    watch(db, staff)
    book(db, session_id=session.id, person_id=person.id, actor=staff, now=now)
    # A second live booking of the same person breaks the unique index: the whole change fails.
    db.add(
        Booking(
            centre_id=session.centre_id,
            session_id=session.id,
            person_id=person.id,
            status=BookingStatus.confirmed,
            created_at=now,
        )
    )
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    assert count(db) == 0


def test_without_an_actor_the_entry_says_system(db, make_user, make_person, make_session, now):
    staff = make_user(role=Role.animator)
    person, session = make_person(), make_session()
    watch(db)
    book(db, session_id=session.id, person_id=person.id, actor=staff, now=now)
    db.commit()
    [entry] = logged(db)
    assert (entry.actor_id, entry.actor_label) == (None, "système")


def test_sessions_and_activities_are_told_in_words(db, make_user, make_venue):
    staff = make_user(role=Role.animator, display_name="Julie Bonnet")
    venue, other_venue = make_venue(), make_venue()
    watch(db, staff)
    activity = create_activity(
        db, actor=staff, title="Gym douce", field=Field.isolation, audience=Audience.older_people
    ).value
    session = create_session(
        db,
        actor=staff,
        now=NOW,
        activity_id=activity.id,
        venue_id=venue.id,
        starts_at=TUESDAY,
        ends_at=TUESDAY + dt.timedelta(hours=1),
        seats=10,
    ).value
    series = create_series(
        db,
        actor=staff,
        now=NOW,
        activity_id=activity.id,
        frequency=Frequency.weekly,
        first_date=dt.date(2026, 12, 9),
        until_date=dt.date(2026, 12, 30),
        start_time=dt.time(10),
        end_time=dt.time(11),
        venue_id=venue.id,
        seats=8,
    ).value
    later = TUESDAY + dt.timedelta(days=1, hours=1)
    change = edit_occurrence(
        db,
        actor=staff,
        now=NOW,
        session_id=session.id,
        starts_at=later,
        ends_at=later + dt.timedelta(hours=1),
        venue_id=other_venue.id,
        seats=10,
        wheelchair_places=0,
        animator_id=None,
        booking_deadline=None,
        transport_offered=False,
    )
    assert change.ok
    assert cancel_session(db, actor=staff, now=NOW, session_id=session.id, reason="Neige").ok
    assert reinstate_session(db, actor=staff, now=NOW, session_id=session.id).ok
    unchanged = update_activity(
        db,
        actor=staff,
        activity_id=activity.id,
        title="Gym douce",
        field=Field.isolation,
        audience=Audience.older_people,
        description="",
        active=True,
    )
    assert unchanged.ok
    db.commit()

    summaries = {e.action: e.summary for e in logged(db)}
    assert list(summaries) == [
        "activity.created",
        "session.created",
        "session.series_created",
        "session.changed",
        "session.cancelled",
        "session.reinstated",
    ]
    assert summaries["activity.created"] == "Activité créée : « Gym douce »."
    assert summaries["session.created"] == (
        "Séance créée : « Gym douce », mardi 8 décembre 2026 à 14 h 30."
    )
    assert summaries["session.series_created"] == (
        "Cycle créé : « Gym douce », toutes les semaines, du mercredi 9 décembre 2026 "
        "au mercredi 30 décembre 2026 (4 séances)."
    )
    assert summaries["session.changed"] == (
        "Séance modifiée (horaire, lieu) : « Gym douce », mercredi 9 décembre 2026 à 15 h 30. "
        "Elle était prévue le mardi 8 décembre 2026 à 14 h 30."
    )
    assert summaries["session.cancelled"] == (
        "Séance annulée : « Gym douce », mercredi 9 décembre 2026 à 15 h 30."
    )
    assert "Neige" not in summaries["session.cancelled"]
    assert series.id in {e.object_id for e in logged(db) if e.object_type == "series"}


def test_a_person_file_names_what_changed_never_the_values(db, make_user, make_commune):
    staff = make_user(role=Role.coordinator)
    commune = make_commune()
    watch(db, staff)
    details = {
        "first_name": "Odette",
        "last_name": "Lasserre",
        "commune_id": commune.id,
        "phone": "05 53 27 40 12",
        "address": "4 chemin des Vignes",
        "driver_notes": "Code 1234",
    }
    person = create_person(db, actor=staff, **details).value
    same = update_person(db, actor=staff, person_id=person.id, **details)
    moved = update_person(
        db,
        actor=staff,
        person_id=person.id,
        **{**details, "phone": "06 11 22 33 44", "driver_notes": "Code 9876"},
    )
    assert same.ok and moved.ok
    db.commit()

    created, updated = logged(db)
    assert (created.action, created.person_id, created.summary) == (
        "person.created",
        person.id,
        "Fiche créée.",
    )
    assert updated.action == "person.updated"
    assert updated.summary == "Fiche modifiée : téléphone, consignes pour le chauffeur."


def test_the_journal_reads_one_centre_newest_first_filtered_and_paged(
    db, centre, make_centre, make_person
):
    other = make_centre()
    odette = make_person(first_name="Odette", last_name="Lasserre")
    start = dt.datetime(2026, 6, 1, 8)

    def entry(n, centre_id=centre.id, **values):
        return AuditEntry(
            centre_id=centre_id,
            at=start + dt.timedelta(hours=n),
            actor_label=values.pop("actor_label", "Paul Lebrun (Coordination)"),
            kind=values.pop("kind", audit.AuditKind.booking),
            action="booking.created",
            object_type="booking",
            object_id=n,
            summary=f"n° {n}",
            **values,
        )

    db.add_all([entry(n) for n in range(5)])
    db.add_all(
        [
            entry(5, person_id=odette.id),
            entry(6, kind=audit.AuditKind.session, actor_label="Hélène Roux (Animation)"),
            entry(7, centre_id=other.id),
        ]
    )
    db.commit()

    def summaries(**filters):
        return [e.summary for e in audit.journal(db, centre_id=centre.id, **filters).entries]

    assert summaries() == [f"n° {n}" for n in (6, 5, 4, 3, 2, 1, 0)]
    assert summaries(kind=audit.AuditKind.session) == ["n° 6"]
    assert summaries(since=start + dt.timedelta(hours=2), until=start + dt.timedelta(hours=4)) == [
        "n° 3",
        "n° 2",
    ]
    assert summaries(who="lasserre odette") == ["n° 5"]
    assert summaries(who="HELENE") == ["n° 6"]
    first = audit.journal(db, centre_id=centre.id, per_page=3)
    last = audit.journal(db, centre_id=centre.id, per_page=3, page=3)
    assert first.has_next and [e.summary for e in first.entries] == ["n° 6", "n° 5", "n° 4"]
    assert not last.has_next and [e.summary for e in last.entries] == ["n° 0"]
    assert first.entries[1].person.full_name == "Odette Lasserre"
