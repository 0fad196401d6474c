"""Retention of past personal data, from the command line and nightly on the task queue.

``flask --app webapp privacy purge [--dry-run]`` runs `scheduling.retention`'s purge with the
duration of NAVETTE_RETENTION_MONTHS (36 by default; 0 turns the nightly purge off) and prints,
in French, what it did. The task queue (webapp/jobs.py) runs the same every night.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from scheduling.models import DEFAULT_TIMEZONE, Centre
from scheduling.retention import RetentionReport, purge_old_personal_data
from webapp.config import DEFAULT_RETENTION_MONTHS
from webapp.db import session_scope

privacy_cli = AppGroup("privacy", help="Données personnelles : conservation limitée.")


def retention_months(app: Flask) -> int:
    return int(app.config.get("RETENTION_MONTHS", DEFAULT_RETENTION_MONTHS))


def run_purge(
    app: Flask, *, dry_run: bool = False, now: dt.datetime | None = None
) -> RetentionReport:
    """Purge in one transaction: everything is forgotten, or nothing (on error).

    `now` (for tests) is the centres' wall-clock time; by default it is read from the clock in
    the centres' zone, and the audit log, written in UTC, is compared with the UTC time."""
    utc_now = None
    with session_scope(app) as db:
        if now is None:
            utc = dt.datetime.now(dt.UTC).replace(microsecond=0)
            now = utc.astimezone(ZoneInfo(_centres_zone(db))).replace(tzinfo=None)
            utc_now = utc.replace(tzinfo=None)
        report = purge_old_personal_data(
            db, now=now, months=retention_months(app), dry_run=dry_run, utc_now=utc_now
        )
        if dry_run:
            db.rollback()
    return report


def _centres_zone(db: DbSession) -> str:
    """The zone the centres' times are written in. A site whose centres lie in different zones
    gets Europe/Paris: a few hours either way against months of retention only moves an erasure
    by one night, and the purge never cancels a booking (a booking to come is recent activity)."""
    zones = {zone or DEFAULT_TIMEZONE for zone in db.scalars(select(Centre.timezone).distinct())}
    return zones.pop() if len(zones) == 1 else DEFAULT_TIMEZONE


@privacy_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Dit ce qui serait effacé, sans rien modifier.")
def purge_command(dry_run: bool) -> None:
    """Anonymise les personnes sans activité depuis la durée de conservation, et oublie les
    adresses et notes des alertes et les messages plus anciens."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    months = retention_months(app)
    if months < 1:
        raise click.ClickException(
            "La conservation limitée est désactivée (NAVETTE_RETENTION_MONTHS=0) : rien à faire."
        )
    for line in run_purge(app, dry_run=dry_run).lines():
        click.echo(line)


def nightly_purge(app: Flask) -> None:
    """The queue's nightly task: purge, and write the report to the log."""
    if retention_months(app) < 1:
        return
    report = run_purge(app)
    app.logger.warning("Conservation des données :\n%s", "\n".join(report.lines()))
