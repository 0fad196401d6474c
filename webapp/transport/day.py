"""A day's rounds: build them in the background, watch the progress, read the result (map and
table per round), pin a passenger to a vehicle and re-solve, publish."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from scheduling.booking import default_pickup_address
from scheduling.models import Booking, Commune, Role
from scheduling.notifications import plural
from scheduling.transport import (
    find_day,
    get_or_create_day,
    load_of_booking,
    pin_request,
    pins_of,
    promised_pickups,
    publish_day,
    transport_settings,
    vehicles_of,
)
from scheduling.transport_models import JobStatus, Leg, Round, StopKind
from webapp.auth import centre_now, current_centre_id, get_in_centre, role_required
from webapp.db import get_db
from webapp.forms import EARLIEST_YEAR, LATEST_YEAR, parse_whole_number
from webapp.geocoding import save_typed_coordinates
from webapp.jobs import enqueue_build
from webapp.mail import send_notifications
from webapp.transport import bp
from webapp.transport.forms import CoordinatesForm, DayForm, MoveForm
from webapp.transport.svg import MapPoint, round_map

F = TypeVar("F", bound=Callable[..., Any])
REFRESH_SECONDS = 5  # long enough to reach the link that stops it (one Tab away)


def coordinators_only(view: F) -> F:
    """Coordinators and administrators (carers, animators and drivers get 403)."""
    return role_required(Role.coordinator, Role.admin)(view)


def _parse_day(value: str) -> dt.date:
    try:
        date = dt.date.fromisoformat(value)
    except ValueError:
        abort(404)
    # The page links the day before and after: 0001-01-01 or 9999-12-31 would overflow.
    if not EARLIEST_YEAR <= date.year <= LATEST_YEAR:
        abort(404)
    return date


@bp.get("/")
@coordinators_only
def index() -> Response:
    """Today's page, or the date chosen in the date form."""
    form = DayForm(request.args)
    if request.args and form.validate():
        return redirect(url_for("transport.show_day", day=form.date.data.isoformat()))
    if request.args:
        flash("Cette date n'est pas valide : indiquez-la sous la forme 24/11/2026.", "error")
    tomorrow = centre_now().date() + dt.timedelta(days=1)
    return redirect(url_for("transport.show_day", day=tomorrow.isoformat()))


@dataclass
class StopRow:
    seq: int
    time: dt.datetime
    kind: str
    leg: str
    person: str
    address: str
    load: str
    promise: str
    booking_id: int
    leg_value: str
    is_pickup: bool
    pinned: bool


@bp.get("/jour/<day>")
@coordinators_only
def show_day(day: str) -> str:
    return _render_day(
        _parse_day(day),
        auto_refresh=request.args.get("auto") != "non",
        reloads=parse_whole_number(request.args.get("maj"), maximum=99_999) or 0,
    )


def _day_url(date: dt.date, auto_refresh: bool = True, reloads: int = 0) -> str:
    """The day's page, at its "Calcul" section: after a reload, the next Tab goes there.

    `maj` counts the reloads: a link to the very address of the page, fragment included,
    would only scroll to the fragment instead of loading the page again."""
    args: dict[str, Any] = {"maj": reloads} if reloads else {}
    if not auto_refresh:
        args["auto"] = "non"
    return url_for("transport.show_day", day=date.isoformat(), _anchor="calcul", **args)


def _render_day(
    date: dt.date,
    coordinates: CoordinatesForm | None = None,
    auto_refresh: bool = True,
    reloads: int = 0,
) -> str:
    db = get_db()
    centre_id = current_centre_id()
    row = find_day(db, centre_id, date)
    vehicles = vehicles_of(db, centre_id)
    settings = transport_settings(db, centre_id)
    working = row is not None and row.job_status in (JobStatus.queued, JobStatus.running)
    rounds = list(row.rounds) if row is not None else []
    communes = [
        MapPoint(c.lat, c.lon, c.name)
        for c in db.scalars(select(Commune).where(Commune.centre_id == centre_id))
    ]
    return render_template(
        "transport/day.html",
        date=date,
        day=row,
        working=working,
        # While the build runs the page reloads itself (plain HTML, no script), unless the
        # reader stopped it (WCAG 2.2.1): a reload every few seconds moves the focus and makes
        # a screen reader start again. Then a plain link shows where the build is.
        refresh=REFRESH_SECONDS if working and auto_refresh else None,
        refresh_url=_day_url(date, reloads=reloads + 1),
        auto_refresh=auto_refresh,
        manual_url=_day_url(date, auto_refresh=False, reloads=reloads + 1),
        rounds=[(r, _stop_rows(r), _map_of(r, communes)) for r in rounds],
        vehicles=vehicles,
        settings=settings,
        pins=pins_of(row) if row is not None else {},
        form=DayForm(data={"date": date}),
        move_form=MoveForm(),
        coordinates=coordinates,
        previous=(date - dt.timedelta(days=1)).isoformat(),
        following=(date + dt.timedelta(days=1)).isoformat(),
    )


