"""Activities and sessions: the animator's overview, creating and editing them."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from scheduling import sessions as sessions_uc
from scheduling.models import Activity, ActivitySession, Audience, Field, Frequency
from scheduling.notifications import plural
from webapp.agenda import availability_of
from webapp.animation import bp
from webapp.animation.common import (
    MAX_ID,
    activity_choices,
    actor,
    animator_choices,
    calls_waiting,
    session_or_404,
    staff_only,
    venue_choices,
)
from webapp.animation.forms import (
    SESSION_ERROR_FIELDS,
    ActivityForm,
    OccurrenceForm,
    SessionForm,
    place_errors,
)
from webapp.auth import centre_now, current_centre_id
from webapp.db import get_db
from webapp.mail import send_notifications

OVERVIEW_DAYS = 14

# --- overview -----------------------------------------------------------------------------------


@bp.get("/")
@staff_only
def index() -> str:
    """The sessions of the coming two weeks, with what to do for each."""
    db = get_db()
    now = centre_now()
    try:
        days = max(1, min(int(request.args.get("jours", OVERVIEW_DAYS)), 366))
    except ValueError:
        days = OVERVIEW_DAYS
    today = now.date()
    sessions = sessions_uc.upcoming_sessions(
        db,
        centre_id=current_centre_id(),
        now=dt.datetime.combine(today, dt.time()),
        date_to=today + dt.timedelta(days=days - 1),
    )
    return render_template(
        "animation/index.html",
        sessions=sessions,
        availability=availability_of(db, sessions),
        days=days,
        calls=calls_waiting(db),
        now=now,
    )


# --- activities -------------------------------------------------------------------------------


def _activity_or_404(activity_id: int) -> Activity:
    found = None
    if activity_id <= MAX_ID:
        found = sessions_uc.get_activity(
            get_db(), centre_id=current_centre_id(), activity_id=activity_id
        )
    if found is None:
        abort(404)
    return found


@bp.get("/activites")
@staff_only
def list_activities() -> str:
    activities = get_db().scalars(
        select(Activity)
        .where(Activity.centre_id == current_centre_id())
        .order_by(Activity.active.desc(), Activity.title)
    )
    return render_template("animation/activities.html", activities=list(activities))


@bp.route("/activites/nouvelle", methods=["GET", "POST"])
@staff_only
def new_activity() -> str | Response:
    form = ActivityForm()
    if form.validate_on_submit():
        result = sessions_uc.create_activity(
            get_db(),
            actor=actor(),
            title=form.title.data or "",
            field=Field(form.field.data),
            audience=Audience(form.audience.data),
            description=form.description.data or "",
            active=bool(form.active.data),
        )
        if result.value is not None:
            flash(f"Activité « {result.value.title} » créée.", "success")
            return redirect(url_for("animation.list_activities"))
        for message in place_errors(form, dict(result.errors), {}):
            flash(message, "error")
    return render_template("animation/activity_form.html", form=form, activity=None)


@bp.route("/activites/<int:activity_id>/modifier", methods=["GET", "POST"])
@staff_only
def edit_activity(activity_id: int) -> str | Response:
    activity = _activity_or_404(activity_id)
    form = ActivityForm(obj=activity if request.method == "GET" else None)
    if request.method == "GET":
        form.field.data = activity.field.value
        form.audience.data = activity.audience.value
    if form.validate_on_submit():
        result = sessions_uc.update_activity(
            get_db(),
            actor=actor(),
            activity_id=activity.id,
            title=form.title.data or "",
            field=Field(form.field.data),
            audience=Audience(form.audience.data),
            description=form.description.data or "",
            active=bool(form.active.data),
        )
        if result.value is not None:
            flash(f"Activité « {result.value.title} » enregistrée.", "success")
            return redirect(url_for("animation.list_activities"))
        for message in place_errors(form, dict(result.errors), {}):
            flash(message, "error")
    return render_template("animation/activity_form.html", form=form, activity=activity)


# --- sessions ---------------------------------------------------------------------------------


def _fill_session_choices(form: SessionForm | OccurrenceForm) -> None:
    db = get_db()
    form.venue_id.choices = venue_choices(db)
    form.animator_id.choices = animator_choices(db)
    if isinstance(form, SessionForm):
        form.activity_id.choices = activity_choices(db)


@bp.route("/seances/nouvelle", methods=["GET", "POST"])
@staff_only
def new_session() -> str | Response:
    form = SessionForm()
    _fill_session_choices(form)
    if request.method == "GET":
        form.activity_id.data = request.args.get("activite", type=int)
        form.animator_id.data = actor().id
    if form.validate_on_submit():
        created = _create_series(form) if form.repeats else _create_one_off(form)
        if created is not None:
            return created
    return render_template("animation/session_form.html", form=form)


def _create_one_off(form: SessionForm) -> Response | None:
    starts_at = form.starts_at()
    result = sessions_uc.create_session(
        get_db(),
        actor=actor(),
        now=centre_now(),
        activity_id=form.activity_id.data,
        venue_id=form.venue_id.data,
        starts_at=starts_at,
        ends_at=form.ends_at(),
        seats=form.seats.data,
        wheelchair_places=form.wheelchair_places.data,
        animator_id=form.animator_id.data,
        booking_deadline=form.deadline_for(starts_at),
        transport_offered=bool(form.transport_offered.data),
    )
    if result.value is None:
        _show_errors(form, dict(result.errors))
        return None
    flash("Séance créée.", "success")
    return redirect(url_for("animation.roster", session_id=result.value.id))


def _create_series(form: SessionForm) -> Response | None:
    result = sessions_uc.create_series(
        get_db(),
        actor=actor(),
        now=centre_now(),
        activity_id=form.activity_id.data,
        frequency=Frequency(form.frequency.data),
        first_date=form.date.data,
        until_date=form.until_date.data,
        start_time=form.start_time.data,
        end_time=form.end_time.data,
        venue_id=form.venue_id.data,
        seats=form.seats.data,
        wheelchair_places=form.wheelchair_places.data,
        animator_id=form.animator_id.data,
        transport_offered=bool(form.transport_offered.data),
        booking_deadline_hours=form.booking_deadline_hours.data,
        excluded_dates=form.excluded(),
    )
    if result.value is None:
        _show_errors(form, dict(result.errors))
        return None
    count = len(result.value.sessions)
    flash(f"Série créée : {count} séance{'s' if count > 1 else ''}.", "success")
    return redirect(url_for("animation.show_series", series_id=result.value.id))


@bp.get("/series/<int:series_id>")
@staff_only
def show_series(series_id: int) -> str:
    db = get_db()
    series = None
    if series_id <= MAX_ID:
        series = sessions_uc.get_series(db, centre_id=current_centre_id(), series_id=series_id)
    if series is None:
        abort(404)
    return render_template(
        "animation/series.html",
        series=series,
        sessions=series.sessions,
        availability=availability_of(db, series.sessions),
        excluded=[dt.date.fromisoformat(d) for d in series.excluded_dates],
        now=centre_now(),
    )


def _show_errors(form: SessionForm | OccurrenceForm, errors: dict[str, str]) -> None:
    for message in place_errors(form, errors, SESSION_ERROR_FIELDS):
        flash(message, "error")


@bp.route("/seances/<int:session_id>/modifier", methods=["GET", "POST"])
@staff_only
def edit_session(session_id: int) -> str | Response:
    db = get_db()
    s: ActivitySession = session_or_404(db, session_id)
    form = OccurrenceForm()
    _fill_session_choices(form)
    if request.method == "GET":
        _prefill_occurrence(form, s)
    elif form.validate_on_submit():
        starts_at = form.starts_at()
        change = sessions_uc.edit_occurrence(
            db,
            actor=actor(),
            now=centre_now(),
            session_id=s.id,
            starts_at=starts_at,
            ends_at=form.ends_at(),
            venue_id=form.venue_id.data,
            seats=form.seats.data,
            wheelchair_places=form.wheelchair_places.data,
            animator_id=form.animator_id.data,
            booking_deadline=form.deadline_for(starts_at),
            transport_offered=bool(form.transport_offered.data),
        )
        if change.ok:
            send_notifications(change.notifications)
            told = len({b.person_id for b in change.affected})
            message = "Séance modifiée."
            if told:
                told_text = plural(
                    told, "personne inscrite prévenue", "personnes inscrites prévenues"
                )
                message += f" {told_text} du changement."
            if change.promoted:
                promoted = plural(
                    len(change.promoted),
                    "personne de la liste d'attente confirmée",
                    "personnes de la liste d'attente confirmées",
                )
                message += f" {promoted}."
            flash(message, "success")
            return redirect(url_for("animation.roster", session_id=s.id))
        _show_errors(form, dict(change.errors))
    return render_template("animation/session_edit.html", form=form, s=s)


def _prefill_occurrence(form: OccurrenceForm, s: ActivitySession) -> None:
    form.date.data = s.starts_at.date()
    form.start_time.data = s.starts_at.time()
    form.end_time.data = s.ends_at.time()
    form.venue_id.data = s.venue_id
    form.seats.data = s.seats
    form.wheelchair_places.data = s.wheelchair_places
    form.animator_id.data = s.animator_id
    form.transport_offered.data = s.transport_offered
    if s.booking_deadline is not None:
        hours = (s.starts_at - s.booking_deadline).total_seconds() / 3600
        form.booking_deadline_hours.data = max(0, round(hours))
