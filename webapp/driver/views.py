"""Views of the drivers' pages: rounds, route sheet (phone and PDF), marks, welfare alerts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import Length

from scheduling import driving
from scheduling.models import Person, Role, User
from scheduling.notifications import phone_to_call
from scheduling.transport_models import DayStatus, Round, RoundStop, StopKind, StopStatus
from webapp.animation.common import phone_href
from webapp.auth import centre_now, role_required
from webapp.db import get_db
from webapp.driver import bp
from webapp.forms import MAX_DATABASE_INT, ConfirmForm, NavetteForm
from webapp.mail import send_notifications

F = TypeVar("F", bound=Callable[..., Any])

DAYS_AHEAD = 7  # « Mes tournées »: today and the coming week
ALERT_HISTORY_DAYS = 7
MARK_BUTTONS = {
    StopStatus.picked_up: "Pris(e) en charge",
    StopStatus.no_show: "Absent(e)",
    StopStatus.nobody_answered: "Personne ne répond",
    StopStatus.dropped_off: "Déposé(e)",
}
# How the state of a stop reads on the sheet, after « État : ».
STATE_WORDS = {
    StopStatus.planned: "à faire",
    StopStatus.picked_up: "pris(e) en charge",
    StopStatus.dropped_off: "déposé(e)",
    StopStatus.no_show: "absent(e)",
    StopStatus.nobody_answered: "personne ne répond — alerte envoyée",
}


def drivers_and_supervisors(view: F) -> F:
    """Drivers, coordinators and administrators (carers and animators get 403)."""
    return role_required(Role.driver, Role.coordinator, Role.admin)(view)


def supervisors_only(view: F) -> F:
    return role_required(Role.coordinator, Role.admin)(view)


def actor() -> User:
    user: User = current_user._get_current_object()
    return user


class AcknowledgeForm(NavetteForm):
    note = TextAreaField(
        "Ce qui a été fait (facultatif)",
        validators=[Length(max=1000, message="Note trop longue (1000 caractères au plus).")],
        render_kw={"rows": 2},
    )


# --- helpers for the templates ---------------------------------------------------------------


def navigation_href(stop: RoundStop) -> str:
    """A geo: link: the phone's navigation app opens it at the stop's coordinates."""
    return f"geo:{stop.lat:.6f},{stop.lon:.6f}?q={quote(stop.address or '', safe='')}"


def map_href(stop: RoundStop) -> str:
    """A plain web link to the place, for phones that do not handle geo: links."""
    return (
        f"https://www.openstreetmap.org/?mlat={stop.lat:.6f}&mlon={stop.lon:.6f}"
        f"#map=17/{stop.lat:.5f}/{stop.lon:.5f}"
    )


def carer_phones(person: Person) -> list[str]:
    return [c.phone for c in person.carers if c.active and c.phone]


def not_aboard(round_: Round) -> set[int]:
    """Bookings whose outbound pickup in this round was not made (absent, nobody answered)."""
    return {
        s.booking_id
        for s in round_.stops
        if s.kind is StopKind.pickup
        and s.status in (StopStatus.no_show, StopStatus.nobody_answered)
    }


def _template_helpers() -> dict[str, Any]:
    return {
        "phone_href": phone_href,
        "navigation_href": navigation_href,
        "map_href": map_href,
        "carer_phones": carer_phones,
        "marks_for": driving.marks_for,
        "MARK_BUTTONS": MARK_BUTTONS,
        "STATE_WORDS": STATE_WORDS,
        "StopKind": StopKind,
        "StopStatus": StopStatus,
    }


@bp.app_context_processor
def _alert_banner() -> dict[str, Any]:
    """`open_welfare_alert_count()` for the banner of base.html (queried only when called)."""

    def count() -> int:
        if not current_user.is_authenticated or not driving.is_supervisor(current_user):
            return 0
        try:
            return driving.count_open_alerts(get_db(), user=actor())
        except SQLAlchemyError:  # an error page must still render when the database fails
            return 0

    return {"open_welfare_alert_count": count}


def round_or_404(round_id: int) -> Round:
    if round_id > MAX_DATABASE_INT:
        abort(404)
    round_ = driving.get_round_for(get_db(), user=actor(), round_id=round_id)
    if round_ is None:
        abort(404)
    return round_


def stop_or_404(stop_id: int) -> RoundStop:
    if stop_id > MAX_DATABASE_INT:
        abort(404)
    stop = driving.get_stop_for(get_db(), user=actor(), stop_id=stop_id)
    if stop is None:
        abort(404)
    return stop


def _sheet_context(round_: Round) -> dict[str, Any]:
    db = get_db()
    return {
        "r": round_,
        "stops": round_.stops,
        "not_aboard": not_aboard(round_),
        "passengers": len({s.booking_id for s in round_.stops}),
        "centre_phone": driving.coordination_phone(db, round_.centre_id),
        "phone_to_call": phone_to_call,
        **_template_helpers(),
    }


# --- views ---------------------------------------------------------------------------------


@bp.get("/")
@drivers_and_supervisors
def index() -> str:
    db = get_db()
    today = centre_now().date()
    user = actor()
    if driving.is_supervisor(user):
        rounds = driving.rounds_of_centre(db, user=user, start=today, days=DAYS_AHEAD)
    else:
        rounds = driving.rounds_for_driver(db, user=user, start=today, days=DAYS_AHEAD)
    by_day: dict[dt.date, list[Round]] = {}
    for r in rounds:
        by_day.setdefault(r.day.date, []).append(r)
    return render_template(
        "driver/rounds.html",
        by_day=by_day,
        today=today,
        days_ahead=DAYS_AHEAD,
        supervisor=driving.is_supervisor(user),
        centre_phone=driving.coordination_phone(db, user.centre_id),
        phone_href=phone_href,
    )


@bp.get("/tournees/<int:round_id>")
@drivers_and_supervisors
def sheet(round_id: int) -> str:
    round_ = round_or_404(round_id)
    user = actor()
    return render_template(
        "driver/sheet.html",
        form=ConfirmForm(),
        may_mark=driving.may_mark(user, round_),
        # Marks are made on the day (or later, to correct), never ahead of it.
        marking_open=round_.status is DayStatus.published
        and round_.day.date <= centre_now().date(),
        supervisor=driving.is_supervisor(user),
        **_sheet_context(round_),
    )


@bp.post("/arrets/<int:stop_id>/pointage")
@drivers_and_supervisors
def mark(stop_id: int) -> Response:
    stop = stop_or_404(stop_id)
    back = url_for("driver.sheet", round_id=stop.round_id, _anchor=f"arret-{stop.id}")
    if not ConfirmForm().validate_on_submit():
        flash("Le formulaire a expiré : appuyez de nouveau sur le bouton.", "error")
        return redirect(back)
    value = request.form.get("status", "")
    if value not in StopStatus._value2member_map_:
        flash("Pointage illisible : appuyez de nouveau sur le bouton.", "error")
        return redirect(back)
    status = StopStatus(value)
    db = get_db()
    result = driving.mark_stop(db, stop=stop, status=status, actor=actor(), now=centre_now())
    marked = result.value
    if marked is None:
        flash(result.message, "error")
        return redirect(back)
    name = stop.booking.person.full_name
    if status is StopStatus.planned:
        flash(f"{name} : pointage annulé, l'arrêt est de nouveau « à faire ».", "success")
    elif status is StopStatus.nobody_answered:
        send_notifications(marked.notifications)
        phone = driving.coordination_phone(db, stop.round.centre_id)
        call = f" Appelez-la au {phone}." if phone else ""
        flash(
            f"Alerte envoyée à la coordination : personne ne répond chez {name}.{call} "
            "Restez sur place quelques minutes si vous le pouvez.",
            "warning",
        )
    else:
        flash(f"{name} : {STATE_WORDS[status]}.", "success")
    return redirect(back)


@bp.get("/tournees/<int:round_id>/feuille.pdf")
@drivers_and_supervisors
def sheet_pdf(round_id: int) -> Response:
    """The same sheet in large print on A4, for villages without mobile signal."""
    from weasyprint import HTML  # heavy import: only when a sheet is asked for

    round_ = round_or_404(round_id)
    html = render_template(
        "driver/sheet_pdf.html", printed_at=centre_now(), **_sheet_context(round_)
    )
    pdf = HTML(string=html, base_url=current_app.root_path + "/").write_pdf()
    filename = f"tournee-{round_.day.date:%Y-%m-%d}-{round_.id}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@bp.get("/alertes")
@supervisors_only
def alerts() -> str:
    return _alerts_page()


def _alerts_page(failed_id: int | None = None, form: AcknowledgeForm | None = None) -> str:
    """The open alerts; after a refused note, that alert's form keeps the text and the error."""
    db = get_db()
    user = actor()
    since = centre_now() - dt.timedelta(days=ALERT_HISTORY_DAYS)
    return render_template(
        "driver/alerts.html",
        alerts=driving.open_alerts(db, user=user),
        history=driving.recent_acknowledged_alerts(db, user=user, since=since),
        history_days=ALERT_HISTORY_DAYS,
        form=form or AcknowledgeForm(formdata=None),
        failed_id=failed_id,
        **_template_helpers(),
    )


@bp.post("/alertes/<int:alert_id>/prise-en-compte")
@supervisors_only
def acknowledge(alert_id: int) -> Response | tuple[str, int]:
    if alert_id > MAX_DATABASE_INT:
        abort(404)
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        if form.note.errors:
            return _alerts_page(failed_id=alert_id, form=form), 400
        flash("Le formulaire a expiré : recommencez.", "error")
        return redirect(url_for("driver.alerts"))
    result = driving.acknowledge_alert(
        get_db(), alert_id=alert_id, actor=actor(), now=centre_now(), note=form.note.data or ""
    )
    if result.value is None:
        abort(404)  # no such alert in this centre
    flash(f"Alerte prise en compte : {result.value.person_name}.", "success")
    return redirect(url_for("driver.alerts"))
