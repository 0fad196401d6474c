"""Booking pages of carers and older people (being written)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("bookings", __name__)


@bp.get("/reservations")
@login_required
def list_bookings() -> str:
    return render_template("bookings/list.html", bookings=[])


@bp.get("/seances/<int:session_id>/reserver")
@login_required
def new_booking(session_id: int) -> str:
    return render_template("bookings/list.html", bookings=[])


@bp.get("/cycles/<int:series_id>/inscrire")
@login_required
def join_cycle(series_id: int) -> str:
    return render_template("bookings/list.html", bookings=[])
