"""Booking pages of carers and older people: book, join a cycle, list, cancel.

Every view checks ownership: a user sees and books only for the persons they may book for
(the persons a carer helps, or an older person's own record). Anything else answers 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask import session as web_session
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from scheduling import booking as booking_uc
from scheduling.booking import default_pickup_address
from scheduling.models import (
    ActivitySession,
    Booking,
    BookingStatus,
    Notification,
    Person,
    Role,
    SessionSeries,
    SessionStatus,
)
from scheduling.policy import booking_refusal
from webapp.agenda import (
    CHOSEN_PERSON_KEY,
    availability_of,
    person_label,
    persons_i_may_book_for,
)
from webapp.auth import centre_now, current_centre_id, get_in_centre, role_required
from webapp.db import get_db
from webapp.forms import BookingForm, ConfirmForm, CycleForm, int_choice
from webapp.fr import fr_when
from webapp.ical import booking_file
from webapp.links import external_url
from webapp.mail import send_mail, send_notifications
from webapp.transport import hooks as transport_hooks

bp = Blueprint("bookings", __name__)

STATUS_WORDS = {
    BookingStatus.confirmed: "confirmée",
    BookingStatus.waitlisted: "liste d'attente",
    BookingStatus.cancelled: "annulée",
    BookingStatus.attended: "présent(e)",
    BookingStatus.excused: "excusé(e)",
    BookingStatus.no_show: "absent(e)",
}


# --- helpers -----------------------------------------------------------------------------------


def _my_persons(db: Session) -> list[Person]:
    """The persons the user may book for; a user who may book for nobody gets a 403."""
    persons = persons_i_may_book_for(db, current_user)
    if not persons:
        abort(403)
    return persons


def _pick(persons: Sequence[Person], raw: object) -> Person | None:
    wanted = int_choice(raw)
    return next((p for p in persons if p.id == wanted), None)


def _prepare_form(form: BookingForm, persons: Sequence[Person]) -> None:
    form.person_id.choices = [SelectChoice(p.id, person_label(p, current_user)) for p in persons]


def _prefill(form: BookingForm, person: Person) -> None:
    form.person_id.data = person.id
    form.pickup_address.data = default_pickup_address(person)


def status_words(db: Session, booking: Booking) -> str:
    if booking.status is BookingStatus.waitlisted:
        return f"liste d'attente, position {booking_uc.waitlist_position(db, booking)}"
    return STATUS_WORDS[booking.status]


def _my_booking(db: Session, booking_id: int) -> Booking:
    """A booking of one of my persons, in my centre; anything else is 404."""
    if booking_id > 2**62:
        abort(404)
    booking = booking_uc.get_booking_for(db, current_user, booking_id)
    if booking is None:
        abort(404)
    return booking


def _mail_booker(booking: Booking, notified: Sequence[str]) -> None:
    """Make sure the one who booked gets the confirmation, even if not on the person's file."""
    address = (current_user.email or "").strip().lower()
    if not address or address in notified:
        return
    session = booking.session
    subject = (
        f"Liste d'attente : {session.activity.title}"
        if booking.status is BookingStatus.waitlisted
        else f"Réservation confirmée : {session.activity.title}"
    )
    body = render_template(
        "bookings/email_booked.txt", b=booking, s=session, url=_booking_url(booking)
    )
    send_mail(address, subject, body, booking_file(get_db(), booking, _booking_url(booking)))


def _booking_url(booking: Booking) -> str:
    return external_url("bookings.show_booking", booking_id=booking.id)


def _deliver(notifications: Sequence[Notification]) -> list[str]:
    """Send the outcome's e-mails after commit; return who is written to."""
    send_notifications(notifications)
    return [n.recipient.lower() for n in notifications]


# --- booking one session ----------------------------------------------------------------------


