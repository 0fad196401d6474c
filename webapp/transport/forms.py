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
    URL,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from scheduling.models import VehicleKind
from webapp.forms import ChoiceRequired, NavetteForm, int_choice, plausible_date

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
        validators=[InputRequired("Indiquez une date, par exemple 24/11/2026."), plausible_date],
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
        validators=[ChoiceRequired("Choisissez le compte du chauffeur.")],
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


def _minutes(label: str, low: int, high: int, description: str = "") -> IntegerField:
    return IntegerField(
        label,
        description=description,
        validators=[
            InputRequired("Indiquez un nombre de minutes."),
            NumberRange(low, high, f"Indiquez un nombre entre {low} et {high}."),
        ],
        render_kw={"inputmode": "numeric"},
    )


class SettingsForm(NavetteForm):
    """The centre's transport rules (TransportSettings)."""

    outbound_earliest_min = _minutes(
        "Arrivée au plus tôt (minutes avant le début)", 5, 120, "Par défaut 30."
    )
    outbound_latest_min = _minutes(
        "Arrivée au plus tard (minutes avant le début)", 0, 60, "Par défaut 5."
    )
    return_latest_min = _minutes(
        "Départ du retour au plus tard (minutes après la fin)", 5, 90, "Par défaut 20."
    )
    boarding_walks_min = _minutes("Montée : personne qui marche seule", 0, 30)
    boarding_walker_min = _minutes("Montée : personne avec un déambulateur", 0, 30)
    boarding_wheelchair_min = _minutes("Montée : personne en fauteuil roulant", 0, 45)
    alighting_min = _minutes("Descente (toute personne)", 0, 30)
    max_ride_floor_min = _minutes(
        "Trajet maximal : au moins (minutes)",
        10,
        180,
        "Le trajet permis est le plus long de ce minimum et du trajet direct "
        "multiplié par le facteur ci-dessous, sans dépasser le plafond.",
    )
    max_ride_factor = FrenchDecimalField(
        "Trajet maximal : facteur du trajet direct",
        validators=[
            InputRequired("Indiquez un facteur, par exemple 1,5."),
            NumberRange(1, 4, "Indiquez un facteur entre 1 et 4."),
        ],
    )
    max_ride_cap_min = _minutes("Trajet maximal : plafond (minutes)", 15, 240)
    promise_window_min = _minutes(
        "Largeur de l'heure de passage promise (minutes)", 5, 60, "Par défaut 15."
    )
    speed_kmh = FrenchDecimalField(
        "Vitesse moyenne (km/h)",
        validators=[
            InputRequired("Indiquez une vitesse."),
            NumberRange(10, 110, "Indiquez une vitesse entre 10 et 110 km/h."),
        ],
    )
    circuity = FrenchDecimalField(
        "Détour des routes (facteur sur la distance à vol d'oiseau)",
        validators=[
            InputRequired("Indiquez un facteur, par exemple 1,3."),
            NumberRange(1, 3, "Indiquez un facteur entre 1 et 3."),
        ],
    )
    osrm_url = StringField(
        "Serveur OSRM du centre (facultatif)",
        description="Par exemple http://osrm.local:5000. Vide : distances estimées, sans réseau.",
        validators=[
            Optional(),
            Length(max=300),
            URL(require_tld=False, message="Adresse web invalide."),
        ],
    )
    solver_time_limit_s = IntegerField(
        "Durée maximale du calcul (secondes)",
        validators=[
            InputRequired("Indiquez un nombre de secondes."),
            NumberRange(1, 300, "Indiquez un nombre entre 1 et 300."),
        ],
        render_kw={"inputmode": "numeric"},
    )

    def validate_outbound_latest_min(self, field: IntegerField) -> None:
        earliest = self.outbound_earliest_min.data
        if earliest is not None and field.data is not None and field.data >= earliest:
            raise ValidationError("L'arrivée au plus tard doit être plus proche du début.")

    def validate_max_ride_cap_min(self, field: IntegerField) -> None:
        floor = self.max_ride_floor_min.data
        if floor is not None and field.data is not None and field.data < floor:
            raise ValidationError("Le plafond ne peut pas être plus petit que le minimum.")
