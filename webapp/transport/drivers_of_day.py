"""The coordinator picks (or changes) the driver of each round of a day, before or after
publication. On a published day the drivers concerned are told (scheduling.round_drivers)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduling.notifications import plural
from scheduling.round_drivers import INVALID_CHOICE, driver_choices, set_round_drivers
from scheduling.transport import find_day
from scheduling.transport_models import JobStatus
from webapp.auth import centre_now, current_centre_id
from webapp.db import get_db
from webapp.forms import NavetteForm, parse_whole_number
from webapp.mail import send_notifications
from webapp.transport import bp
from webapp.transport.day import _parse_day, coordinators_only


def _typed(value: str) -> int | None:
    """ "" is « no driver »; a number is a driver id; anything else matches no driver (-1)."""
    value = value.strip()
    if not value:
        return None
    number = parse_whole_number(value)
    return -1 if number is None else number


@bp.route("/jour/<day>/chauffeurs", methods=["GET", "POST"])
@coordinators_only
def round_drivers(day: str) -> str | Response:
    """One select per round; all saved together, or nothing when a choice is refused."""
    date = _parse_day(day)
    db = get_db()
    centre_id = current_centre_id()
    row = find_day(db, centre_id, date)
    if row is None or not row.rounds:
        abort(404)
    form = NavetteForm()
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}
    if request.method == "POST":
        typed = {f"round-{r.id}": request.form.get(f"round-{r.id}", "") for r in row.rounds}
        if not form.validate_on_submit():
            errors["__all__"] = "Le formulaire a expiré : envoyez-le à nouveau."
        elif row.job_status in (JobStatus.queued, JobStatus.running):
            errors["__all__"] = "Attendez la fin du calcul avant de choisir les chauffeurs."
        else:
            wanted = {
                r.id: _typed(request.form[f"round-{r.id}"])
                for r in row.rounds
                if f"round-{r.id}" in request.form
            }
            result = set_round_drivers(
                db, day=row, wanted=wanted, actor=current_user, now=centre_now()
            )
            if result.ok and result.value is not None:
                send_notifications(result.value)
                told = len(result.value)
                flash(
                    "Chauffeurs enregistrés"
                    + (
                        f" ; {plural(told, 'chauffeur prévenu', 'chauffeurs prévenus')} par e-mail."
                        if told
                        else "."
                    ),
                    "success",
                )
                return redirect(url_for("transport.show_day", day=date.isoformat()))
            errors = dict(result.errors)
    return render_template(
        "transport/round_drivers.html",
        date=date,
        day=row,
        choices=driver_choices(db, centre_id, date),
        errors=errors,
        typed=typed,
        invalid=INVALID_CHOICE,
    )
