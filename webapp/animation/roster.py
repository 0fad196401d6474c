"""The roster of a session: who comes, how, their phone; the sign-in sheet (PDF); attendance."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from scheduling import booking as booking_uc
from scheduling.models import ActivitySession, Booking, BookingStatus, Mobility
from scheduling.notifications import plural
from scheduling.sessions import Attendance, set_attendance
from webapp.animation import bp
from webapp.animation.common import actor, phone_href, session_or_404, staff_only
from webapp.auth import centre_now, current_centre_id
from webapp.db import get_db
from webapp.forms import ConfirmForm, parse_whole_number

ATTENDANCE_CHOICES = [
    (Attendance.present, "Présent(e)"),
    (Attendance.excused, "Excusé(e)"),
    (Attendance.absent, "Absent(e)"),
]
ATTENDANCE_OF_STATUS = {
    BookingStatus.attended: Attendance.present,
    BookingStatus.excused: Attendance.excused,
    BookingStatus.no_show: Attendance.absent,
}
BLANK_SHEET_LINES = 4  # for people who turn up without booking


@dataclass(frozen=True)
class RosterTotals:
    persons: int
    seats: int
    wheelchairs: int
    transport_out: int
    transport_back: int


def _totals(holding: list[Booking]) -> RosterTotals:
    return RosterTotals(
        persons=len(holding),
        seats=sum(1 + b.companions for b in holding),
        wheelchairs=sum(1 for b in holding if b.mobility is Mobility.wheelchair),
        transport_out=sum(1 for b in holding if b.transport_out),
        transport_back=sum(1 for b in holding if b.transport_back),
    )


def split_roster(s: ActivitySession) -> tuple[list[Booking], list[Booking]]:
    """Bookings holding a seat (by name) and the waitlist (in order)."""
    bookings = booking_uc.roster(get_db(), centre_id=current_centre_id(), session_id=s.id)
    holding = [b for b in bookings if b.status is not BookingStatus.waitlisted]
    waiting = [b for b in bookings if b.status is BookingStatus.waitlisted]
    return holding, waiting


def transport_words(booking: Booking) -> str:
    if booking.transport_out and booking.transport_back:
        return "aller et retour"
    if booking.transport_out:
        return "aller seulement"
    if booking.transport_back:
        return "retour seulement"
    return "non"


@bp.get("/seances/<int:session_id>")
@staff_only
def roster(session_id: int) -> str:
    s = session_or_404(get_db(), session_id)
    holding, waiting = split_roster(s)
    now = centre_now()
    return render_template(
        "animation/roster.html",
        s=s,
        holding=holding,
        waiting=waiting,
        totals=_totals(holding),
        form=ConfirmForm(),
        choices=ATTENDANCE_CHOICES,
        marked={b.id: ATTENDANCE_OF_STATUS.get(b.status) for b in holding},
        may_take_attendance=not s.is_cancelled and now.date() >= s.starts_at.date(),
        is_past=s.starts_at <= now,
        phone_href=phone_href,
        transport_words=transport_words,
    )


@bp.post("/seances/<int:session_id>/presences")
@staff_only
def take_attendance(session_id: int) -> Response:
    s = session_or_404(get_db(), session_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("Le formulaire a expiré : recommencez l'appel.", "error")
        return redirect(url_for("animation.roster", session_id=s.id))
    marks: dict[int, Attendance] = {}
    for key, value in request.form.items():
        if not key.startswith("presence-"):
            continue
        booking_id = key.removeprefix("presence-")
        number = parse_whole_number(booking_id)
        if number is None or value not in Attendance.__members__:
            flash("Réponse d'appel illisible : recommencez.", "error")
            return redirect(url_for("animation.roster", session_id=s.id))
        marks[number] = Attendance(value)
    if not marks:
        flash("Cochez au moins une personne : présente, excusée ou absente.", "error")
        return redirect(url_for("animation.roster", session_id=s.id))
    result = set_attendance(get_db(), actor=actor(), now=centre_now(), session_id=s.id, marks=marks)
    if result.value is None:
        flash(result.message, "error")
    else:
        present = sum(1 for m in marks.values() if m is Attendance.present)
        flash(
            f"Appel enregistré : {plural(present, 'présent', 'présents')} sur {len(marks)}.",
            "success",
        )
    return redirect(url_for("animation.roster", session_id=s.id))


@bp.get("/seances/<int:session_id>/emargement.pdf")
@staff_only
def sign_in_sheet(session_id: int) -> Response:
    """The printable sign-in sheet: A4, one line per person, a column to sign."""
    from weasyprint import HTML  # heavy import: only when a sheet is asked for

    s = session_or_404(get_db(), session_id)
    holding, _waiting = split_roster(s)
    html = render_template(
        "animation/sign_in_sheet.html",
        s=s,
        holding=holding,
        totals=_totals(holding),
        blank_lines=BLANK_SHEET_LINES,
        printed_at=centre_now(),
        transport_words=transport_words,
    )
    pdf = HTML(string=html, base_url=current_app.root_path + "/").write_pdf()
    filename = f"emargement-{s.starts_at:%Y-%m-%d}-{s.id}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
