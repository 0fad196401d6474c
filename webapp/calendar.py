"""Calendar feeds (iCalendar) and the "Mon calendrier" page.

- ``/agenda.ics`` (and ``/centres/<slug>/agenda.ics``): the public agenda, filterable by commune
  (INSEE code) and field;
- ``/calendrier/<token>.ics``: a private feed (carer, animator, driver, or one person), at an
  unguessable URL; a revoked token answers 404;
- ``/calendrier``: the links to subscribe, revoke and renew; staff give a person without an
  account their own link from ``/calendrier/personnes/<id>``.

Feeds answer ETag and Last-Modified, and 304 to a client whose copy is current.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
from collections import OrderedDict
from urllib.parse import quote

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from scheduling import calendars as uc
from scheduling.models import CalendarToken, Centre, Commune, FeedKind, Field, Person
from scheduling.people import STAFF_ROLES
from webapp.auth import centre_clock, current_centre, current_centre_id, role_required
from webapp.db import get_db
from webapp.forms import parse_whole_number
from webapp.ical import Feed, agenda_feed, animator_feed, bookings_feed, rounds_feed
from webapp.links import external_url

bp = Blueprint("calendar", __name__)


# Feeds served, by URL: (ETag, Last-Modified given). Bounded, per process.
_VERSIONS_KEY = "navette_feed_versions"
_VERSIONS_MAX = 10_000
_versions_lock = threading.Lock()


def _last_modified(key: str, etag: str, stamped: dt.datetime) -> dt.datetime:
    """Last-Modified that moves forward whenever the bytes change.

    DTSTAMPs date the changes of sessions and bookings, but a feed also changes when a pickup
    window is promised, a venue is renamed or an old cancellation leaves; a client that only
    sends If-Modified-Since must then get the new bytes. So new bytes are dated at least when
    first served, and after the previous version (after a restart: one extra download).
    """
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with _versions_lock:
        versions: OrderedDict[str, tuple[str, dt.datetime]] = current_app.extensions.setdefault(
            _VERSIONS_KEY, OrderedDict()
        )
        known = versions.get(key)
        if known is None:
            known = (etag, max(stamped, now))
        elif known[0] != etag:
            known = (etag, max(stamped, now, known[1] + dt.timedelta(seconds=1)))
        versions[key] = known
        versions.move_to_end(key)
        while len(versions) > _VERSIONS_MAX:
            versions.popitem(last=False)
    return known[1]


def _serve(feed: Feed, filename: str, *, private: bool) -> Response:
    """The feed with validators; 304 when the client already has these bytes."""
    response = Response(feed.body, content_type="text/calendar; charset=utf-8")
    etag = hashlib.sha256(feed.body).hexdigest()[:32]
    response.set_etag(etag)
    response.last_modified = _last_modified(request.full_path, etag, feed.last_modified)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if private:
        # A secret URL: no shared cache keeps it, no search engine lists it.
        response.headers["Cache-Control"] = "private, no-cache"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    else:
        response.headers["Cache-Control"] = "public, max-age=300"
    return response.make_conditional(request)


# --- the public agenda ------------------------------------------------------------------------

# What a centre's slug, an INSEE code and a feed token are made of. Anything else matches no row
# and is answered 404 before the query: a NUL character in an address would make PostgreSQL
# fail the query (a 500), and a long one costs a useless lookup.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,100}")


def _plain_key(text: str) -> bool:
    return _PLAIN_KEY.fullmatch(text) is not None


def _public_agenda(centre: Centre) -> Response:
    db = get_db()
    commune_id = None
    words = []
    insee = request.args.get("commune", "").strip()
    if insee:
        if not _plain_key(insee):
            abort(404, "Commune inconnue : indiquez son code INSEE (par exemple 24037).")
        commune = db.scalar(
            select(Commune).where(Commune.centre_id == centre.id, Commune.insee == insee)
        )
        if commune is None:
            abort(404, "Commune inconnue : indiquez son code INSEE (par exemple 24037).")
        commune_id = commune.id
        words.append(commune.name)
    field = None
    raw_field = request.args.get("field", "").strip()
    if raw_field:
        if raw_field not in Field.__members__:
            abort(404, "Domaine inconnu.")
        field = Field(raw_field)
        words.append(field.label)
    now = centre_clock(centre)
    sessions = uc.public_sessions(
        get_db(), centre_id=centre.id, now=now, commune_id=commune_id, field=field
    )
    name = " — ".join([f"Agenda {centre.name}", *words])
    feed = agenda_feed(sessions, centre=centre, now=now, name=name)
    return _serve(feed, f"agenda-{centre.slug}.ics", private=False)


def public_feed_url(commune_id: object = None, field: object = None) -> str:
    """The https URL of the current centre's public feed, with the agenda page's filters."""
    db = get_db()
    centre = current_centre()
    if centre is None:  # pragma: no cover - current_centre_id answers 404 first
        abort(404)
    args: dict[str, str] = {}
    wanted = commune_id if isinstance(commune_id, int) else None
    commune = db.get(Commune, wanted) if wanted else None
    if commune is not None and commune.centre_id == centre.id:
        args["commune"] = commune.insee
    value = str(getattr(field, "value", field) or "")
    if value in Field.__members__:
        args["field"] = value
    return external_url("calendar.centre_agenda", slug=centre.slug, **args)


def webcal(url: str) -> str:
    """The same URL for calendar applications (webcal:// opens them on phones and Macs)."""
    return "webcal://" + url.split("://", 1)[1]


@bp.app_context_processor
def _feed_helpers() -> dict[str, object]:
    return {"public_feed_url": public_feed_url, "webcal": webcal}


@bp.get("/agenda.ics")
def public_agenda() -> Response:
    centre = get_db().get(Centre, current_centre_id())
    if centre is None:  # pragma: no cover - current_centre_id answers 404 first
        abort(404)
    return _public_agenda(centre)


@bp.get("/centres/<slug>/agenda.ics")
def centre_agenda(slug: str) -> Response:
    if not _plain_key(slug):
        abort(404)
    centre = get_db().scalar(select(Centre).where(Centre.slug == slug))
    if centre is None:
        abort(404)
    return _public_agenda(centre)


# --- private feeds ------------------------------------------------------------------------------


@bp.get("/calendrier/<token>.ics")
def private_feed(token: str) -> Response:
    if not _plain_key(token):
        abort(404)
    db = get_db()
    row = uc.active_token(db, token)
    if row is None:
        abort(404)
    centre = db.get(Centre, row.centre_id)
    if centre is None:  # pragma: no cover - a token always has its centre
        abort(404)
    now = centre_clock(centre)
    feed = _feed_of(row, centre, now)
    if feed is None:
        abort(404)
    return _serve(feed, "navette.ics", private=True)


def _feed_of(row: CalendarToken, centre: Centre, now: dt.datetime) -> Feed | None:
    db = get_db()
    user = row.user
    if row.kind in (FeedKind.carer, FeedKind.person):
        if row.person_id is None and (user is None or not user.active):
            return None
        bookings = uc.bookings_for_feed(db, row, now=now)
        pickups = uc.promised_pickups(db, [b.id for b in bookings])
        who = row.person.full_name if row.person is not None else "mes proches"
        return bookings_feed(
            bookings,
            centre=centre,
            now=now,
            name=f"Navette — réservations de {who}",
            pickups=pickups,
        )
    if user is None or not user.active:
        return None
    if row.kind is FeedKind.animator:
        sessions = uc.led_sessions(db, user=user, now=now)
        attendance = uc.attendance_of(db, [s.id for s in sessions])
        return animator_feed(
            sessions, attendance, centre=centre, now=now, name="Navette — mes séances"
        )
    rounds = uc.rounds_for_feed(db, user=user, now=now)
    return rounds_feed(rounds, centre=centre, now=now, name="Navette — mes tournées")


# --- "Mon calendrier" ---------------------------------------------------------------------------


def subscribe_links(row: CalendarToken) -> dict[str, str]:
    """The feed's URL and the links that add it to a calendar application."""
    https = external_url("calendar.private_feed", token=row.token)
    return {
        "url": https,
        "webcal": webcal(https),
        "google": "https://calendar.google.com/calendar/r?cid=" + quote(webcal(https), safe=""),
        "outlook": "https://outlook.live.com/calendar/0/addfromweb?url="
        + quote(https, safe="")
        + "&name="
        + quote("Navette", safe=""),
    }


@bp.get("/calendrier")
@login_required  # type: ignore[untyped-decorator]
def my_calendar() -> str:
    db = get_db()
    tokens = {t.kind: t for t in uc.tokens_of(db, current_user)}
    feeds = [(kind, tokens.get(kind)) for kind in uc.feed_kinds_for(current_user)]
    persons = []
    if current_user.role in STAFF_ROLES:
        persons = list(
            db.scalars(
                select(Person)
                .where(Person.centre_id == current_user.centre_id)
                .order_by(Person.last_name, Person.first_name)
            )
        )
    return render_template(
        "calendar/mine.html",
        feeds=feeds,
        links={kind: subscribe_links(t) for kind, t in tokens.items()},
        public_url=public_feed_url(),
        persons=persons,
    )


@bp.post("/calendrier/creer")
@login_required  # type: ignore[untyped-decorator]
def create_feed() -> Response:
    kind = request.form.get("kind", "")
    if kind not in FeedKind.__members__:
        abort(404)
    outcome = uc.create_my_token(
        get_db(), actor=current_user, now=centre_clock(current_user.centre), kind=FeedKind(kind)
    )
    if outcome.ok:
        flash("Votre lien d'abonnement est prêt.", "success")
    else:
        flash(outcome.message, "error")
    return redirect(url_for("calendar.my_calendar"))


def _back() -> Response:
    person_id = parse_whole_number(request.form.get("person_id"))
    if person_id is not None and current_user.role in STAFF_ROLES:
        return redirect(url_for("calendar.person_calendar", person_id=person_id))
    return redirect(url_for("calendar.my_calendar"))


@bp.post("/calendrier/<int:token_id>/revoquer")
@login_required  # type: ignore[untyped-decorator]
def revoke_feed(token_id: int) -> Response:
    if token_id > 2**62:
        abort(404)
    outcome = uc.revoke_token(
        get_db(), actor=current_user, now=centre_clock(current_user.centre), token_id=token_id
    )
    if not outcome.ok:
        abort(404)
    flash(
        "Le lien est révoqué : les agendas abonnés ne recevront plus rien. "
        "Créez un nouveau lien si besoin.",
        "success",
    )
    return _back()


@bp.post("/calendrier/<int:token_id>/renouveler")
@login_required  # type: ignore[untyped-decorator]
def renew_feed(token_id: int) -> Response:
    if token_id > 2**62:
        abort(404)
    outcome = uc.renew_token(
        get_db(), actor=current_user, now=centre_clock(current_user.centre), token_id=token_id
    )
    if not outcome.ok:
        abort(404)
    flash(
        "Nouveau lien créé ; l'ancien ne fonctionne plus. Abonnez de nouveau vos agendas.",
        "success",
    )
    return _back()


# --- staff: a link for a person without an account ----------------------------------------------


def _person_or_404(person_id: int) -> Person:
    if person_id > 2**62:
        abort(404)
    person = get_db().get(Person, person_id)
    if person is None or person.centre_id != current_user.centre_id:
        abort(404)
    return person


@bp.route("/calendrier/personnes/<int:person_id>", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def person_calendar(person_id: int) -> str | Response:
    db = get_db()
    person = _person_or_404(person_id)
    if request.method == "POST":
        outcome = uc.create_person_token(
            db, actor=current_user, now=centre_clock(current_user.centre), person_id=person.id
        )
        if not outcome.ok:
            abort(404)
        flash(f"Le lien d'abonnement de {person.full_name} est prêt.", "success")
        return redirect(url_for("calendar.person_calendar", person_id=person.id))
    tokens = uc.person_tokens(db, centre_id=current_user.centre_id, person_id=person.id)
    return render_template(
        "calendar/person.html",
        person=person,
        token=tokens[0] if tokens else None,
        links=subscribe_links(tokens[0]) if tokens else None,
    )


@bp.get("/calendrier/personnes")
@role_required(*STAFF_ROLES)
def choose_person() -> Response:
    person_id = parse_whole_number(request.args.get("person_id"))
    if person_id is None:
        flash("Choisissez une personne dans la liste.", "error")
        return redirect(url_for("calendar.my_calendar"))
    return redirect(url_for("calendar.person_calendar", person_id=person_id))
