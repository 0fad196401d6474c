"""The audit log page: who did what, newest first, for the administrator of the centre."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request, url_for
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from scheduling import audit
from scheduling.audit import AuditKind
from scheduling.models import DEFAULT_TIMEZONE, Centre, Role
from webapp.auth import current_centre_id, role_required
from webapp.db import get_db
from webapp.forms import NavetteForm, parse_whole_number, plausible_date
from webapp.fr import NBSP, fr_date, fr_time

bp = Blueprint("journal", __name__)

PER_PAGE = 50
MAX_PAGE = 100_000  # far beyond any log; a larger number would overflow the database's offset


def _after_start(form: JournalForm, field: DateField) -> None:
    if form.du.data and field.data and field.data < form.du.data:
        raise ValidationError("La date de fin doit venir après la date de début.")


class JournalForm(NavetteForm):
    quoi = SelectField(
        "Objet",
        choices=[SelectChoice("", "Tout"), *(SelectChoice(k.value, k.label) for k in AuditKind)],
        default="",
        validate_choice=True,
    )
    du = DateField("Du", validators=[Optional(), plausible_date])
    au = DateField("Au (inclus)", validators=[Optional(), plausible_date, _after_start])
    qui = StringField(
        "Personne ou auteur",
        description="Un nom, ou une partie du nom.",
        validators=[Length(max=100, message="100 caractères au plus.")],
    )


def _utc_start(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The UTC moment the centre's local day begins."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def _tight(text: str) -> str:
    """Non-breaking spaces where French typography wants them: « Gym », « : », 14 h 30."""
    text = text.replace("« ", f"«{NBSP}").replace(" »", f"{NBSP}»").replace(" :", f"{NBSP}:")
    return re.sub(r"(\d) h (\d\d)", rf"\1{NBSP}h{NBSP}\2", text)


def _page_number() -> int:
    number = parse_whole_number(request.args.get("page"))
    return min(number, MAX_PAGE) if number else 1


@bp.get("/admin/journal")
@role_required(Role.admin)
def show_journal() -> tuple[str, int] | str:
    db = get_db()
    centre = db.get(Centre, current_centre_id())
    zone = centre.zone if centre is not None else ZoneInfo(DEFAULT_TIMEZONE)
    form = JournalForm(formdata=request.args, meta={"csrf": False})
    if request.args and not form.validate():
        return render_template("journal/index.html", form=form, page=None), 400
    found = audit.journal(
        db,
        centre_id=current_centre_id(),
        kind=AuditKind(form.quoi.data) if form.quoi.data else None,
        since=_utc_start(form.du.data, zone) if form.du.data else None,
        until=_utc_start(form.au.data + dt.timedelta(days=1), zone) if form.au.data else None,
        who=form.qui.data or "",
        page=_page_number(),
        per_page=PER_PAGE,
    )
    filters: dict[str, Any] = {
        key: value for key in ("quoi", "du", "au", "qui") if (value := request.args.get(key, ""))
    }

    def page_url(number: int) -> str:
        return url_for("journal.show_journal", **filters, page=number)

    def when(entry: audit.AuditEntry) -> str:
        local = entry.at.replace(tzinfo=dt.UTC).astimezone(zone)
        return f"{fr_date(local, with_year=True)} à {fr_time(local)}"

    return render_template(
        "journal/index.html",
        form=form,
        page=found,
        page_url=page_url,
        when=when,
        tight=_tight,
        filtered=bool(filters),
    )
