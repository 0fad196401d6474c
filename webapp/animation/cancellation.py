"""Cancelling a session (everyone booked is told) and the staff's call list."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from scheduling.models import NotificationChannel
from scheduling.notifications import (
    call_list,
    email_recipients,
    mark_call_done,
    pending_emails,
    phone_to_call,
    plural,
)
from scheduling.sessions import cancel_session
from webapp.animation import bp
from webapp.animation.common import MAX_ID, actor, phone_href, session_or_404, staff_only
from webapp.animation.forms import CancelSessionForm, place_errors
from webapp.animation.roster import split_roster
from webapp.auth import centre_now, current_centre_id
from webapp.db import get_db
from webapp.forms import ConfirmForm
from webapp.mail import send_notifications
from webapp.transport import hooks as transport_hooks


@bp.route("/seances/<int:session_id>/annuler", methods=["GET", "POST"])
@staff_only
def cancel(session_id: int) -> str | Response:
    db = get_db()
    s = session_or_404(db, session_id)
    form = CancelSessionForm()
    if form.validate_on_submit():
        change = cancel_session(
            db, actor=actor(), now=centre_now(), session_id=s.id, reason=form.reason.data or ""
        )
        if change.ok:
            transport_hooks.after_session_cancelled(db, change.affected)
            send_notifications(change.notifications)
            mailed = {
                n.person_id for n in change.notifications if n.channel is NotificationChannel.email
            }
            to_call = [
                n for n in change.notifications if n.channel is NotificationChannel.phone_call
            ]
            flash(
                "Séance annulée. "
                f"{plural(len(mailed), 'personne prévenue', 'personnes prévenues')} par e-mail ; "
                f"{plural(len(to_call), 'appel', 'appels')} à passer.",
                "success",
            )
            if to_call:
                return redirect(url_for("animation.calls"))
            return redirect(url_for("animation.roster", session_id=s.id))
        for message in place_errors(form, dict(change.errors), {}):
            flash(message, "error")
    holding, waiting = split_roster(s)
    booked = holding + waiting
    return render_template(
        "animation/cancel.html",
        form=form,
        s=s,
        by_email=[b for b in booked if email_recipients(b.person)],
        by_phone=[b for b in booked if not email_recipients(b.person)],
    )


@bp.get("/appels")
@staff_only
def calls() -> str:
    db = get_db()
    # An e-mail still unsent here could not leave (the outbox is sent right after each
    # change): the person was not told, so staff should phone them.
    return render_template(
        "animation/calls.html",
        calls=call_list(db, current_centre_id()),
        unsent=[n for n in pending_emails(db, current_centre_id()) if n.person is not None],
        form=ConfirmForm(),
        phone_href=phone_href,
        phone_to_call=phone_to_call,
    )


@bp.post("/appels/<int:notification_id>/fait")
@staff_only
def call_done(notification_id: int) -> Response:
    form = ConfirmForm()
    if notification_id > MAX_ID:
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    done = mark_call_done(
        get_db(), centre_id=current_centre_id(), notification_id=notification_id, now=centre_now()
    )
    if done is None:
        abort(404)
    who = done.person.full_name if done.person else done.recipient
    flash(f"Appel à {who} noté comme fait.", "success")
    return redirect(url_for("animation.calls"))
