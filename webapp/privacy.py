"""Personal data: the privacy notice, and the GDPR requests staff carry out for a person.

A person (or their family) asks the centre to see, or to erase, what Navette holds about them;
the coordination or the administrator does it here. The use-cases are scheduling.privacy's.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from scheduling import booking as booking_uc
from scheduling.models import ActivitySession, Booking, BookingStatus, Person, Role
from scheduling.people import get_person_for
from scheduling.privacy import erase_person, export_person, is_erased
from scheduling.retention import duration_label
from webapp.auth import centre_now, role_required
from webapp.db import get_db
from webapp.forms import ConfirmForm
from webapp.mail import send_notifications
from webapp.retention import retention_months
from webapp.transport import hooks as transport_hooks

bp = Blueprint("privacy", __name__)

MAX_ID = 2**62  # beyond any database integer: nothing to find, answer 404 rather than overflow
PRIVACY_ROLES = (Role.admin, Role.coordinator)


@bp.get("/confidentialite")
def notice() -> str:
    months = retention_months(current_app)
    return render_template(
        "privacy/notice.html", retention=duration_label(months) if months > 0 else None
    )


def _person_or_404(db: Session, person_id: int) -> Person:
    person = get_person_for(db, current_user, person_id) if person_id <= MAX_ID else None
    if person is None:
        abort(404)
    return person


def _export_or_404(person_id: int) -> dict[str, Any]:
    if person_id > MAX_ID:
        abort(404)
    data = export_person(get_db(), actor=current_user, person_id=person_id)
    if data is None:
        abort(404)
    return data


@bp.get("/donnees-personnelles/<int:person_id>")
@role_required(*PRIVACY_ROLES)
def person_data(person_id: int) -> str:
    """Everything held about the person, readable (the same as the JSON file)."""
    data = _export_or_404(person_id)
    return render_template(
        "privacy/person.html",
        data=data,
        person_id=person_id,
        erased=is_erased(_person_or_404(get_db(), person_id)),
        as_datetime=dt.datetime.fromisoformat,  # the export's dates are ISO text
    )


@bp.get("/donnees-personnelles/<int:person_id>/export.json")
@role_required(*PRIVACY_ROLES)
def person_data_json(person_id: int) -> Response:
    data = _export_or_404(person_id)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="donnees-personne-{person_id}.json"'
        },
    )


@bp.route("/donnees-personnelles/<int:person_id>/effacer", methods=["GET", "POST"])
@role_required(*PRIVACY_ROLES)
def erase(person_id: int) -> str | Response:
    """Confirm, then erase: future bookings cancelled, past ones kept without a name."""
    db = get_db()
    person = _person_or_404(db, person_id)
    if is_erased(person):  # nothing left to erase: say so rather than ask again
        flash("Cette personne est déjà effacée.", "info")
        return redirect(url_for("privacy.person_data", person_id=person_id))
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("privacy/erase.html", form=form, person=person)
    name = person.full_name
    now = centre_now()
    # Cancel the future bookings here, as a cancellation anywhere else does: the waitlist is
    # told of a freed seat and the rounds are re-planned. erase_person then finds none left.
    for booking_id in _future_booking_ids(db, person.id, now):
        outcome = booking_uc.cancel_booking(db, booking_id=booking_id, actor=current_user, now=now)
        if outcome.ok:
            transport_hooks.after_cancelled(db, outcome)
            send_notifications(outcome.notifications)
    result = erase_person(db, actor=current_user, person_id=person.id, now=now)
    if not result.ok:
        db.rollback()
        flash(" ".join(result.errors.values()), "error")
        return redirect(url_for("privacy.person_data", person_id=person_id))
    flash(
        f"Les données de {name} sont effacées. Ses réservations passées restent, sans son nom.",
        "success",
    )
    return redirect(url_for("privacy.person_data", person_id=person_id))


def _future_booking_ids(db: Session, person_id: int, now: dt.datetime) -> list[int]:
    return list(
        db.scalars(
            select(Booking.id)
            .join(Booking.session)
            .where(
                Booking.person_id == person_id,
                Booking.status.in_((BookingStatus.confirmed, BookingStatus.waitlisted)),
                ActivitySession.starts_at > now,
            )
        )
    )
