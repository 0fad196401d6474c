"""Booking by phone on behalf of anyone: find (or create) the person, pick a session, book.

The same rules as everywhere apply (scheduling.booking.book) and the same BookingForm is used.
"""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from scheduling import booking as booking_uc
from scheduling import sessions as sessions_uc
from scheduling.booking import default_pickup_address
from scheduling.models import ActivitySession, Booking, BookingStatus, Mobility, Person
from scheduling.people import create_person, search_persons
from scheduling.policy import booking_refusal, request_refusal
from webapp.agenda import availability_of
from webapp.animation import bp
from webapp.animation.common import (
    actor,
    commune_choices,
    person_or_404,
    session_or_404,
    staff_only,
)
from webapp.animation.forms import PersonForm, SearchForm, place_errors
from webapp.auth import centre_now, current_centre_id
from webapp.db import get_db
from webapp.forms import BookingForm
from webapp.mail import send_notifications
from webapp.transport import hooks as transport_hooks

BOOKABLE_DAYS = 90
PERSON_ERROR_FIELDS = {"__all__": "__all__"}


@bp.get("/telephone")
@staff_only
def phone_search() -> str:
    """Step 1: who is calling? Search by name, phone number or commune."""
    form = SearchForm(request.args)
    query = (form.q.data or "").strip()
    persons: list[Person] = []
    if query and form.validate():
        persons = search_persons(get_db(), actor=actor(), query=query, limit=30)
    return render_template("animation/phone_search.html", form=form, query=query, persons=persons)


@bp.route("/telephone/personnes/nouvelle", methods=["GET", "POST"])
@staff_only
def new_person() -> str | Response:
    """Step 1 bis: the caller is not known yet: a few fields are enough."""
    db = get_db()
    form = PersonForm()
    form.commune_id.choices = commune_choices(db)
    if request.method == "GET" and request.args.get("nom"):
        form.last_name.data = request.args["nom"].strip()[:100]
    if not form.validate_on_submit():
        return render_template("animation/person_form.html", form=form)
    # Two records for one caller split their bookings: show who has this name first.
    twins = [] if request.form.get("autre_personne") else _same_name(db, form)
    if twins:
        return render_template("animation/person_form.html", form=form, twins=twins)
    result = create_person(
        db,
        actor=actor(),
        first_name=form.first_name.data or "",
        last_name=form.last_name.data or "",
        commune_id=form.commune_id.data,
        phone=form.phone.data,
        email=form.email.data,
        address=form.address.data or "",
        mobility=Mobility(form.mobility.data),
        companion_needed=bool(form.companion_needed.data),
        driver_notes=form.driver_notes.data or "",
    )
    if result.value is not None:
        flash(f"{result.value.full_name} est enregistré(e).", "success")
        return redirect(url_for("animation.phone_person", person_id=result.value.id))
    for message in place_errors(form, dict(result.errors), PERSON_ERROR_FIELDS):
        flash(message, "error")
    return render_template("animation/person_form.html", form=form)


def _same_name(db: Session, form: PersonForm) -> list[Person]:
    """Persons of the centre with the typed name: the caller may already be known."""
    return list(
        db.scalars(
            select(Person).where(
                Person.centre_id == current_centre_id(),
                func.lower(Person.last_name) == (form.last_name.data or "").strip().lower(),
                func.lower(Person.first_name) == (form.first_name.data or "").strip().lower(),
            )
        )
    )


@bp.get("/telephone/personnes/<int:person_id>")
@staff_only
def phone_person(person_id: int) -> str:
    """Step 2: the person's file, their bookings, and the sessions they can book."""
    db = get_db()
    person = person_or_404(db, person_id)
    now = centre_now()
    sessions = [
        s
        for s in sessions_uc.upcoming_sessions(
            db,
            centre_id=current_centre_id(),
            now=now,
            date_to=now.date() + dt.timedelta(days=BOOKABLE_DAYS),
            include_cancelled=False,
        )
        if booking_refusal(s, now) is None
    ]
    bookings = list(
        db.scalars(
            select(Booking)
            .join(Booking.session)
            .where(
                Booking.person_id == person.id,
                Booking.status != BookingStatus.cancelled,
                ActivitySession.starts_at >= now,
            )
            .order_by(ActivitySession.starts_at)
        )
    )
    booked_ids = {b.session_id for b in bookings}
    return render_template(
        "animation/phone_person.html",
        person=person,
        sessions=[s for s in sessions if s.id not in booked_ids],
        availability=availability_of(db, sessions),
        bookings=bookings,
        status_text=_status_text,
    )


def _status_text(booking: Booking) -> str:
    if booking.status is BookingStatus.waitlisted:
        position = booking_uc.waitlist_position(get_db(), booking)
        return f"liste d'attente (position {position})"
    return booking.status.label.lower()


@bp.route("/telephone/personnes/<int:person_id>/seances/<int:session_id>", methods=["GET", "POST"])
@staff_only
def phone_book(person_id: int, session_id: int) -> str | Response:
    """Step 3: the booking itself, with the questions every booking asks."""
    db = get_db()
    person = person_or_404(db, person_id)
    s: ActivitySession = session_or_404(db, session_id)
    now = centre_now()
    form = BookingForm()
    form.person_id.choices = [SelectChoice(person.id, person.full_name)]
    if request.method == "GET":
        form.person_id.data = person.id
        form.pickup_address.data = default_pickup_address(person)
        form.companions.data = 1 if person.companion_needed else 0
    closed = booking_refusal(s, now)
    if closed is None and form.validate_on_submit():
        wants_ride = s.transport_offered and (form.transport_out.data or form.transport_back.data)
        outcome = booking_uc.book(
            db,
            session_id=s.id,
            person_id=person.id,
            actor=actor(),
            now=now,
            companions=form.companions.data or 0,
            transport_out=s.transport_offered and bool(form.transport_out.data),
            transport_back=s.transport_offered and bool(form.transport_back.data),
            pickup_address=(form.pickup_address.data or "").strip() if wants_ride else None,
        )
        if outcome.booking is not None:
            ride = transport_hooks.after_booked(db, outcome.booking, outcome.notifications)
            if ride:
                flash(ride, "warning")
            send_notifications(outcome.notifications)
            flash(outcome.message, "success" if outcome.confirmed else "warning")
            return redirect(url_for("animation.phone_person", person_id=person.id))
        form.form_errors.append(outcome.message)
    availability = availability_of(db, [s])[s.id]
    warning = None
    if closed is None:
        warning = request_refusal(
            s,
            companions=0,
            mobility=person.mobility,
            transport_out=False,
            transport_back=False,
        )
    return render_template(
        "animation/phone_book.html",
        form=form,
        person=person,
        s=s,
        availability=availability,
        closed=closed,
        warning=warning,
    )
