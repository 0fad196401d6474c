"""Vehicles (seats, wheelchair places, depot, hours), drivers (days and hours of work) and the
centre's transport rules (windows, boarding times, maximum ride, promise, travel model)."""

from __future__ import annotations

from decimal import Decimal

from flask import flash, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from scheduling.models import Driver, Role, User, Vehicle, VehicleKind
from scheduling.transport import day_drivers, transport_settings, vehicles_of
from webapp.auth import current_centre_id, get_in_centre
from webapp.db import get_db
from webapp.transport import bp
from webapp.transport.day import coordinators_only
from webapp.transport.forms import WEEKDAY_NAMES, DriverForm, SettingsForm, VehicleForm

# --- vehicles --------------------------------------------------------------------------------


@bp.get("/vehicules")
@coordinators_only
def list_vehicles() -> str:
    return render_template(
        "transport/vehicles.html", vehicles=vehicles_of(get_db(), current_centre_id())
    )


@bp.route("/vehicules/nouveau", methods=["GET", "POST"])
@coordinators_only
def new_vehicle() -> str | Response:
    return _vehicle_form(None)


@bp.route("/vehicules/<int:vehicle_id>", methods=["GET", "POST"])
@coordinators_only
def edit_vehicle(vehicle_id: int) -> str | Response:
    return _vehicle_form(get_in_centre(Vehicle, vehicle_id))


def _vehicle_form(vehicle: Vehicle | None) -> str | Response:
    form = VehicleForm(obj=vehicle)
    if vehicle is not None and not form.is_submitted():
        form.kind.data = vehicle.kind.value
    if form.validate_on_submit():
        db = get_db()
        if vehicle is None:
            vehicle = Vehicle(centre_id=current_centre_id())
            db.add(vehicle)
        vehicle.name = form.name.data.strip()
        vehicle.kind = VehicleKind(form.kind.data)
        vehicle.seats = form.seats.data
        vehicle.wheelchair_places = form.wheelchair_places.data
        vehicle.depot_address = form.depot_address.data.strip()
        vehicle.depot_lat = float(form.depot_lat.data)
        vehicle.depot_lon = float(form.depot_lon.data)
        vehicle.available_from = form.available_from.data
        vehicle.available_until = form.available_until.data
        db.flush()
        flash(f"Véhicule « {vehicle.name} » enregistré.", "success")
        return redirect(url_for("transport.list_vehicles"))
    return render_template("transport/vehicle_form.html", form=form, vehicle=vehicle)


# --- drivers ---------------------------------------------------------------------------------


@bp.get("/chauffeurs")
@coordinators_only
def list_drivers() -> str:
    return render_template(
        "transport/drivers.html",
        drivers=day_drivers(get_db(), current_centre_id()),
        weekday_names=WEEKDAY_NAMES,
    )


@bp.route("/chauffeurs/nouveau", methods=["GET", "POST"])
@coordinators_only
def new_driver() -> str | Response:
    return _driver_form(None)


@bp.route("/chauffeurs/<int:driver_id>", methods=["GET", "POST"])
@coordinators_only
def edit_driver(driver_id: int) -> str | Response:
    return _driver_form(get_in_centre(Driver, driver_id))


def _driver_form(driver: Driver | None) -> str | Response:
    db = get_db()
    centre_id = current_centre_id()
    form = DriverForm(obj=driver)
    taken = {d.user_id for d in day_drivers(db, centre_id) if driver is None or d.id != driver.id}
    accounts = db.scalars(
        select(User)
        .where(User.centre_id == centre_id, User.role == Role.driver, User.active.is_(True))
        .order_by(User.display_name)
    )
    form.user_id.choices = [SelectChoice("", "— Choisissez —")] + [
        SelectChoice(u.id, u.display_name) for u in accounts if u.id not in taken
    ]
    if form.validate_on_submit():
        if driver is None:
            driver = Driver(centre_id=centre_id)
            db.add(driver)
        driver.user_id = form.user_id.data
        driver.phone = (form.phone.data or "").strip()
        driver.volunteer = bool(form.volunteer.data)
        driver.weekdays = sorted(form.weekdays.data)
        driver.available_from = form.available_from.data
        driver.available_until = form.available_until.data
        db.flush()
        flash("Chauffeur enregistré.", "success")
        return redirect(url_for("transport.list_drivers"))
    return render_template(
        "transport/driver_form.html",
        form=form,
        driver=driver,
        no_account=len(form.user_id.choices) == 1,
    )


# --- the centre's transport rules ------------------------------------------------------------

SETTING_FIELDS = (
    "outbound_earliest_min",
    "outbound_latest_min",
    "return_latest_min",
    "boarding_walks_min",
    "boarding_walker_min",
    "boarding_wheelchair_min",
    "alighting_min",
    "max_ride_floor_min",
    "max_ride_factor",
    "max_ride_cap_min",
    "promise_window_min",
    "speed_kmh",
    "circuity",
    "solver_time_limit_s",
)


@bp.route("/reglages", methods=["GET", "POST"])
@coordinators_only
def edit_settings() -> str | Response:
    settings = transport_settings(get_db(), current_centre_id())
    form = SettingsForm(obj=settings)
    if form.validate_on_submit():
        for name in SETTING_FIELDS:
            value = form[name].data
            setattr(settings, name, float(value) if isinstance(value, Decimal) else value)
        settings.osrm_url = (form.osrm_url.data or "").strip() or None
        get_db().flush()
        flash("Règles du transport enregistrées : elles servent dès le prochain calcul.", "success")
        return redirect(url_for("transport.edit_settings"))
    return render_template("transport/settings.html", form=form)
