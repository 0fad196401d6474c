"""The audit log: each action done on the pages leaves one readable entry naming its author, and
only the administrator reads the log of their own centre."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from scheduling.audit import AuditEntry, AuditKind
from scheduling.models import BookingStatus, Frequency, Role, SessionSeries
from tests.webapp import animation_fixtures
from tests.webapp.conftest import PASSWORD, post, read, sign_in, text_of

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

animator = animation_fixtures.animator
as_animator = animation_fixtures.as_animator


def entries(db, centre_id):
    return read(
        db, select(AuditEntry).where(AuditEntry.centre_id == centre_id).order_by(AuditEntry.id)
    )


def book(client, session_id, person_id):
    data = {"person_id": person_id, "companions": 0}
    assert "Vérifiez, puis confirmez" in text_of(
        post(client, f"/seances/{session_id}/reserver", data)
    )
    response = post(client, f"/seances/{session_id}/reserver", {**data, "confirmed": "yes"})
    assert response.status_code == 302, text_of(response)
    return response


@pytest.fixture
def admin(make_user, world):
    return make_user(
        username="admin", display_name="Alice Martin", role=Role.admin, password=PASSWORD
    )


def test_a_booking_made_on_the_pages_is_logged_once_with_its_author_and_no_name(
    client, world, login, db
):
    login(world.carer)
    book(client, world.session.id, world.person.id)

    [entry] = entries(db, world.centre.id)
    assert entry.action == "booking.created"
    assert entry.kind is AuditKind.booking
    assert (entry.actor_id, entry.actor_label) == (world.carer.id, "Marie Delmas (Aidant)")
    assert entry.person_id == world.person.id
    assert entry.summary.startswith("Réservation confirmée : « ")
    assert world.session.activity.title in entry.summary
    assert "Jeanne" not in entry.summary and "Tilleuls" not in entry.summary
    assert abs(entry.at - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(minutes=5)


def test_a_refused_booking_leaves_no_entry(client, world, login, db, make_booking):
    make_booking(world.session, person=world.person)
    login(world.carer)
    post(client, f"/seances/{world.session.id}/reserver", {"person_id": world.person.id})
    post(
        client,
        f"/seances/{world.session.id}/reserver",
        {"person_id": world.person.id, "companions": 0, "confirmed": "yes"},
    )
    assert entries(db, world.centre.id) == []


def test_cancelling_logs_the_cancellation_and_the_promotion_it_caused(
    client, world, login, db, make_session, make_booking
):
    full = make_session(venue=world.session.venue, seats=1)
    mine = make_booking(full, person=world.person)
    waiting = make_booking(full, person=world.stranger, status=BookingStatus.waitlisted)
    login(world.carer)
    assert post(client, f"/reservations/{mine.id}/annuler").status_code == 302

    cancelled, promoted = entries(db, world.centre.id)
    assert (cancelled.action, cancelled.object_id) == ("booking.cancelled", mine.id)
    assert cancelled.summary.startswith("Réservation annulée : « ")
    assert (promoted.action, promoted.object_id) == ("booking.promoted", waiting.id)
    assert promoted.person_id == world.stranger.id
    assert "depuis la liste d’attente" in promoted.summary
    # The carer's cancellation let the other person in: it is her doing.
    assert {cancelled.actor_id, promoted.actor_id} == {world.carer.id}


def test_cancelling_a_session_is_one_entry_counting_its_bookings_without_the_reason(
    client, world, as_animator, db, make_booking
):
    for person in (world.person, world.other_person, world.stranger):
        make_booking(world.session, person=person)
    response = post(
        client,
        f"/animation/seances/{world.session.id}/annuler",
        {"reason": "Animatrice malade"},
    )
    assert response.status_code == 302

    [entry] = entries(db, world.centre.id)
    assert entry.action == "session.cancelled"
    assert entry.actor_label == "Julie Bonnet (Animation)"
    assert entry.summary.startswith("Séance annulée : « ")
    assert entry.summary.endswith("3 réservations annulées avec elle.")
    assert "malade" not in entry.summary


def test_the_roll_call_is_one_entry(client, world, as_animator, db, make_session, make_booking):
    today = dt.datetime.now().replace(hour=0, minute=1, second=0, microsecond=0)
    session = make_session(starts_at=today, venue=world.session.venue)
    came = make_booking(session, person=world.person)
    away = make_booking(session, person=world.other_person)
    response = post(
        client,
        f"/animation/seances/{session.id}/presences",
        {f"presence-{came.id}": "present", f"presence-{away.id}": "absent"},
    )
    assert response.status_code == 302

    [entry] = entries(db, world.centre.id)
    assert (entry.action, entry.object_id) == ("session.attendance", session.id)
    assert entry.summary.endswith("(présent(e) : 1, absent(e) : 1).")


def test_joining_a_cycle_is_one_entry(client, world, login, db, make_session, make_booking):
    first = dt.datetime.combine(dt.date.today() + dt.timedelta(days=2), dt.time(10))
    series = SessionSeries(
        activity_id=world.session.activity_id,
        frequency=Frequency.weekly,
        first_date=first.date(),
        until_date=first.date() + dt.timedelta(days=14),
        start_time=dt.time(10),
        end_time=dt.time(11),
        venue_id=world.session.venue_id,
        seats=1,
    )
    db.add(series)
    db.commit()
    sessions = [
        make_session(
            activity=world.session.activity,
            venue=world.session.venue,
            series_id=series.id,
            seats=1,
            starts_at=first + dt.timedelta(days=7 * week),
        )
        for week in range(3)
    ]
    make_booking(sessions[2], person=world.stranger)  # the last one is full
    login(world.carer)
    url = f"/cycles/{series.id}/inscrire"
    data = {"person_id": world.person.id, "companions": 0}
    post(client, url, data)
    assert post(client, url, {**data, "confirmed": "yes"}).status_code == 302

    [entry] = entries(db, world.centre.id)
    assert (entry.action, entry.object_type, entry.object_id) == (
        "booking.cycle_joined",
        "series",
        series.id,
    )
    assert entry.person_id == world.person.id
    assert entry.summary.endswith(": 3 séances (2 confirmées, 1 en liste d’attente).")


def test_erasing_a_person_is_logged_and_their_name_leaves_the_log(
    client, world, login, db, admin, make_user
):
    own_account = make_user(
        username="jeanne",
        display_name="Jeanne Delmas",
        role=Role.carer,
        password=PASSWORD,
        person_id=world.person.id,
    )
    # Read before `entries` expires them: a lazy load would hold SQLite's write lock.
    centre_id, person_id, session_id = world.centre.id, world.person.id, world.session.id
    admin_name = admin.username
    login(own_account)
    book(client, session_id, person_id)
    assert "Jeanne Delmas" in entries(db, centre_id)[0].actor_label
    post(client, "/deconnexion")
    assert sign_in(client, admin_name).status_code == 302
    assert "Jeanne Delmas" in text_of(client.get("/admin/journal"))

    response = post(client, f"/donnees-personnelles/{person_id}/effacer")
    assert response.status_code == 302
    client.get(response.headers["Location"])  # its message names the person, once

    booked, cancelled, erased = entries(db, centre_id)
    assert cancelled.action == "booking.cancelled"
    assert erased.action == "person.erased"
    assert erased.actor_label == "Alice Martin (Administrateur)"
    assert booked.actor_label == f"compte de la personne effacée n° {person_id}"
    page = text_of(client.get("/admin/journal"))
    assert "Jeanne" not in page
    assert f"Personne effacée n° {person_id}" in page


# --- the page ---------------------------------------------------------------------------------


def _entry(centre_id, **values):
    defaults = {
        "centre_id": centre_id,
        "at": dt.datetime(2026, 4, 14, 12, 30),
        "actor_label": "Paul Lebrun (Coordination)",
        "kind": AuditKind.booking,
        "action": "booking.created",
        "object_type": "booking",
        "object_id": 1,
        "summary": "Réservation confirmée : « Gym douce ».",
    }
    return AuditEntry(**{**defaults, **values})


@pytest.mark.parametrize("role", [Role.coordinator, Role.animator, Role.carer, Role.driver])
def test_only_the_administrator_reads_the_log(client, world, login, make_user, role):
    login(make_user(role=role, password=PASSWORD))
    assert client.get("/admin/journal").status_code == 403
    assert "/admin/journal" not in client.get("/").get_data(as_text=True)


def test_a_visitor_is_sent_to_sign_in(client, world):
    response = client.get("/admin/journal")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_the_admin_sees_their_own_centre_newest_first_in_french(
    client, world, login, admin, db, make_centre
):
    other = make_centre()
    db.add_all(
        [
            _entry(world.centre.id, summary="La plus ancienne.", at=dt.datetime(2026, 1, 5, 9)),
            _entry(world.centre.id, summary="La plus récente.", person_id=world.person.id),
            _entry(other.id, summary="Chez le voisin."),
        ]
    )
    db.commit()
    login(admin)
    page = text_of(client.get("/"))
    assert "Journal" in page
    page = text_of(client.get("/admin/journal"))
    assert "Chez le voisin" not in page
    assert page.index("La plus récente.") < page.index("La plus ancienne.")
    # 12:30 UTC is 14:30 in Paris in April (summer time), 10:00 in January.
    assert "mardi 14 avril 2026 à 14 h 30" in page
    assert "lundi 5 janvier 2026 à 10 h 00" in page
    assert "Paul Lebrun (Coordination)" in page and "Jeanne Delmas" in page


def test_filters_by_kind_dates_and_name(client, world, login, admin, db):
    db.add_all(
        [
            _entry(world.centre.id, summary="Réservation de Jeanne.", person_id=world.person.id),
            _entry(
                world.centre.id,
                summary="Séance du printemps.",
                kind=AuditKind.session,
                at=dt.datetime(2026, 3, 2, 10),
                actor_label="Hélène Roux (Animation)",
            ),
        ]
    )
    db.commit()
    login(admin)
    by_kind = text_of(client.get("/admin/journal?quoi=session"))
    assert "Séance du printemps." in by_kind and "Réservation de Jeanne." not in by_kind
    by_dates = text_of(client.get("/admin/journal?du=2026-04-14&au=2026-04-14"))
    assert "Réservation de Jeanne." in by_dates and "Séance du printemps." not in by_dates
    by_person = text_of(client.get("/admin/journal?qui=delmas"))
    assert "Réservation de Jeanne." in by_person and "Séance du printemps." not in by_person
    by_author = text_of(client.get("/admin/journal?qui=helene"))
    assert "Séance du printemps." in by_author and "Réservation de Jeanne." not in by_author
    nothing = text_of(client.get("/admin/journal?qui=personne+inconnue"))
    assert "Aucune action ne correspond à ces critères." in nothing


def test_bad_filters_are_explained_next_to_the_field_and_kept(client, world, login, admin):
    login(admin)
    response = client.get("/admin/journal?du=2026-05-02&au=2026-05-01&quoi=nimporte")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "La date de fin doit venir après la date de début." in html
    assert 'value="2026-05-02"' in html and 'value="2026-05-01"' in html
    assert "Traceback" not in html
    assert client.get("/admin/journal?du=0001-01-01").status_code == 400
    assert client.get("/admin/journal?page=99999999999999999999999").status_code == 200


def test_the_log_is_paged_fifty_at_a_time(client, world, login, admin, db):
    start = dt.datetime(2026, 6, 1, 8)
    db.add_all(
        _entry(world.centre.id, summary=f"Action {n:02d}.", at=start + dt.timedelta(minutes=n))
        for n in range(60)
    )
    db.commit()
    login(admin)
    first = text_of(client.get("/admin/journal?quoi=booking"))
    assert "Action 59." in first and "Action 10." in first and "Action 09." not in first
    assert "Actions plus anciennes" in first and "Actions plus récentes" not in first
    html = client.get("/admin/journal?quoi=booking").get_data(as_text=True)
    assert 'href="/admin/journal?quoi=booking&amp;page=2"' in html
    second = text_of(client.get("/admin/journal?quoi=booking&page=2"))
    assert "Action 09." in second and "Action 00." in second and "Action 10." not in second
    assert "Actions plus récentes" in second and "Actions plus anciennes" not in second


def test_the_animators_pages_log_a_new_person_and_a_new_cycle_but_not_a_refused_form(
    client, world, as_animator, db
):
    centre_id, commune_id = world.centre.id, world.commune.id
    first = dt.date.today() + dt.timedelta(days=3)
    cycle = {
        "activity_id": world.session.activity_id,
        "date": first.isoformat(),
        "start_time": "14:00",
        "end_time": "16:00",
        "venue_id": world.session.venue_id,
        "seats": 12,
        "wheelchair_places": 0,
        "animator_id": "",
        "frequency": "weekly",
        "until_date": (first + dt.timedelta(days=14)).isoformat(),
        "excluded_dates": "",
    }
    refused = post(client, "/animation/seances/nouvelle", {**cycle, "seats": -1})
    assert refused.status_code == 200
    assert entries(db, centre_id) == []

    person = {
        "last_name": "Lafon",
        "first_name": "Germaine",
        "phone": "05 53 22 11 00",
        "commune_id": commune_id,
        "mobility": "walks",
    }
    assert post(client, "/animation/telephone/personnes/nouvelle", person).status_code == 302
    assert post(client, "/animation/seances/nouvelle", cycle).status_code == 302

    created, series = entries(db, centre_id)
    assert (created.action, created.summary) == ("person.created", "Fiche créée.")
    assert series.action == "session.series_created"
    assert series.summary.endswith("(3 séances).")
    assert {created.actor_label, series.actor_label} == {"Julie Bonnet (Animation)"}
