"""The public agenda of upcoming sessions and the page of one session."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template, request, session, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session, joinedload
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import Select

from scheduling.db import begin_reading
from scheduling.models import (
    ACTIVE_BOOKING_STATUSES,
    SEAT_HOLDING_STATUSES,
    Activity,
    ActivitySession,
    Audience,
    Booking,
    BookingStatus,
    Centre,
    Commune,
    Field,
    Mobility,
    Person,
    Role,
    SessionStatus,
    User,
    Venue,
)
from scheduling.people import persons_visible_to
from webapp.auth import centre_now, current_centre_id, get_in_centre
from webapp.db import get_db
from webapp.forms import NavetteForm, int_choice, plausible_date

bp = Blueprint("agenda", __name__)


@bp.before_request
def _read_only() -> None:
    """The agenda's pages only read: their transaction need not hold SQLite's write lock."""
    begin_reading(get_db())


AGENDA_DAYS = 60  # how far ahead the agenda looks by default
CHOSEN_PERSON_KEY = "chosen_person_id"


# --- seats left ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Availability:
    """Seats and wheelchair places left at a session, worded for the pages."""

    seats_left: int
    wheelchair_left: int
    waitlisted: int

    @property
    def full(self) -> bool:
        return self.seats_left <= 0

    @property
    def seats_text(self) -> str:
        if self.full:
            return "complet — liste d'attente"
        if self.seats_left == 1:
            return "1 place restante"
        return f"{self.seats_left} places restantes"

    @property
    def wheelchair_text(self) -> str:
        if self.wheelchair_left <= 0:
            return "aucune place pour fauteuil roulant"
        if self.wheelchair_left == 1:
            return "dont 1 place pour fauteuil roulant"
        return f"dont {self.wheelchair_left} places pour fauteuil roulant"


_HOLDING = Booking.status.in_(SEAT_HOLDING_STATUSES)
# Built once: every agenda and session page asks it (building it cost as much as running it).
_SEATS_USED = (
    select(
        Booking.session_id,
        func.sum(case((_HOLDING, 1 + Booking.companions), else_=0)),
        func.sum(case((_HOLDING & (Booking.mobility == Mobility.wheelchair), 1), else_=0)),
        func.sum(case((Booking.status == BookingStatus.waitlisted, 1), else_=0)),
    )
    .where(Booking.session_id.in_(bindparam("ids", expanding=True)))
    .group_by(Booking.session_id)
)


def availability_of(db: Session, sessions: list[ActivitySession]) -> dict[int, Availability]:
    """Compute seats and wheelchair places left for each session, in one query."""
    ids = [s.id for s in sessions]
    if not ids:
        return {}
    rows = db.execute(_SEATS_USED, {"ids": ids}).all()
    used = {row[0]: (int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)) for row in rows}
    result = {}
    for s in sessions:
        seats, wheelchairs, waiting = used.get(s.id, (0, 0, 0))
        result[s.id] = Availability(
            seats_left=max(s.seats - seats, 0),
            wheelchair_left=max(min(s.wheelchair_places - wheelchairs, s.seats - seats), 0),
            waitlisted=waiting,
        )
    return result


# --- who may I book for ----------------------------------------------------------------------


def persons_i_may_book_for(db: Session, user: User) -> list[Person]:
    """The persons a carer (or an older person with an account) may book for: own record first.

    Staff book on behalf of anyone through the animation pages, not here.
    """
    if not user.is_authenticated or user.role is not Role.carer:
        return []
    persons = persons_visible_to(db, user)
    return sorted(persons, key=lambda p: (p.id != user.person_id, p.last_name, p.first_name))


def person_label(person: Person, user: User) -> str:
    if person.id == user.person_id:
        return f"Moi-même ({person.full_name})"
    return f"{person.full_name} — {person.commune.name}"


def chosen_person(persons: list[Person]) -> Person | None:
    """The person the signed-in user is looking for activities for, if any, among `persons`
    (`persons_i_may_book_for`: empty for a visitor)."""
    if not persons:
        return None
    wanted = int_choice(request.args.get("pour")) or session.get(CHOSEN_PERSON_KEY)
    for person in persons:
        if person.id == wanted:
            session[CHOSEN_PERSON_KEY] = person.id
            return person
    return persons[0] if len(persons) == 1 else None


def active_bookings_of(
    db: Session, person: Person | None, sessions: list[ActivitySession]
) -> dict[int, Booking]:
    """The person's live bookings (confirmed or waitlisted…) among `sessions`, by session id."""
    if person is None or not sessions:
        return {}
    bookings = db.scalars(
        select(Booking).where(
            Booking.person_id == person.id,
            Booking.session_id.in_([s.id for s in sessions]),
            Booking.status.in_(ACTIVE_BOOKING_STATUSES),
        )
    )
    return {b.session_id: b for b in bookings}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    rlat1, rlat2 = math.radians(lat1), math.radians(lat2)
    dlat = rlat2 - rlat1
    dlon = math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(rlat1) * math.cos(rlat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def home_coordinates(person: Person) -> tuple[float, float] | None:
    if person.lat is not None and person.lon is not None:
        return person.lat, person.lon
    if person.commune is not None:
        return person.commune.lat, person.commune.lon
    return None


# --- the agenda --------------------------------------------------------------------------------


class _Select(Select):  # type: ignore[misc]  # wtforms ships no types
    """wtforms' select, writing the same HTML faster: the agenda's filters are on every view of
    it, and the stock widget inspects its own signature at each render and builds each option
    through `html_params` (a third of the page's rendering with the communes' list)."""

    @classmethod
    def _dispatch_render_option(cls) -> Any:
        return cls.render_option

    @classmethod
    def render_option(cls, choice: Any, **kwargs: Any) -> Markup:
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)  # type: ignore[no-any-return]
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{escape(value)}">{label}</option>')


