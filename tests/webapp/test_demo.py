"""`flask --app webapp demo`: loads the demo territory, is idempotent, reloads with --reset."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from sqlalchemy import func, select

from scheduling.models import (
    Activity,
    ActivitySession,
    Booking,
    BookingStatus,
    Centre,
    Commune,
    Field,
    Mobility,
    Notification,
    NotificationChannel,
    Person,
    Role,
    User,
    Vehicle,
)
from scheduling.reports import Period, activity_report, transport_report
from scheduling.transport_models import WelfareAlert
from tests.webapp.conftest import read, sign_in
from webapp.demo import CENTRE_SLUG, DEMO_PASSWORD, centre_now, read_communes

LOGINS = ("admin", "coordination", "animation", "aidant", "chauffeur")


def count(db, model, *where):
    total = db.scalar(select(func.count()).select_from(model).where(*where))
    db.commit()  # end the read transaction: SQLite writers must not wait for it
    return total


def run_demo(app, *args):
    result = app.test_cli_runner().invoke(args=["demo", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_demo_loads_a_realistic_territory(app, db):
    output = run_demo(app)
    for username in LOGINS:
        assert username in output
    assert DEMO_PASSWORD in output

    [centre] = read(db, select(Centre).where(Centre.slug == CENTRE_SLUG))
    communes = read(db, select(Commune).where(Commune.centre_id == centre.id))
    assert len(communes) >= 20
    assert {c.insee for c in communes} == {row.insee for row in read_communes()}
    bergerac = next(c for c in communes if c.insee == "24037")
    assert (bergerac.name, bergerac.postcode) == ("Bergerac", "24100")

    persons = read(db, select(Person).where(Person.centre_id == centre.id))
    assert 55 <= len(persons) <= 65
    by_commune = {c.id: c for c in communes}
    for person in persons:  # every home lies near its village
        home = by_commune[person.commune_id]
        assert distance_km(person.lat, person.lon, home.lat, home.lon) <= 2.1
    mobility = [p.mobility for p in persons]
    assert mobility.count(Mobility.walker) >= 5 and mobility.count(Mobility.wheelchair) >= 2
    assert any(p.phone and p.phone.startswith("05") for p in persons)
    assert any(p.email for p in persons) and any(not p.email for p in persons)

    fields = {a.field for a in read(db, select(Activity).where(Activity.centre_id == centre.id))}
    assert fields == set(Field)
    sessions = read(db, select(ActivitySession).where(ActivitySession.centre_id == centre.id))
    assert len(sessions) >= 10 and any(s.series_id for s in sessions)
    assert count(db, Booking, Booking.status == BookingStatus.confirmed) >= 20
    assert count(db, Booking, Booking.status == BookingStatus.waitlisted) >= 1
    assert count(db, Vehicle, Vehicle.centre_id == centre.id) == 3

    assert count(db, Notification, Notification.sent_at.is_(None)) == 0  # no stale outbox

    [carer] = read(db, select(User).where(User.username == "aidant"))
    assert carer.role is Role.carer and len(carer.helped_persons) == 2


def test_demo_has_six_weeks_of_history_for_the_reports(app, db):
    """A newcomer opening /rapports sees held sessions, attendance and marked rounds."""
    run_demo(app)
    [centre] = read(db, select(Centre).where(Centre.slug == CENTRE_SLUG))
    now = centre_now()
    past_month = Period(now.date() - dt.timedelta(days=30), now.date())

    report = activity_report(db, centre_id=centre.id, period=past_month, now=now)
    for line in report.by_field:
        assert line.figures.sessions_held > 0, line.field
    assert report.totals.sessions_cancelled >= 1
    attendance = report.totals.attendance
    assert attendance.present > attendance.excused > 0
    assert attendance.absent > 0
    assert report.first_timers > 0 and report.turned_away > 0
    assert report.communes_reached >= 10

    transport = transport_report(db, centre_id=centre.id, period=past_month, now=now)
    db.commit()
    assert transport is not None
    assert transport.distance_km > 0 and transport.passengers_carried > 0
    assert transport.average_ride_min is not None and transport.average_ride_min > 0
    assert transport.longest_ride_min is not None and transport.longest_ride_min <= 90

    # The past leaves no e-mail to send, no call to make and no alert to follow up.
    assert count(db, Notification, Notification.sent_at.is_(None)) == 0
    assert (
        count(
            db,
            Notification,
            Notification.done_at.is_(None),
            Notification.channel == NotificationChannel.phone_call,
        )
        == 0
    )
    assert count(db, WelfareAlert, WelfareAlert.acknowledged_at.is_(None)) == 0
    assert count(db, Booking, Booking.status == BookingStatus.no_show) > 0


def test_demo_is_idempotent_and_reset_reloads(app, db):
    run_demo(app)
    persons = count(db, Person)
    again = run_demo(app)
    assert "déjà chargé" in again
    assert count(db, Person) == persons
    assert count(db, Centre) == 1

    reset = run_demo(app, "--reset")
    assert "effacé" in reset and "chargé" in reset
    assert count(db, Person) == persons
    assert count(db, Centre) == 1


def test_reset_leaves_other_centres_alone(app, db, make_person, centre):
    other_person = make_person()  # in the test's own centre, not the demo's
    other_id = other_person.id
    run_demo(app)
    run_demo(app, "--reset")
    assert read(db, Person, other_id) is not None


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_demo_logins_work(app, db):
    run_demo(app)
    for username in LOGINS:
        response = sign_in(app.test_client(), username, DEMO_PASSWORD)
        assert response.status_code == 302, username
        assert "/connexion" not in response.headers["Location"]


def distance_km(lat1, lon1, lat2, lon2):
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6371 * math.hypot(x, y)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_demo_refuses_to_take_over_another_centres_logins(app, db, make_user):
    make_user(username="animation")
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1
    assert "existent déjà dans un autre centre : animation" in result.output
    assert count(db, Centre, Centre.slug == CENTRE_SLUG) == 0


def test_demo_on_a_database_without_tables_says_what_to_do(tmp_path):
    from webapp import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'vide.sqlite3'}", "SECRET_KEY": "x"})
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1
    assert "migrations appliquées" in result.output
    assert "Traceback" not in result.output
