"""Shared forms. Every form derives from `NavetteForm`, so its messages are in French."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, StopValidation, ValidationError

from scheduling.policy import MAX_COMPANIONS

# Larger ids exist in no table, and would overflow SQLite's integers.
MAX_DATABASE_INT = 2**62


EARLIEST_YEAR, LATEST_YEAR = 2000, 2099


def plausible_date(_form: Any, field: Any) -> None:
    """Refuse a year typed wrong (0001, 20277…): date arithmetic on it would overflow."""
    if isinstance(field.data, dt.date) and not EARLIEST_YEAR <= field.data.year <= LATEST_YEAR:
        raise ValidationError(
            f"Indiquez une date entre {EARLIEST_YEAR} et {LATEST_YEAR} (exemple : 24/12/2026)."
        )


def drop_nul(value: Any) -> Any:
    """Remove NUL characters a pasted text may carry: PostgreSQL refuses them in text."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class NavetteForm(FlaskForm):  # type: ignore[misc]  # flask_wtf ships no types
    """A Flask-WTF form (CSRF-protected) whose built-in messages are in French."""

    class Meta:
        locales = ("fr_FR", "fr")

        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            filters = [*unbound_field.kwargs.get("filters", ()), drop_nul]
            return unbound_field.bind(form=form, **{**options, "filters": filters})

        def get_translations(self, form: Any) -> Any:
            from wtforms.i18n import get_translations

            return get_translations(self.locales)


def parse_whole_number(text: str | None, maximum: int = MAX_DATABASE_INT) -> int | None:
    """A whole number (0 or more) written in ASCII digits, at most `maximum`; else None.

    For ids and counters read from an address or a form. `str.isdigit()` alone accepts '²'
    or Arabic-Indic digits, which `int()` rejects (a 500) or reads as another number.
    """
    if not text or not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if number <= maximum else None


def int_choice(value: Any) -> int | None:
    """Coerce a select's value to int, leaving junk to the validator instead of crashing."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if abs(number) <= MAX_DATABASE_INT else None


class ChoiceRequired(InputRequired):  # type: ignore[misc]  # wtforms ships no types
    """InputRequired for a select coerced by `int_choice`: a value that is no number (a
    tampered form) coerces to None like the "— Choisissez —" placeholder, so it passes the
    choice check; refuse it like an empty choice instead of saving no id."""

    def __call__(self, form: Any, field: Any) -> None:
        super().__call__(form, field)
        if field.data is None:
            raise StopValidation(self.message)


class BookingForm(NavetteForm):
    """Booking a place at a session (carers, older people, and animators on the phone).

    The view fills `person_id.choices` with the persons the user may book for, and may prefill
    `pickup_address` from the chosen person. `confirmed` is set by the confirmation step.
    """

    person_id = SelectField(
        "Pour qui ?",
        coerce=int_choice,
        validate_choice=True,
        validators=[InputRequired("Choisissez la personne qui participera.")],
    )
    companions = IntegerField(
        "Nombre d'accompagnants",
        description=f"Personnes qui viennent avec la personne inscrite (de 0 à {MAX_COMPANIONS}).",
        default=0,
        validators=[
            InputRequired("Indiquez un nombre, 0 si personne ne l'accompagne."),
            NumberRange(0, MAX_COMPANIONS, f"Indiquez un nombre entre 0 et {MAX_COMPANIONS}."),
        ],
        render_kw={"inputmode": "numeric", "min": 0, "max": MAX_COMPANIONS},
    )
    transport_out = BooleanField("Besoin d'être conduit(e) à l'activité (aller)")
    transport_back = BooleanField("Besoin d'être raccompagné(e) à la maison (retour)")
    pickup_address = StringField(
        "Adresse où venir la chercher",
        description="Adresse de la personne. Changez-la seulement pour cette fois.",
        validators=[Length(max=300, message="Adresse trop longue (300 caractères).")],
        render_kw={"autocomplete": "street-address"},
    )
    confirmed = HiddenField(default="")

    def validate_pickup_address(self, field: StringField) -> None:
        wants_transport = self.transport_out.data or self.transport_back.data
        if wants_transport and not (field.data or "").strip():
            raise ValidationError("Indiquez l'adresse où le véhicule viendra la chercher.")


class CycleForm(BookingForm):
    """Joining every remaining session of a recurring workshop: same questions as a booking."""


class ConfirmForm(NavetteForm):
    """A form with nothing but its CSRF token, for one-button confirmations (e.g. cancelling)."""
