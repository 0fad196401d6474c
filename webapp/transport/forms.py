"""Forms of the coordinator's transport pages."""

from __future__ import annotations

from typing import Any

from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
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
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from scheduling.models import VehicleKind
from webapp.forms import NavetteForm, int_choice

WEEKDAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class FrenchDecimalField(DecimalField):  # type: ignore[misc]
    """A decimal typed the French way (« 44,8368 ») or the English way (« 44.8368 »)."""

    widget = TextInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("places", None)
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        kwargs.setdefault("invalid_value_message", "Indiquez un nombre, par exemple 44,8368.")
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            valuelist = [str(valuelist[0]).strip().replace(",", ".")]
        super().process_formdata(valuelist)


class DayForm(NavetteForm):
    class Meta:
        csrf = False  # a GET form that only chooses which page to show

    date = DateField(
        "Date des tournées",
        validators=[InputRequired("Indiquez une date, par exemple 24/11/2026.")],
    )


class _HoursMixin:
    def validate_available_until(self, field: TimeField) -> None:
        start = self.available_from.data  # type: ignore[attr-defined]
        if start is not None and field.data is not None and field.data <= start:
            raise ValidationError("L'heure de fin doit être après l'heure de début.")


class VehicleForm(_HoursMixin, NavetteForm):
    name = StringField(
        "Nom du véhicule",
        validators=[DataRequired("Donnez un nom au véhicule."), Length(max=120)],
    )
    kind = SelectField(
        "Type de véhicule",
        choices=[SelectChoice(k.value, k.label) for k in VehicleKind],
        validators=[InputRequired("Choisissez le type de véhicule.")],
    )
    seats = IntegerField(
        "Places assises (hors chauffeur)",
        validators=[
            InputRequired("Indiquez le nombre de places assises."),
            NumberRange(0, 60, "Indiquez un nombre entre 0 et 60."),
        ],
        render_kw={"inputmode": "numeric"},
    )
    wheelchair_places = IntegerField(
        "Places pour fauteuil roulant",
        default=0,
        validators=[
            InputRequired("Indiquez un nombre, 0 s'il n'y en a pas."),
            NumberRange(0, 10, "Indiquez un nombre entre 0 et 10."),
        ],
        render_kw={"inputmode": "numeric"},
    )
    depot_address = StringField(
        "Adresse du dépôt (départ et retour)",
        validators=[DataRequired("Indiquez où le véhicule part et revient."), Length(max=300)],
    )
    depot_lat = FrenchDecimalField(
        "Latitude du dépôt",
        description="En degrés décimaux, par exemple 44,8519 (lue sur une carte).",
        validators=[
            InputRequired("Indiquez la latitude du dépôt."),
            NumberRange(41, 52, "Une latitude en France est entre 41 et 52."),
        ],
    )
    depot_lon = FrenchDecimalField(
        "Longitude du dépôt",
        description="En degrés décimaux, par exemple 0,4834.",
        validators=[
            InputRequired("Indiquez la longitude du dépôt."),
            NumberRange(-6, 10, "Une longitude en France est entre -6 et 10."),
        ],
    )
    available_from = TimeField(
        "Disponible à partir de", validators=[InputRequired("Indiquez une heure.")]
    )
    available_until = TimeField(
        "Disponible jusqu'à", validators=[InputRequired("Indiquez une heure.")]
    )

    def validate_wheelchair_places(self, field: IntegerField) -> None:
        if (self.seats.data or 0) + (field.data or 0) == 0:
            raise ValidationError("Le véhicule doit avoir au moins une place.")


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DriverForm(_HoursMixin, NavetteForm):
    user_id = SelectField(
        "Compte du chauffeur",
        coerce=int_choice,
        validate_choice=True,
        validators=[InputRequired("Choisissez le compte du chauffeur.")],
    )
    phone = StringField("Téléphone", validators=[Length(max=30)])
    volunteer = BooleanField("Chauffeur bénévole")
    weekdays = MultiCheckboxField(
        "Jours de travail",
        choices=[SelectChoice(i, name.capitalize()) for i, name in enumerate(WEEKDAY_NAMES)],
        coerce=int,
        validators=[DataRequired("Cochez au moins un jour.")],
    )
    available_from = TimeField(
        "Disponible à partir de", validators=[InputRequired("Indiquez une heure.")]
    )
    available_until = TimeField(
        "Disponible jusqu'à", validators=[InputRequired("Indiquez une heure.")]
    )


class MoveForm(NavetteForm):
    """Put one leg of a booking in a given vehicle (or let the planner choose again)."""

    booking_id = IntegerField(validators=[InputRequired()])
    leg = SelectField(choices=[SelectChoice("outbound", "Aller"), SelectChoice("return", "Retour")])
    vehicle_id = SelectField("Véhicule", coerce=int_choice, validators=[Optional()])


class CoordinatesForm(NavetteForm):
    """Coordinates the coordinator reads on a map for an address the service could not find."""

    booking_id = IntegerField(validators=[InputRequired()])
    lat = FrenchDecimalField(
        "Latitude",
        validators=[
            InputRequired("Indiquez la latitude, par exemple 44,8368."),
            NumberRange(41, 52, "Une latitude en France est entre 41 et 52."),
        ],
    )
    lon = FrenchDecimalField(
        "Longitude",
        validators=[
            InputRequired("Indiquez la longitude, par exemple 0,7378."),
            NumberRange(-6, 10, "Une longitude en France est entre -6 et 10."),
        ],
    )