class AgendaFilterForm(NavetteForm):
    """Filters of the agenda, read from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    pour = SelectField(
        "Pour qui ?",
        widget=_Select(),
        description="Les activités les plus proches de chez cette personne s'affichent d'abord.",
        coerce=int_choice,
        validate_choice=False,
    )
    date = DateField(
        "À partir du",
        validators=[Optional(), plausible_date],
        render_kw={"autocomplete": "off"},
    )
    field = SelectField(
        "Thème",
        widget=_Select(),
        choices=[SelectChoice("", "Tous les thèmes")]
        + [SelectChoice(f.value, f.label) for f in Field],
        validate_choice=False,
    )
    audience = SelectField(
        "Pour quel public",
        widget=_Select(),
        choices=[SelectChoice("", "Tous les publics")]
        + [SelectChoice(a.value, a.label) for a in Audience],
        validate_choice=False,
    )
    commune = SelectField("Commune", coerce=int_choice, validate_choice=False, widget=_Select())


def _upcoming_sessions(
    db: Session, centre_id: int, form: AgendaFilterForm, today: dt.date
) -> list[ActivitySession]:
    typed = form.date.data if not form.date.errors else None
    start_day = typed if isinstance(typed, dt.date) else today
    start_day = max(start_day, today)
    start = dt.datetime.combine(start_day, dt.time.min)
    query = (
        select(ActivitySession)
        .join(ActivitySession.activity)
        .join(ActivitySession.venue)
        .where(
            ActivitySession.centre_id == centre_id,
            ActivitySession.status == SessionStatus.scheduled,
            ActivitySession.starts_at >= max(start, centre_now()),
            ActivitySession.starts_at < start + dt.timedelta(days=AGENDA_DAYS),
            Activity.active.is_(True),
        )
        .options(
            joinedload(ActivitySession.activity),
            joinedload(ActivitySession.venue).joinedload(Venue.commune),
        )
        .order_by(ActivitySession.starts_at, ActivitySession.id)
    )
    if form.field.data in {f.value for f in Field}:
        query = query.where(Activity.field == Field(form.field.data))
    if form.audience.data in {a.value for a in Audience}:
        query = query.where(Activity.audience == Audience(form.audience.data))
    if form.commune.data:
        query = query.where(Venue.commune_id == form.commune.data)
    return list(db.scalars(query).unique())


@bp.get("/")
def index() -> str:
    db = get_db()
    if not current_user.is_authenticated and db.scalar(select(Centre.id).limit(1)) is None:
        return render_template("agenda/empty.html")  # a fresh install: nothing to show yet
    centre_id = current_centre_id()
    form = AgendaFilterForm(formdata=request.args)
    form.validate()  # only to turn typed dates into dates; a bad date shows its message
    communes = db.scalars(
        select(Commune).where(Commune.centre_id == centre_id).order_by(Commune.name)
    ).all()
    form.commune.choices = [SelectChoice(0, "Toutes les communes")] + [
        SelectChoice(c.id, c.name) for c in communes
    ]
    persons = persons_i_may_book_for(db, current_user) if current_user.is_authenticated else []
    person = chosen_person(persons)
    form.pour.choices = [SelectChoice(0, "Choisissez…")] + [
        SelectChoice(p.id, person_label(p, current_user)) for p in persons
    ]
    if person is not None:
        form.pour.data = person.id

    sessions = _upcoming_sessions(db, centre_id, form, centre_now().date())
    distances: dict[int, float] = {}
    home = home_coordinates(person) if person is not None else None
    if home is not None:
        for s in sessions:
            distances[s.id] = haversine_km(home[0], home[1], s.venue.lat, s.venue.lon)
        sessions.sort(key=lambda s: (round(distances[s.id]), s.starts_at))
    return render_template(
        "agenda/index.html",
        form=form,
        sessions=sessions,
        availability=availability_of(db, sessions),
        distances=distances,
        person=person,
        persons=persons,
        booked=active_bookings_of(db, person, sessions),
    )


@bp.get("/seances/<int:session_id>")
def show_session(session_id: int) -> str:
    db = get_db()
    activity_session: ActivitySession = get_in_centre(
        ActivitySession,
        session_id,
        joinedload(ActivitySession.activity),  # all shown: one query rather than four
        joinedload(ActivitySession.venue).joinedload(Venue.commune),
        joinedload(ActivitySession.animator),
    )
    availability = availability_of(db, [activity_session])[activity_session.id]
    persons = persons_i_may_book_for(db, current_user) if current_user.is_authenticated else []
    person = chosen_person(persons)
    distance = None
    home = home_coordinates(person) if person is not None else None
    if home is not None:
        venue = activity_session.venue
        distance = haversine_km(home[0], home[1], venue.lat, venue.lon)
    remaining_in_series = []
    if activity_session.series is not None:
        remaining_in_series = [
            s
            for s in activity_session.series.sessions
            if s.starts_at > centre_now() and s.status is SessionStatus.scheduled
        ]
    may_book = bool(persons)
    return render_template(
        "agenda/session.html",
        s=activity_session,
        availability=availability,
        person=person,
        distance=distance,
        remaining_in_series=remaining_in_series,
        may_book=may_book,
        booked=active_bookings_of(db, person, [activity_session]).get(activity_session.id),
        is_past=activity_session.starts_at <= centre_now(),
        booking_url=url_for("bookings.new_booking", session_id=activity_session.id),
    )