@bp.route("/seances/<int:session_id>/reserver", methods=["GET", "POST"])
@role_required(Role.carer)
def new_booking(session_id: int) -> str | Response:
    db = get_db()
    activity_session: ActivitySession = get_in_centre(ActivitySession, session_id)
    persons = _my_persons(db)
    now = centre_now()
    closed = booking_refusal(activity_session, now)
    if closed:
        return render_template("bookings/closed.html", s=activity_session, reason=closed)
    availability = availability_of(db, [activity_session])[activity_session.id]

    form = BookingForm()
    _prepare_form(form, persons)
    if request.method == "GET":
        person = _pick(persons, request.args.get("pour")) or _chosen(persons)
        if person is None or "choisir" in request.args:
            return render_template(
                "bookings/choose_person.html", s=activity_session, persons=persons
            )
        _prefill(form, person)
        return _booking_page(form, activity_session, person, availability)

    valid = form.validate()
    person = _pick(persons, form.person_id.data)
    if not valid or person is None or "edit" in request.form:
        return _booking_page(form, activity_session, person or persons[0], availability)
    if form.confirmed.data != "yes":
        return render_template(
            "bookings/confirm.html",
            form=form,
            s=activity_session,
            person=person,
            availability=availability,
        )
    outcome = booking_uc.book(
        db,
        session_id=activity_session.id,
        person_id=person.id,
        actor=current_user,
        now=now,
        companions=form.companions.data or 0,
        transport_out=activity_session.transport_offered and bool(form.transport_out.data),
        transport_back=activity_session.transport_offered and bool(form.transport_back.data),
        pickup_address=(form.pickup_address.data or "").strip() or default_pickup_address(person),
    )
    if outcome.booking is None:
        flash(outcome.reason or "La réservation n'a pas pu être faite.", "error")
        return _booking_page(form, activity_session, person, availability)
    transport_warning = transport_hooks.after_booked(db, outcome.booking, outcome.notifications)
    if transport_warning:
        flash(transport_warning, "warning")
    notified = _deliver(outcome.notifications)
    _mail_booker(outcome.booking, notified)
    return redirect(url_for("bookings.show_booking", booking_id=outcome.booking.id, new=1))


def _chosen(persons: Sequence[Person]) -> Person | None:
    """The only person, or the one chosen earlier on the agenda."""
    if len(persons) == 1:
        return persons[0]
    return _pick(persons, web_session.get(CHOSEN_PERSON_KEY))


def _booking_page(
    form: BookingForm, s: ActivitySession, person: Person, availability: object
) -> str:
    return render_template(
        "bookings/form.html",
        form=form,
        s=s,
        person=person,
        availability=availability,
        several=len(form.person_id.choices or []) > 1,
    )


# --- one booking: confirmation page, cancellation ----------------------------------------------


@bp.get("/reservations/<int:booking_id>")
@role_required(Role.carer)
def show_booking(booking_id: int) -> str:
    db = get_db()
    booking = _my_booking(db, booking_id)
    return render_template(
        "bookings/detail.html",
        b=booking,
        s=booking.session,
        status=status_words(db, booking),
        position=booking_uc.waitlist_position(db, booking),
        new=request.args.get("new") == "1",
        may_cancel=_may_cancel(booking),
    )


def _may_cancel(booking: Booking) -> bool:
    return (
        booking.status in (BookingStatus.confirmed, BookingStatus.waitlisted)
        and booking.session.status is SessionStatus.scheduled
        and booking.session.starts_at > centre_now()
    )


@bp.route("/reservations/<int:booking_id>/annuler", methods=["GET", "POST"])
@role_required(Role.carer)
def cancel_booking(booking_id: int) -> str | Response:
    db = get_db()
    booking = _my_booking(db, booking_id)
    if not _may_cancel(booking):
        flash("Cette réservation ne peut plus être annulée ici. Appelez le centre.", "warning")
        return redirect(url_for("bookings.show_booking", booking_id=booking.id))
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("bookings/cancel.html", form=form, b=booking, s=booking.session)
    outcome = booking_uc.cancel_booking(
        db, booking_id=booking.id, actor=current_user, now=centre_now()
    )
    if not outcome.ok:
        flash(outcome.message, "warning")
        return redirect(url_for("bookings.show_booking", booking_id=booking.id))
    transport_hooks.after_cancelled(db, outcome)  # promoted people are told in their message
    _deliver(outcome.notifications)
    flash(
        f"La réservation de {booking.person.full_name} pour « {booking.session.activity.title} »"
        " est annulée. La place est libérée.",
        "success",
    )
    return redirect(url_for("bookings.list_bookings"))


@bp.get("/reservations/<int:booking_id>/agenda.ics")
@role_required(Role.carer)
def booking_ics(booking_id: int) -> Response:
    """The booking as a calendar file, to add it to a phone's or computer's agenda."""
    db = get_db()
    booking = _my_booking(db, booking_id)
    body = booking_file(db, booking, _booking_url(booking))
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f"attachment; filename=navette-{booking.id}.ics"},
    )


# --- Mes réservations --------------------------------------------------------------------------


@bp.get("/reservations")
@role_required(Role.carer)
def list_bookings() -> str:
    db = get_db()
    persons = _my_persons(db)
    now = centre_now()
    bookings = db.scalars(
        select(Booking)
        .join(Booking.session)
        .where(
            Booking.centre_id == current_centre_id(),
            Booking.person_id.in_([p.id for p in persons]),
            ActivitySession.starts_at >= now - dt.timedelta(days=1),
        )
        .options(joinedload(Booking.session).joinedload(ActivitySession.activity))
        .order_by(ActivitySession.starts_at, Booking.id)
    ).all()
    upcoming = [b for b in bookings if b.status is not BookingStatus.cancelled]
    cancelled = [b for b in bookings if b.status is BookingStatus.cancelled]
    return render_template(
        "bookings/list.html",
        upcoming=upcoming,
        cancelled=cancelled,
        words={b.id: status_words(db, b) for b in bookings},
        may_cancel={b.id: _may_cancel(b) for b in bookings},
        persons=persons,
    )