def _stop_rows(round_: Round) -> list[StopRow]:
    seats = wheelchairs = 0
    rows: list[StopRow] = []
    for stop in round_.stops:
        booking = stop.booking
        s, w = load_of_booking(booking)
        sign = 1 if stop.kind is StopKind.pickup else -1
        seats, wheelchairs = seats + sign * s, wheelchairs + sign * w
        load = plural(seats, "place", "places") + (
            f", {plural(wheelchairs, 'fauteuil', 'fauteuils')}" if wheelchairs else ""
        )
        promise = ""
        if stop.promised_from and stop.promised_to:
            promise = f"{_hm(stop.promised_from)} – {_hm(stop.promised_to)}"
        rows.append(
            StopRow(
                seq=stop.seq,
                time=stop.planned_begin,
                kind=stop.kind.label,
                leg=stop.leg.label,
                person=booking.person.full_name
                + (f" (+{booking.companions})" if booking.companions else ""),
                address=stop.address,
                load=load,
                promise=promise,
                booking_id=booking.id,
                leg_value=stop.leg.value,
                is_pickup=stop.kind is StopKind.pickup,
                pinned=stop.pinned,
            )
        )
    return rows


def _hm(moment: dt.datetime) -> str:
    return f"{moment.hour} h {moment.minute:02d}"


def _map_of(round_: Round, communes: list[MapPoint]) -> Markup:
    vehicle = round_.vehicle
    depot = MapPoint(vehicle.depot_lat, vehicle.depot_lon, vehicle.depot_address or vehicle.name)
    stops = [
        MapPoint(
            s.lat, s.lon, f"{_hm(s.planned_begin)} {s.kind.label} {s.booking.person.full_name}"
        )
        for s in round_.stops
    ]
    return round_map(f"Carte de la tournée {vehicle.name}", depot, stops, communes)


@bp.post("/jour/<day>/construire")
@coordinators_only
def build_day(day: str) -> Response:
    date = _parse_day(day)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    get_db().commit()  # end the request's read transaction before the job's writes
    enqueue_build(app, current_centre_id(), date)
    flash("Le calcul des tournées est lancé.", "success")
    return redirect(_day_url(date, auto_refresh=request.form.get("auto") != "non"))


@bp.post("/jour/<day>/epingler")
@coordinators_only
def pin(day: str) -> Response:
    """Put a passenger's leg in a vehicle (or free it), then re-solve around that."""
    date = _parse_day(day)
    db = get_db()
    centre_id = current_centre_id()
    form = MoveForm()
    form.vehicle_id.choices = [SelectChoice("", "Au choix du calcul")] + [
        SelectChoice(v.id, v.name) for v in vehicles_of(db, centre_id)
    ]
    if not form.validate_on_submit():
        flash("Choisissez un véhicule dans la liste.", "error")
        return redirect(url_for("transport.show_day", day=date.isoformat()))
    booking = get_in_centre(Booking, form.booking_id.data)
    if booking.session.starts_at.date() != date:
        abort(404)
    row = get_or_create_day(db, centre_id, date)
    booking_id = booking.id
    pin_request(db, row, booking_id, Leg(form.leg.data), form.vehicle_id.data)
    db.commit()
    enqueue_build(current_app._get_current_object(), centre_id, date)  # type: ignore[attr-defined]
    flash("Le passager est placé ; les tournées sont recalculées autour de ce choix.", "success")
    return redirect(_day_url(date))


@bp.post("/jour/<day>/coordonnees")
@coordinators_only
def locate(day: str) -> str | Response:
    """Coordinates read on a map for an address the address service could not find."""
    date = _parse_day(day)
    form = CoordinatesForm()
    if not form.booking_id.data:
        abort(404)
    booking = get_in_centre(Booking, form.booking_id.data)
    if booking.session.starts_at.date() != date:
        abort(404)
    if not form.validate_on_submit():
        return _render_day(date, form)
    address = booking.pickup_address.strip() or default_pickup_address(booking.person)
    save_typed_coordinates(
        get_db(),
        booking.centre_id,
        address,
        float(form.lat.data),
        float(form.lon.data),
        centre_now(),
    )
    flash(
        f"Coordonnées enregistrées pour {address}. "
        "Reconstruisez les tournées pour en tenir compte.",
        "success",
    )
    return redirect(url_for("transport.show_day", day=date.isoformat()))


@bp.post("/jour/<day>/publier")
@coordinators_only
def publish(day: str) -> Response:
    date = _parse_day(day)
    db = get_db()
    row = find_day(db, current_centre_id(), date)
    if row is None or not row.rounds:
        flash("Il n'y a pas de tournée à publier pour ce jour.", "error")
        return redirect(url_for("transport.show_day", day=date.isoformat()))
    if row.job_status in (JobStatus.queued, JobStatus.running):
        flash("Attendez la fin du calcul avant de publier.", "error")
        return redirect(url_for("transport.show_day", day=date.isoformat()))
    notifications = publish_day(db, row, centre_now())
    send_notifications(notifications)
    flash(
        "Tournées publiées : chaque passager a une heure de passage promise "
        f"({plural(len(notifications), 'message envoyé', 'messages envoyés')} "
        "ou à téléphoner).",
        "success",
    )
    return redirect(url_for("transport.show_day", day=date.isoformat()))


@bp.app_template_global("transport_pickups")
def transport_pickups(booking: Booking) -> list[tuple[str, dt.datetime, dt.datetime, str]]:
    """Published pickup windows of a booking, for the carer's pages: (leg, from, to, where)."""
    stops = promised_pickups(get_db(), [booking.id]).get(booking.id, [])
    return [
        (
            stop.leg.label,
            stop.promised_from,
            stop.promised_to,
            "à domicile" if stop.leg is Leg.outbound else "à la sortie de la séance",
        )
        for stop in stops
        if stop.promised_from is not None and stop.promised_to is not None
    ]
