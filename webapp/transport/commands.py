"""`flask --app webapp rounds build YYYY-MM-DD [--time-limit S]` and `rounds worker`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from flask import Flask, current_app
from sqlalchemy import select

from scheduling.models import Centre
from scheduling.notifications import plural
from scheduling.transport import find_day, summary_words
from scheduling.transport_models import DayStatus
from webapp.db import session_scope
from webapp.jobs import Worker, queue_for, run_build
from webapp.transport import bp


def _centre_id(app: Flask, slug: str | None) -> int:
    slug = slug or app.config.get("DEFAULT_CENTRE")
    with session_scope(app) as db:
        query = select(Centre.id).order_by(Centre.id).limit(1)
        if slug:
            query = select(Centre.id).where(Centre.slug == slug)
        found = db.scalar(query)
    if found is None:
        raise click.ClickException(
            f"Centre « {slug} » introuvable." if slug else "Aucun centre dans la base."
        )
    return int(found)


@bp.cli.command("build")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--time-limit", type=click.FloatRange(min=0.1), help="Secondes de calcul au plus.")
@click.option("--centre", "slug", help="Identifiant (slug) du centre ; par défaut le premier.")
def build_command(day: dt.datetime, time_limit: float | None, slug: str | None) -> None:
    """Construire les tournées d'une date (brouillon) et en afficher le résumé."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    centre_id = _centre_id(app, slug)
    try:
        summary = run_build(app, centre_id, day.date(), None, time_limit)
    except Exception as error:
        raise click.ClickException(f"Le calcul a échoué : {error}") from error
    with session_scope(app) as db:
        row = find_day(db, centre_id, day.date())
        published = row is not None and row.status is DayStatus.published
    click.echo(describe(day.date(), summary, published=published))


def describe(day: dt.date, summary: dict[str, Any], *, published: bool = False) -> str:
    longest = summary.get("longest_ride", {}).get("minutes", 0)
    state = "publiées, heures promises tenues" if published else "brouillon, à publier"
    lines = [
        f"Tournées du {day.strftime('%d/%m/%Y')} ({state}) :",
        f"  {summary_words({**summary, 'unserved': []})}, "
        f"{summary['hours']:.1f} h de tournée, ".replace(".", ",")
        + f"trajet le plus long {longest:.0f} min",
    ]
    unserved = summary.get("unserved", [])
    if unserved:
        lines.append(f"  {plural(len(unserved), 'trajet non servi', 'trajets non servis')} :")
        for item in unserved:
            leg = "aller" if item["leg"] == "outbound" else "retour"
            lines.append(f"    - {item['person']} ({leg}) : {item['reason']}")
    else:
        lines.append("  Tous les trajets demandés sont servis.")
    for item in summary.get("unlocated", []):
        lines.append(f"  Attention : {item['person']}, {item['address']} — {item['message']}")
    for note in summary.get("notes", []):
        lines.append(f"  {note}")
    return "\n".join(lines)


@bp.cli.command("worker")
def worker_command() -> None:
    """Traiter les calculs de tournées en attente (file Redis ou SQLite), jusqu'à Ctrl+C."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    worker = Worker(app, queue_for(app))
    click.echo("Calculateur de tournées prêt (Ctrl+C pour arrêter).")
    try:
        worker.run()
    except KeyboardInterrupt:
        worker.stopping.set()
