"""Reports (/rapports): the volet-1 activity of a period, for the coordinator and the funder.

The figures come from `scheduling.reports` (one tested function each). This module only
arranges them into tables, which the page shows beside its charts, the CSV files export one
by one, and the PDF prints: the same table objects everywhere, so the numbers always agree.

CSV files follow what a French Excel opens with a double click: UTF-8 with a byte-order mark
(so accents survive), `;` between columns and a decimal comma (the comma is the decimal
separator in French), a header row with French column names.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import DateField
from wtforms.validators import InputRequired

from scheduling.models import Centre, Field, Role
from scheduling.reports import (
    ActivityReport,
    Figures,
    Period,
    TransportReport,
    activity_report,
    last_month,
    last_year,
    this_month,
    this_year,
    transport_report,
)
from webapp.auth import centre_now, current_centre_id, role_required
from webapp.charts import Series, bar_chart
from webapp.db import get_db
from webapp.forms import NavetteForm

bp = Blueprint("reports", __name__)

reporters_only = role_required(Role.coordinator, Role.admin)

PRESETS: dict[str, tuple[str, Callable[[dt.date], Period]]] = {
    "ce-mois": ("Ce mois-ci", this_month),
    "mois-dernier": ("Le mois dernier", last_month),
    "cette-annee": ("Cette année", this_year),
    "annee-derniere": ("L'année dernière", last_year),
}
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 12, 31)
LONGEST_PERIOD_DAYS = 3660  # ten years: enough for any survey, small enough to answer quickly


class PeriodForm(NavetteForm):
    du = DateField("Du", validators=[InputRequired("Indiquez la date de début.")])
    au = DateField("Au (inclus)", validators=[InputRequired("Indiquez la date de fin.")])

    def period(self) -> Period | None:
        """The period typed, or None with a French message next to the wrong date."""
        if not self.validate():
            return None
        start, end = self.du.data, self.au.data
        for date_field in (self.du, self.au):
            if not EARLIEST <= date_field.data <= LATEST:
                date_field.errors.append("Choisissez une date entre l'an 2000 et l'an 2100.")
                return None
        if end < start:
            self.au.errors.append("La date de fin doit venir après la date de début.")
            return None
        if (end - start).days > LONGEST_PERIOD_DAYS:
            self.au.errors.append("Choisissez une période de dix ans au plus.")
            return None
        return Period(start, end)


def _period_from_request(today: dt.date) -> tuple[PeriodForm, Period | None]:
    """The preset asked for, else the dates typed, else this month."""
    preset = request.args.get("periode", "")
    if preset in PRESETS or not ({"du", "au"} & request.args.keys()):
        period = PRESETS.get(preset, PRESETS["ce-mois"])[1](today)
        form = PeriodForm(formdata=None, meta={"csrf": False}, du=period.start, au=period.end)
        return form, period
    form = PeriodForm(formdata=request.args, meta={"csrf": False})
    return form, form.period()


def fr_number(value: object) -> str:
    """12 → '12', 40.0 → '40', 52.5 → '52,5' (French decimal comma)."""
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text.replace(".", ",")
    return str(value)


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"fr_number": fr_number}


# --- tables ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    slug: str  # the CSV file's name
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str | int | float, ...], ...]
    numeric_from: int = 1  # columns from this index hold numbers (aligned right)


FIGURE_COLUMNS = (
    "Séances tenues",
    "Séances annulées",
    "Séances à venir",
    "Réservations",
    "Présents",
    "Excusés",
    "Absents",
    "Appel non fait",
    "Personnes touchées",
)


def _figure_cells(f: Figures) -> tuple[int, ...]:
    a = f.attendance
    return (
        f.sessions_held,
        f.sessions_cancelled,
        f.sessions_upcoming,
        f.bookings,
        a.present,
        a.excused,
        a.absent,
        a.not_taken,
        f.persons_reached,
    )


def obligation_sentence(report: ActivityReport) -> str:
    if report.obligation_met:
        return "Obligation remplie : au moins une action dans chacun des trois volets."
    missing = ", ".join(f"l'axe {_axis(f)} ({f.label.lower()})" for f in report.missing_fields)
    return f"Obligation non remplie : aucune séance tenue dans {missing}."


def _axis(field: Field) -> int:
    return list(Field).index(field) + 1


def activity_tables(report: ActivityReport) -> dict[str, Table]:
    t = report.totals
    summary = Table(
        "synthese",
        "Synthèse de la période",
        ("Indicateur", "Valeur"),
        (
            ("Séances tenues", t.sessions_held),
            ("Séances annulées", t.sessions_cancelled),
            ("Séances à venir", t.sessions_upcoming),
            ("Réservations", t.bookings),
            ("Réservations annulées", report.bookings_cancelled),
            ("Présences", t.attendance.present),
            ("Personnes touchées", t.persons_reached),
            ("Nouveaux participants", report.first_timers),
            ("Inscriptions restées en liste d'attente", report.turned_away),
            ("Personnes refusées faute de place", report.persons_turned_away),
            ("Communes touchées", report.communes_reached),
            ("Communes du territoire", report.communes_in_territory),
            ("Part des communes touchées (%)", report.communes_share_percent),
            ("Obligation des trois volets", "remplie" if report.obligation_met else "non remplie"),
        ),
    )
    attendance = Table(
        "presences",
        "Présence aux séances tenues",
        ("Présence", "Nombre"),
        (
            ("Présents", t.attendance.present),
            ("Excusés", t.attendance.excused),
            ("Absents", t.attendance.absent),
            ("Appel non fait", t.attendance.not_taken),
        ),
    )
    fields = Table(
        "volets",
        "Par volet (axe)",
        ("Axe", *FIGURE_COLUMNS),
        tuple((line.label, *_figure_cells(line.figures)) for line in report.by_field),
    )
    audiences = Table(
        "publics",
        "Par public",
        ("Public", *FIGURE_COLUMNS),
        tuple((line.label, *_figure_cells(line.figures)) for line in report.by_audience),
    )
    activities = Table(
        "activites",
        "Par activité",
        ("Activité", "Axe", "Public", *FIGURE_COLUMNS),
        tuple(
            (line.title, _axis(line.field), line.audience.label, *_figure_cells(line.figures))
            for line in report.by_activity
        ),
        numeric_from=3,
    )
    communes = Table(
        "communes",
        "Communes d'où viennent les personnes touchées",
        ("Commune", "Code INSEE", "Personnes touchées"),
        tuple((c.name, c.insee, c.persons_reached) for c in report.communes),
        numeric_from=2,
    )
    months = Table(
        "mois",
        "Mois par mois",
        ("Mois", *FIGURE_COLUMNS),
        tuple((line.label, *_figure_cells(line.figures)) for line in report.by_month),
    )
    return {
        table.slug: table
        for table in (summary, attendance, fields, audiences, activities, communes, months)
    }


def _minutes(value: float | None) -> str | float:
    return "–" if value is None else value


def transport_tables(transport: TransportReport | None) -> dict[str, Table]:
    if transport is None:
        return {}
    figures = Table(
        "transport",
        "Transport",
        ("Indicateur", "Valeur"),
        (
            ("Jours de tournées", transport.days),
            ("Tournées", transport.rounds),
            ("Demandes servies (trajets)", transport.requests_served),
            ("Demandes non servies", transport.requests_unserved),
            ("Passagers transportés (trajets pointés)", transport.passengers_carried),
            ("Kilomètres parcourus", transport.distance_km),
            ("Heures de véhicule", transport.vehicle_hours),
            ("Trajet moyen (minutes)", _minutes(transport.average_ride_min)),
            ("Trajet le plus long (minutes)", _minutes(transport.longest_ride_min)),
            ("Absents au départ", transport.no_shows),
            ("Personne ne répond", transport.nobody_answered),
            ("Alertes de vigilance", transport.welfare_alerts),
            ("Personnes venues grâce au transport", transport.persons_thanks_to_transport),
        ),
    )
    reasons = Table(
        "transport-motifs",
        "Demandes de transport non servies, par motif",
        ("Motif", "Demandes"),
        tuple((line.reason, line.requests) for line in transport.unserved_reasons),
    )
    months = Table(
        "transport-mois",
        "Transport mois par mois",
        ("Mois", "Tournées", "Demandes servies", "Passagers transportés", "Kilomètres"),
        tuple(
            (m.label, m.rounds, m.requests_served, m.passengers_carried, m.distance_km)
            for m in transport.by_month
        ),
    )
    return {figures.slug: figures, reasons.slug: reasons, months.slug: months}


# --- charts ---------------------------------------------------------------------------------


def charts(report: ActivityReport, transport: TransportReport | None) -> dict[str, Markup]:
    t = report.totals
    drawn = {
        "volets": bar_chart(
            chart_id="graphique-volets",
            title="Séances par volet",
            description="Séances tenues et annulées sur la période, par axe du volet 1.",
            categories=[line.label for line in report.by_field],
            series=[
                Series("Tenues", tuple(line.figures.sessions_held for line in report.by_field)),
                Series(
                    "Annulées", tuple(line.figures.sessions_cancelled for line in report.by_field)
                ),
            ],
        ),
        "presences": bar_chart(
            chart_id="graphique-presences",
            title="Présence aux séances tenues",
            description="Nombre de réservations selon l'appel fait par l'animateur.",
            categories=["Présents", "Excusés", "Absents", "Appel non fait"],
            series=[
                Series(
                    "Réservations",
                    (
                        t.attendance.present,
                        t.attendance.excused,
                        t.attendance.absent,
                        t.attendance.not_taken,
                    ),
                )
            ],
        ),
        "publics": bar_chart(
            chart_id="graphique-publics",
            title="Personnes touchées par public",
            description="Personnes venues au moins une fois, selon le public de l'activité.",
            categories=[line.label for line in report.by_audience],
            series=[
                Series(
                    "Personnes", tuple(line.figures.persons_reached for line in report.by_audience)
                )
            ],
        ),
        "mois": bar_chart(
            chart_id="graphique-mois",
            title="Évolution mois par mois",
            description="Séances tenues et présences, mois par mois.",
            categories=[line.label for line in report.by_month],
            series=[
                Series("Séances tenues", tuple(m.figures.sessions_held for m in report.by_month)),
                Series("Présences", tuple(m.figures.attendance.present for m in report.by_month)),
            ],
        ),
    }
    if report.by_activity:
        drawn["activites"] = bar_chart(
            chart_id="graphique-activites",
            title="Présences par activité",
            description="Nombre de présences sur la période, par activité.",
            categories=[line.title for line in report.by_activity],
            series=[
                Series(
                    "Présences",
                    tuple(line.figures.attendance.present for line in report.by_activity),
                )
            ],
        )
    if report.communes:
        drawn["communes"] = bar_chart(
            chart_id="graphique-communes",
            title="Personnes touchées par commune",
            description="Nombre de personnes venues au moins une fois, par commune d'habitation.",
            categories=[c.name for c in report.communes],
            series=[Series("Personnes", tuple(c.persons_reached for c in report.communes))],
        )
    if transport is not None:
        drawn["transport"] = bar_chart(
            chart_id="graphique-transport",
            title="Demandes de transport",
            description="Trajets demandés sur la période : servis par une tournée ou non servis.",
            categories=["Servies", "Non servies"],
            series=[Series("Demandes", (transport.requests_served, transport.requests_unserved))],
        )
    return drawn


# --- CSV ------------------------------------------------------------------------------------


# A spreadsheet takes a cell starting with one of these for a formula: a title typed as
# '=HYPERLINK(…)' would run when the file is opened (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: str | int | float) -> str | int:
    if isinstance(value, float):
        return fr_number(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # shown as typed, never computed
    return value


def table_csv(table: Table) -> bytes:
    """UTF-8 with BOM, ';' separator, decimal comma: what French Excel opens directly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_csv_cell(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- views ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Everything:
    period: Period
    report: ActivityReport
    transport: TransportReport | None
    tables: dict[str, Table]
    transport_tables: dict[str, Table]

    @property
    def all_tables(self) -> Sequence[Table]:
        return [*self.tables.values(), *self.transport_tables.values()]


def _compute(period: Period) -> Everything:
    db, centre_id, now = get_db(), current_centre_id(), centre_now()
    report = activity_report(db, centre_id=centre_id, period=period, now=now)
    transport = transport_report(db, centre_id=centre_id, period=period, now=now)
    return Everything(
        period, report, transport, activity_tables(report), transport_tables(transport)
    )


def _period_args(period: Period) -> dict[str, str]:
    return {"du": period.start.isoformat(), "au": period.end.isoformat()}


@bp.get("/")
@reporters_only
def show_report() -> tuple[str, int] | str:
    form, period = _period_from_request(centre_now().date())
    if period is None:
        return render_template("reports/index.html", form=form, data=None, presets=PRESETS), 400
    data = _compute(period)
    return render_template(
        "reports/index.html",
        form=form,
        data=data,
        presets=PRESETS,
        charts=charts(data.report, data.transport),
        obligation=obligation_sentence(data.report),
        period_args=_period_args(period),
        chosen=request.args.get("periode", ""),
        csv_link=lambda slug: csv_url(slug, period),
    )


@bp.get("/<slug>.csv")
@reporters_only
def download_csv(slug: str) -> Response:
    _form, period = _period_from_request(centre_now().date())
    if period is None:
        abort(400)
    data = _compute(period)
    table = next((t for t in data.all_tables if t.slug == slug), None)
    if table is None:
        abort(404)
    filename = f"navette-{slug}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return Response(
        table_csv(table),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/rapport.pdf")
@reporters_only
def download_pdf() -> Response:
    """The whole report on A4 paper, charts included."""
    from weasyprint import HTML  # heavy import: only when a PDF is asked for

    _form, period = _period_from_request(centre_now().date())
    if period is None:
        abort(400)
    data = _compute(period)
    centre = get_db().get(Centre, current_centre_id())
    html = render_template(
        "reports/pdf.html",
        data=data,
        charts=charts(data.report, data.transport),
        obligation=obligation_sentence(data.report),
        printed_at=centre_now(),
        centre_name=centre.name if centre is not None else "",
    )
    pdf = HTML(string=html, base_url=current_app.root_path + "/").write_pdf()
    filename = f"rapport-{period.start.isoformat()}-{period.end.isoformat()}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def csv_url(slug: str, period: Period) -> str:
    return url_for(
        "reports.download_csv", slug=slug, du=period.start.isoformat(), au=period.end.isoformat()
    )