# --- a whole cycle ------------------------------------------------------------------------------


def _my_series(db: Session, series_id: int) -> SessionSeries:
    if series_id > 2**62:
        abort(404)
    series = db.get(SessionSeries, series_id)
    if series is None or series.activity.centre_id != current_centre_id():
        abort(404)
    return series


def _remaining(series: SessionSeries, now: dt.datetime) -> list[ActivitySession]:
    return [
        s
        for s in series.sessions
        if s.status is SessionStatus.scheduled and booking_refusal(s, now) is None
    ]


@bp.route("/cycles/<int:series_id>/inscrire", methods=["GET", "POST"])
@role_required(Role.carer)
def join_cycle(series_id: int) -> str | Response:
    db = get_db()
    series = _my_series(db, series_id)
    persons = _my_persons(db)
    now = centre_now()
    sessions = _remaining(series, now)
    if not sessions:
        return render_template(
            "bookings/closed.html",
            s=None,
            series=series,
            reason="Il ne reste aucune séance ouverte à la réservation dans ce cycle.",
        )
    availability = availability_of(db, sessions)
    form = CycleForm()
    _prepare_form(form, persons)
    context = {
        "series": series,
        "sessions": sessions,
        "availability": availability,
        "several": len(persons) > 1,
    }
    if request.method == "GET":
        person = _pick(persons, request.args.get("pour")) or _chosen(persons)
        if person is None or "choisir" in request.args:
            return render_template(
                "bookings/choose_person.html", s=sessions[0], series=series, persons=persons
            )
        _prefill(form, person)
        return render_template("bookings/cycle_form.html", form=form, person=person, **context)

    valid = form.validate()
    person = _pick(persons, form.person_id.data)
    if not valid or person is None or "edit" in request.form:
        return render_template(
            "bookings/cycle_form.html", form=form, person=person or persons[0], **context
        )
    if form.confirmed.data != "yes":
        return render_template("bookings/cycle_confirm.html", form=form, person=person, **context)
    transport = series.transport_offered
    cycle = booking_uc.join_cycle(
        db,
        series_id=series.id,
        person_id=person.id,
        actor=current_user,
        now=now,
        companions=form.companions.data or 0,
        transport_out=transport and bool(form.transport_out.data),
        transport_back=transport and bool(form.transport_back.data),
        pickup_address=(form.pickup_address.data or "").strip() or default_pickup_address(person),
    )
    if cycle.reason:
        flash(cycle.reason, "warning")
    notified = _deliver(cycle.notifications)
    booked = [o.booking for o in cycle.outcomes if o.booking is not None]
    if booked:
        _mail_booker_cycle(series, booked, notified)
    for outcome in cycle.refused:
        flash(f"{_when(outcome.session)} : {outcome.reason}", "warning")
    return redirect(url_for("bookings.cycle_result", series_id=series.id, pour=person.id))


def _when(session: ActivitySession | None) -> str:
    return fr_when(session.starts_at).capitalize() if session is not None else "Une séance"


def _mail_booker_cycle(series: SessionSeries, booked: list[Booking], notified: list[str]) -> None:
    address = (current_user.email or "").strip().lower()
    if not address or address in notified:
        return
    body = render_template(
        "bookings/email_cycle.txt",
        series=series,
        person=booked[0].person,
        bookings=booked,
        url=external_url("bookings.list_bookings"),
    )
    send_mail(address, f"Inscription au cycle : {series.activity.title}", body)


@bp.get("/cycles/<int:series_id>/inscription")
@role_required(Role.carer)
def cycle_result(series_id: int) -> str:
    db = get_db()
    series = _my_series(db, series_id)
    person = _pick(_my_persons(db), request.args.get("pour"))
    if person is None:
        abort(404)
    bookings = db.scalars(
        select(Booking)
        .join(Booking.session)
        .where(
            Booking.person_id == person.id,
            ActivitySession.series_id == series.id,
            Booking.status != BookingStatus.cancelled,
        )
        .order_by(ActivitySession.starts_at)
    ).all()
    return render_template(
        "bookings/cycle_result.html",
        series=series,
        person=person,
        bookings=bookings,
        words={b.id: status_words(db, b) for b in bookings},
    )
