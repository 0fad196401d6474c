"""The retention purge from the outside: `flask privacy purge [--dry-run]`, the nightly task on
the queue, the setting, and what the privacy notice says."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from scheduling.models import Booking, Person
from tests.webapp.conftest import read, text_of
from webapp import create_app
from webapp.jobs import PURGE_SCHEDULE, Worker, make_queue


@pytest.fixture
def inactive(db, make_person, make_session, make_booking, now) -> Person:
    """Someone who last came four years ago."""
    person = make_person(first_name="Odette", last_name="Ancienne", address="2 chemin du Puits")
    long_ago = now - dt.timedelta(days=4 * 365)
    make_booking(
        make_session(starts_at=long_ago), person=person, created_at=long_ago - dt.timedelta(9)
    )
    return person


def test_purge_command_dry_run_then_for_real(app, db, inactive):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["privacy", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Simulation : rien n'est modifié." in result.output
    assert "Conservation : 3 ans" in result.output
    assert f"Odette Ancienne (n° {inactive.id})" in result.output
    assert read(db, Person, inactive.id).last_name == "Ancienne"

    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "Personnes sans activité depuis, anonymisées : 1 " in result.output
    person = read(db, Person, inactive.id)
    assert person.last_name == f"effacée n° {inactive.id}"
    assert person.address == ""
    assert db.scalar(select(func.count(Booking.id)).where(Booking.person_id == inactive.id)) == 1
    db.commit()


def test_a_longer_setting_keeps_her(app, db, inactive):
    app.config["RETENTION_MONTHS"] = 60
    result = app.test_cli_runner().invoke(args=["privacy", "purge"])
    assert "Conservation : 5 ans" in result.output
    assert "anonymisées : 0 " in result.output
    assert read(db, Person, inactive.id).last_name == "Ancienne"


def test_zero_turns_the_purge_off(app, db, inactive):
    app.config["RETENTION_MONTHS"] = 0
    result = app.test_cli_runner().invoke(args=["privacy", "purge"])
    assert result.exit_code != 0
    assert "désactivée" in result.output
    assert read(db, Person, inactive.id).last_name == "Ancienne"
    assert "n'est pas activé sur ce site" in text_of(app.test_client().get("/confidentialite"))


def test_the_queue_runs_the_purge_every_night(app, db, inactive):
    queue = make_queue("memory", name=f"navette-purge-{inactive.id}")
    worker = Worker(app, queue)
    # huey's clock is UTC: the task is due at 2 h 17, once.
    assert worker.enqueue_periodic(dt.datetime(2026, 11, 23, 2, 16)) == 0
    assert worker.enqueue_periodic(dt.datetime(2026, 11, 23, 2, 17, 5)) == 1
    assert worker.enqueue_periodic(dt.datetime(2026, 11, 23, 2, 17, 40)) == 0  # same minute
    assert worker.run_one()
    assert read(db, Person, inactive.id).last_name == f"effacée n° {inactive.id}"
    assert not worker.run_one()  # nothing else was queued
    assert PURGE_SCHEDULE(dt.datetime(2026, 11, 24, 2, 17))


def test_the_duration_comes_from_the_environment_and_shows_on_the_notice(
    db_url, monkeypatch, world
):
    monkeypatch.setenv("NAVETTE_RETENTION_MONTHS", "18")
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "x"})
    assert app.config["RETENTION_MONTHS"] == 18
    text = text_of(app.test_client().get("/confidentialite"))
    assert "Après 18 mois sans aucune activité" in text
    assert "effacées automatiquement" in text
    app.extensions["navette_engine"].dispose()


def test_without_the_setting_the_purge_uses_the_one_default(app, monkeypatch):
    from webapp import config, retention

    app.config.pop("RETENTION_MONTHS", None)
    assert retention.retention_months(app) == config.DEFAULT_RETENTION_MONTHS
    monkeypatch.setattr(retention, "DEFAULT_RETENTION_MONTHS", 24)  # one place to change it
    assert retention.retention_months(app) == 24
