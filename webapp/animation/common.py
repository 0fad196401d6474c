"""Helpers shared by the animator pages: access rule, choices, loading within the centre."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from scheduling.booking import get_session
from scheduling.models import (
    Activity,
    ActivitySession,
    Commune,
    Person,
    User,
    Venue,
)
from scheduling.notifications import call_list
from scheduling.people import STAFF_ROLES
from webapp.auth import current_centre_id, role_required

F = TypeVar("F", bound=Callable[..., Any])
MAX_ID = 2**62  # beyond any database integer: nothing to find, answer 404 rather than overflow


def staff_only(view: F) -> F:
    """Animators, coordinators and administrators only (carers and drivers get 403)."""
    return role_required(*sorted(STAFF_ROLES))(view)


def session_or_404(db: Session, session_id: int) -> ActivitySession:
    if session_id > MAX_ID:
        abort(404)
    found = get_session(db, centre_id=current_centre_id(), session_id=session_id)
    if found is None:
        abort(404)
    return found


def person_or_404(db: Session, person_id: int) -> Person:
    if person_id > MAX_ID:
        abort(404)
    person = db.scalar(
        select(Person).where(Person.id == person_id, Person.centre_id == current_centre_id())
    )
    if person is None:
        abort(404)
    return person


def activity_choices(db: Session, *, only_active: bool = True) -> list[SelectChoice]:
    query = select(Activity).where(Activity.centre_id == current_centre_id())
    if only_active:
        query = query.where(Activity.active.is_(True))
    activities = db.scalars(query.order_by(Activity.title))
    return [SelectChoice("", "— Choisissez —")] + [SelectChoice(a.id, a.title) for a in activities]


def venue_choices(db: Session) -> list[SelectChoice]:
    venues = db.scalars(
        select(Venue).where(Venue.centre_id == current_centre_id()).order_by(Venue.name)
    )
    return [SelectChoice("", "— Choisissez —")] + [
        SelectChoice(v.id, f"{v.name}{'' if v.step_free else ' (avec marches)'}") for v in venues
    ]


def animator_choices(db: Session) -> list[SelectChoice]:
    staff = db.scalars(
        select(User)
        .where(
            User.centre_id == current_centre_id(),
            User.role.in_(STAFF_ROLES),
            User.active.is_(True),
        )
        .order_by(User.display_name)
    )
    return [SelectChoice("", "L'équipe du centre")] + [
        SelectChoice(u.id, u.display_name) for u in staff
    ]


def commune_choices(db: Session) -> list[SelectChoice]:
    communes = db.scalars(
        select(Commune).where(Commune.centre_id == current_centre_id()).order_by(Commune.name)
    )
    return [SelectChoice("", "— Choisissez —")] + [
        SelectChoice(c.id, f"{c.name} ({c.postcode})") for c in communes
    ]


def calls_waiting(db: Session) -> int:
    return len(call_list(db, current_centre_id()))


def actor() -> User:
    """The signed-in staff member, as the use-cases want them."""
    user: User = current_user._get_current_object()
    return user


def phone_href(phone: str | None) -> str:
    """A tel: link target ('tel:+33536491234') for a French number."""
    digits = "".join(c for c in (phone or "") if c in "0123456789+")
    if digits.startswith("0") and len(digits) == 10:
        digits = "+33" + digits[1:]
    return f"tel:{digits}"


def names(persons: Sequence[Person]) -> str:
    return ", ".join(p.full_name for p in persons)
