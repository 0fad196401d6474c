"""Forms of the animator pages. Choices that depend on the centre are filled by the views."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from scheduling.models import Audience, Field, Frequency, Mobility
from webapp.forms import ChoiceRequired, NavetteForm, int_choice, plausible_date

ONCE = "once"
MAX_DEADLINE_HOURS = 24 * 30

# Messages a use-case returns under one of its parameter names, shown next to this form field.
SESSION_ERROR_FIELDS = {
    "activity_id": "activity_id",
    "venue_id": "venue_id",
    "seats": "seats",
    "wheelchair_places": "wheelchair_places",
    "animator_id": "animator_id",
    "starts_at": "date",
    "first_date": "date",
    "ends_at": "end_time",
    "end_time": "end_time",
    "until_date": "until_date",
    "excluded_dates": "excluded_dates",
    "booking_deadline": "booking_deadline_hours",
    "booking_deadline_hours": "booking_deadline_hours",
    "transport_offered": "transport_offered",
}


def place_errors(form: NavetteForm, errors: dict[str, str], mapping: dict[str, str]) -> list[str]:
    """Put each use-case error next to its field; return those that belong to no field."""
    leftovers = []
    for key, message in errors.items():
        name = mapping.get(key, key)
        if name in form._fields:
            form[name].errors = [*form[name].errors, message]
        else:
            leftovers.append(message)
    return leftovers


def parse_dates(text: str) -> list[dt.date]:
    """Read dates typed as 25/12/2026 or 2026-12-25, separated by lines, spaces or commas.

    Raises ValueError with a French message naming the first date it cannot read.
    """
    days = []
    for raw in re.split(r"[\s,;]+", text.strip()):
        if not raw:
            continue
        for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
            try:
                days.append(dt.datetime.strptime(raw, pattern).date())
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"« {raw} » n'est pas une date (exemple : 24/12/2026).")
    return days


class ActivityForm(NavetteForm):
    title = StringField(
        "Titre de l'activité",
        validators=[
            DataRequired("Indiquez le titre de l'activité."),
            Length(max=200, message="Le titre ne doit pas dépasser 200 caractères."),
        ],
    )
    field = RadioField(
        "Volet (thème)",
        choices=[
            SelectChoice(f.value, f"Volet {i} — {f.label}") for i, f in enumerate(Field, start=1)
        ],
        validators=[InputRequired("Choisissez le volet de l'activité.")],
    )
    audience = RadioField(
        "Public",
        choices=[SelectChoice(a.value, a.label) for a in Audience],
        validators=[InputRequired("Choisissez le public de l'activité.")],
    )
    description = TextAreaField(
        "Description",
        description="Ce que les participants liront dans l'agenda.",
        validators=[Length(max=2000, message="La description est trop longue (2000 caractères).")],
        render_kw={"rows": 4},
    )
    active = BooleanField("Activité proposée (décochez pour la retirer de l'agenda)", default=True)


def _required_int(label: str, minimum: int, maximum: int, missing: str, hint: str = "") -> Any:
    return IntegerField(
        label,
        description=hint,
        validators=[
            InputRequired(missing),
            NumberRange(minimum, maximum, f"Indiquez un nombre entre {minimum} et {maximum}."),
        ],
        render_kw={"inputmode": "numeric", "min": minimum, "max": maximum},
    )


class _SessionFields(NavetteForm):
    """What one-off sessions, series and single occurrences have in common."""

    date = DateField(
        "Date",
        validators=[InputRequired("Indiquez la date (exemple : 24/12/2026)."), plausible_date],
    )
    start_time = TimeField(
        "Heure de début", validators=[InputRequired("Indiquez l'heure de début.")]
    )
    end_time = TimeField("Heure de fin", validators=[InputRequired("Indiquez l'heure de fin.")])
    venue_id = SelectField(
        "Lieu",
        coerce=int_choice,
        validators=[ChoiceRequired("Choisissez le lieu.")],
    )
    seats = _required_int(
        "Nombre de places", 1, 500, "Indiquez le nombre de places.", "Accompagnants compris."
    )
    wheelchair_places = _required_int(
        "Dont places pour fauteuil roulant", 0, 500, "Indiquez un nombre, 0 s'il n'y en a pas."
    )
    animator_id = SelectField("Animé par", coerce=int_choice, validators=[Optional()])
    booking_deadline_hours = IntegerField(
        "Réservations closes combien d'heures avant le début ?",
        description="Laissez vide pour accepter les réservations jusqu'au début.",
        validators=[
            Optional(),
            NumberRange(
                0, MAX_DEADLINE_HOURS, f"Indiquez un nombre entre 0 et {MAX_DEADLINE_HOURS}."
            ),
        ],
        render_kw={"inputmode": "numeric", "min": 0},
    )
    transport_offered = BooleanField("Le centre propose le transport (aller et retour)")

    def validate_end_time(self, field: TimeField) -> None:
        if field.data and self.start_time.data and field.data <= self.start_time.data:
            raise ValidationError("La fin doit être après le début.")

    def validate_wheelchair_places(self, field: IntegerField) -> None:
        if field.data is not None and self.seats.data is not None and field.data > self.seats.data:
            raise ValidationError("Pas plus de places fauteuil que de places.")

    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(self.date.data, self.start_time.data)

    def ends_at(self) -> dt.datetime:
        return dt.datetime.combine(self.date.data, self.end_time.data)

    def deadline_for(self, starts_at: dt.datetime) -> dt.datetime | None:
        hours = self.booking_deadline_hours.data
        return None if hours is None else starts_at - dt.timedelta(hours=hours)


class SessionForm(_SessionFields):
    """A new session: once, or repeated until a date (with dates left out)."""

    activity_id = SelectField(
        "Activité",
        coerce=int_choice,
        validators=[ChoiceRequired("Choisissez l'activité.")],
    )
    frequency = RadioField(
        "Répétition",
        choices=[SelectChoice(ONCE, "Une seule fois")]
        + [SelectChoice(f.value, f.label) for f in Frequency],
        default=ONCE,
        validators=[InputRequired("Dites si la séance se répète.")],
    )
    until_date = DateField(
        "Dernière date possible de la série",
        description="Seulement si la séance se répète.",
        validators=[Optional(), plausible_date],
    )
    excluded_dates = TextAreaField(
        "Dates sans séance",
        description="Seulement si la séance se répète : une date par ligne (exemple : 24/12/2026).",
        render_kw={"rows": 3},
    )

    @property
    def repeats(self) -> bool:
        return bool(self.frequency.data != ONCE)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        # Checked here: the Optional() of until_date stops its own validators when it is empty.
        if self.repeats and self.until_date.data is None and not self.until_date.errors:
            self.until_date.errors = ["Indiquez jusqu'à quand la séance se répète."]
            valid = False
        return valid

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The activity is asked first on the page: the error summary lists fields in this order.
        self._fields.move_to_end("activity_id", last=False)

    def validate_until_date(self, field: DateField) -> None:
        if self.repeats and self.date.data and field.data and field.data < self.date.data:
            raise ValidationError("La dernière date doit suivre la première séance.")

    def validate_excluded_dates(self, field: TextAreaField) -> None:
        try:
            parse_dates(field.data or "")
        except ValueError as error:
            raise ValidationError(str(error)) from error

    def excluded(self) -> list[dt.date]:
        return parse_dates(self.excluded_dates.data or "")


class OccurrenceForm(_SessionFields):
    """Editing one session (alone, or one occurrence of a series)."""


class PersonForm(NavetteForm):
    """A new person, in the few fields a phone call gives."""

    last_name = StringField(
        "Nom",
        validators=[DataRequired("Indiquez le nom."), Length(max=100, message="Nom trop long.")],
        render_kw={"autocomplete": "off"},
    )
    first_name = StringField(
        "Prénom",
        validators=[
            DataRequired("Indiquez le prénom."),
            Length(max=100, message="Prénom trop long."),
        ],
        render_kw={"autocomplete": "off"},
    )
    phone = StringField(
        "Téléphone",
        description="Fixe ou portable, par exemple 05 53 12 34 56.",
        validators=[Optional(), Length(max=30, message="Numéro trop long.")],
        render_kw={"type": "tel", "autocomplete": "off"},
    )
    address = StringField(
        "Adresse",
        description="Numéro et rue, ou lieu-dit.",
        validators=[Optional(), Length(max=300, message="Adresse trop longue (300 caractères).")],
        render_kw={"autocomplete": "off"},
    )
    commune_id = SelectField(
        "Commune",
        coerce=int_choice,
        validators=[ChoiceRequired("Choisissez la commune.")],
    )
    mobility = RadioField(
        "Comment se déplace-t-elle ?",
        choices=[SelectChoice(m.value, m.label) for m in Mobility],
        default=Mobility.walks.value,
        validators=[InputRequired("Dites comment la personne se déplace.")],
    )
    companion_needed = BooleanField("A besoin d'un accompagnant pour se déplacer")
    email = StringField(
        "Adresse e-mail (facultatif)",
        validators=[Optional(), Length(max=254, message="Adresse trop longue.")],
        render_kw={"type": "email", "autocomplete": "off"},
    )
    driver_notes = TextAreaField(
        "Indications pour le chauffeur (facultatif)",
        description="Code du portail, chien, marches… Rien sur la santé.",
        validators=[Optional(), Length(max=500, message="Texte trop long (500 caractères).")],
        render_kw={"rows": 2},
    )


class SearchForm(NavetteForm):
    """Finding a person on the phone (query string, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(
        "Nom, téléphone ou commune",
        description="Par exemple : Delpech, 05 36 49, ou Lalinde.",
        validators=[Length(max=100, message="Recherche trop longue.")],
        render_kw={"type": "search", "autocomplete": "off"},
    )


class CancelSessionForm(NavetteForm):
    reason = TextAreaField(
        "Motif de l'annulation",
        description="Il sera écrit dans le message envoyé aux personnes inscrites.",
        validators=[
            DataRequired("Indiquez le motif de l'annulation."),
            Length(max=500, message="Motif trop long (500 caractères)."),
        ],
        render_kw={"rows": 3},
    )
