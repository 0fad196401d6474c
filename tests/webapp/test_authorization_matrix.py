"""Who may open what: every route of the app × every role, in one table.

The world has two centres. Everyone signs in to centre A; centre B only owns rows whose ids
are typed into addresses. In centre A a carer helps Jeanne LIENAIDANT; another carer helps
Octave VOISINSECRET. Today the driver drives Jeanne, another driver drives Octave; the
driver also has a draft round (not published yet, so not theirs to open).

Each cell of the tables says what the role gets:

- ``200``: the page; ``302``: sent elsewhere (not to the sign-in page);
- ``login``: sent to the sign-in page (anonymous visitors);
- ``403``: signed in with the wrong role; ``404``: another centre's, or another person's, row;
- ``-`` (POST only): an allowed change, not tried here (its own tests try it).

Columns, in order: anonymous, carer, animator, coordinator, driver, admin.

Besides the status, every answer (page, calendar file, JSON, CSV, PDF read by pdftotext) is
searched for the names its reader must not see (centre B's for everyone; the persons a carer
does not help; the passengers of other drivers), and every refused POST must leave the
database exactly as it was.

Three smaller checks follow the tables: centre B's rows typed into centre A's forms (venue,
activity, commune, account) are refused while the same form with A's row is saved; an account
switched off while signed in is asked to sign in again; a carer no longer linked to a person
loses sight of them at once (pages and calendar feed).

A route added to the app without a row here makes `test_every_route_has_a_row` fail with the
rule's name: add the row, with what each role should get.

SQLite only: the rules under test are in Python, and the same file passed on PostgreSQL too
(about twice as long).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from werkzeug.security import generate_password_hash

from scheduling import calendars
from scheduling.audit import AuditEntry, AuditKind
from scheduling.db import Base
from scheduling.models import (
    FeedKind,
    Frequency,
    Notification,
    NotificationChannel,
    Person,
    Role,
    SessionSeries,
    User,
)
from scheduling.transport_models import DayStatus, StopKind, WelfareAlert
from tests.scheduling.driving_builders import make_driver, make_round, make_vehicle
from tests.webapp.conftest import PASSWORD, post, sign_in

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

ROLES = ("anonymous", "carer", "animator", "coordinator", "driver", "admin")

# --- the usual rows ------------------------------------------------------------------------
# Cells, left to right: anonymous, carer, animator, coordinator, driver, admin.

PUBLIC = "200 200 200 200 200 200"
NOWHERE = "404 404 404 404 404 404"
SIGNED_IN = "login 200 200 200 200 200"
CARER = "login 200 403 403 403 403"
CARER_404 = "login 404 403 403 403 403"
STAFF = "login 403 200 200 403 200"  # animation, coordination, administration
STAFF_404 = "login 403 404 404 403 404"
SUPERVISOR = "login 403 403 200 403 200"  # coordination, administration
SUPERVISOR_404 = "login 403 403 404 403 404"
DRIVING = "login 403 403 200 200 200"  # drivers and their supervisors
ADMIN = "login 403 403 403 403 200"
BAD_LINK = "400 400 400 400 400 400"  # a password-reset link that is no such link
# POST rows whose allowed roles would really change something: only the refusals are tried.
CARER_MAY = "login - 403 403 403 403"
STAFF_MAY = "login 403 - - 403 -"
SUPERVISOR_MAY = "login 403 403 - 403 -"

# --- GET: rule -> {address tried -> what each role gets} -----------------------------------

GET: dict[str, dict[str, str]] = {
    "/": {"/": PUBLIC, "/?pour={p_other}": PUBLIC, "/?pour={p_b}": PUBLIC},
    "/accessibilite": {"/accessibilite": PUBLIC},
    "/confidentialite": {"/confidentialite": PUBLIC},
    "/connexion": {"/connexion": "200 302 302 302 302 302"},
    "/mot-de-passe-oublie": {"/mot-de-passe-oublie": PUBLIC},
    "/mot-de-passe-oublie/<token>": {"/mot-de-passe-oublie/pas-un-lien": BAD_LINK},
    "/agenda.ics": {"/agenda.ics": PUBLIC},
    "/centres/<slug>/agenda.ics": {
        "/centres/{slug}/agenda.ics": PUBLIC,
        "/centres/{slug_b}/agenda.ics": PUBLIC,  # each centre's public agenda is public
        "/centres/nulle-part/agenda.ics": NOWHERE,
    },
    "/seances/<int:session_id>": {
        "/seances/{session}": PUBLIC,
        "/seances/{session_b}": NOWHERE,
    },
    # A private feed is opened by its secret token alone (calendar apps sign in to nothing).
    "/calendrier/<token>.ics": {
        "/calendrier/{token_mine}.ics": PUBLIC,
        "/calendrier/{token_person}.ics": PUBLIC,
        "/calendrier/{token_driver}.ics": PUBLIC,
        "/calendrier/{token_revoked}.ics": NOWHERE,
        "/calendrier/pas-un-jeton.ics": NOWHERE,
    },
    "/calendrier": {"/calendrier": SIGNED_IN},
    "/mot-de-passe": {"/mot-de-passe": SIGNED_IN},
    # --- carers' bookings
    "/reservations": {"/reservations": CARER},
    "/reservations/<int:booking_id>": {
        "/reservations/{booking_mine}": CARER,
        "/reservations/{booking_other}": CARER_404,
        "/reservations/{booking_b}": CARER_404,
    },
    "/reservations/<int:booking_id>/agenda.ics": {
        "/reservations/{booking_mine}/agenda.ics": CARER,
        "/reservations/{booking_other}/agenda.ics": CARER_404,
        "/reservations/{booking_b}/agenda.ics": CARER_404,
    },
    "/reservations/<int:booking_id>/annuler": {
        "/reservations/{booking_mine}/annuler": CARER,
        "/reservations/{booking_other}/annuler": CARER_404,
        "/reservations/{booking_b}/annuler": CARER_404,
    },
    "/seances/<int:session_id>/reserver": {
        "/seances/{session}/reserver": CARER,
        "/seances/{session}/reserver?pour={p_other}": CARER,  # the form, for my own person
        "/seances/{session_b}/reserver": CARER_404,
    },
    "/cycles/<int:series_id>/inscrire": {
        "/cycles/{series}/inscrire": CARER,
        "/cycles/{series}/inscrire?pour={p_other}": CARER,
        "/cycles/{series_b}/inscrire": CARER_404,
    },
    "/cycles/<int:series_id>/inscription": {
        "/cycles/{series}/inscription?pour={p_mine}": CARER,
        "/cycles/{series}/inscription?pour={p_other}": CARER_404,
        "/cycles/{series_b}/inscription?pour={p_mine}": CARER_404,
    },
    # --- animation
    "/animation/": {"/animation/": STAFF},
    "/animation/activites": {"/animation/activites": STAFF},
    "/animation/activites/nouvelle": {"/animation/activites/nouvelle": STAFF},
    "/animation/activites/<int:activity_id>/modifier": {
        "/animation/activites/{activity}/modifier": STAFF,
        "/animation/activites/{activity_b}/modifier": STAFF_404,
    },
    "/animation/appels": {"/animation/appels": STAFF},
    "/animation/seances/nouvelle": {
        "/animation/seances/nouvelle": STAFF,
        "/animation/seances/nouvelle?activite={activity_b}": STAFF,  # B's title not shown
    },
    "/animation/seances/<int:session_id>": {
        "/animation/seances/{session}": STAFF,
        "/animation/seances/{session_b}": STAFF_404,
    },
    "/animation/seances/<int:session_id>/modifier": {
        "/animation/seances/{session}/modifier": STAFF,
        "/animation/seances/{session_b}/modifier": STAFF_404,
    },
    "/animation/seances/<int:session_id>/annuler": {
        "/animation/seances/{session}/annuler": STAFF,
        "/animation/seances/{session_b}/annuler": STAFF_404,
    },
    "/animation/seances/<int:session_id>/emargement.pdf": {
        "/animation/seances/{session}/emargement.pdf": STAFF,
        "/animation/seances/{session_b}/emargement.pdf": STAFF_404,
    },
    "/animation/series/<int:series_id>": {
        "/animation/series/{series}": STAFF,
        "/animation/series/{series_b}": STAFF_404,
    },
    "/animation/telephone": {
        "/animation/telephone": STAFF,
        "/animation/telephone?q=zoe": STAFF,  # the search finds nobody of centre B
        "/animation/telephone?q=Sarlat": STAFF,
    },
    "/animation/telephone/personnes/nouvelle": {"/animation/telephone/personnes/nouvelle": STAFF},
    "/animation/telephone/personnes/<int:person_id>": {
        "/animation/telephone/personnes/{p_mine}": STAFF,
        "/animation/telephone/personnes/{p_b}": STAFF_404,
    },
    "/animation/telephone/personnes/<int:person_id>/seances/<int:session_id>": {
        "/animation/telephone/personnes/{p_mine}/seances/{session}": STAFF,
        "/animation/telephone/personnes/{p_b}/seances/{session}": STAFF_404,
        "/animation/telephone/personnes/{p_mine}/seances/{session_b}": STAFF_404,
    },
    "/calendrier/personnes": {"/calendrier/personnes?person_id={p_b}": "login 403 302 302 403 302"},
    "/calendrier/personnes/<int:person_id>": {
        "/calendrier/personnes/{p_mine}": STAFF,
        "/calendrier/personnes/{p_b}": STAFF_404,
    },
    # --- coordination
    "/rapports/": {"/rapports/": SUPERVISOR},
    "/rapports/<slug>.csv": {
        "/rapports/synthese.csv": SUPERVISOR,
        "/rapports/activites.csv": SUPERVISOR,
        "/rapports/transport.csv": SUPERVISOR,
        "/rapports/pas-un-tableau.csv": SUPERVISOR_404,
    },
    "/rapports/rapport.pdf": {"/rapports/rapport.pdf": SUPERVISOR},
    "/donnees-personnelles/<int:person_id>": {
        "/donnees-personnelles/{p_mine}": SUPERVISOR,
        "/donnees-personnelles/{p_b}": SUPERVISOR_404,
    },
    "/donnees-personnelles/<int:person_id>/export.json": {
        "/donnees-personnelles/{p_mine}/export.json": SUPERVISOR,
        "/donnees-personnelles/{p_b}/export.json": SUPERVISOR_404,
    },
    "/donnees-personnelles/<int:person_id>/effacer": {
        "/donnees-personnelles/{p_mine}/effacer": SUPERVISOR,
        "/donnees-personnelles/{p_b}/effacer": SUPERVISOR_404,
    },
    "/admin/journal": {
        "/admin/journal": ADMIN,
        "/admin/journal?qui=zoe": ADMIN,  # the search stays in the centre
        "/admin/journal?qui=bernard": ADMIN,
    },
    "/transport/": {"/transport/": "login 403 403 302 403 302"},
    "/transport/jour/<day>": {
        "/transport/jour/{today}": SUPERVISOR,
        "/transport/jour/pas-une-date": SUPERVISOR_404,
    },
    "/transport/jour/<day>/chauffeurs": {
        "/transport/jour/{today}/chauffeurs": SUPERVISOR,
        "/transport/jour/{next_day}/chauffeurs": SUPERVISOR_404,  # no round that day
    },
    "/transport/reglages": {"/transport/reglages": SUPERVISOR},
    "/transport/vehicules": {"/transport/vehicules": SUPERVISOR},
    "/transport/vehicules/nouveau": {"/transport/vehicules/nouveau": SUPERVISOR},
    "/transport/vehicules/<int:vehicle_id>": {
        "/transport/vehicules/{vehicle}": SUPERVISOR,
        "/transport/vehicules/{vehicle_b}": SUPERVISOR_404,
    },
    "/transport/chauffeurs": {"/transport/chauffeurs": SUPERVISOR},
    "/transport/chauffeurs/nouveau": {"/transport/chauffeurs/nouveau": SUPERVISOR},
    "/transport/chauffeurs/<int:driver_id>": {
        "/transport/chauffeurs/{driver}": SUPERVISOR,
        "/transport/chauffeurs/{driver_b}": SUPERVISOR_404,
    },
    # --- drivers
    "/chauffeur/": {"/chauffeur/": DRIVING},
    "/chauffeur/alertes": {"/chauffeur/alertes": SUPERVISOR},
    "/chauffeur/tournees/<int:round_id>": {
        "/chauffeur/tournees/{round_mine}": DRIVING,
        "/chauffeur/tournees/{round_other}": "login 403 403 200 404 200",
        "/chauffeur/tournees/{round_draft}": "login 403 403 200 404 200",
        "/chauffeur/tournees/{round_b}": "login 403 403 404 404 404",
    },
    "/chauffeur/tournees/<int:round_id>/feuille.pdf": {
        "/chauffeur/tournees/{round_mine}/feuille.pdf": DRIVING,
        "/chauffeur/tournees/{round_other}/feuille.pdf": "login 403 403 200 404 200",
        "/chauffeur/tournees/{round_draft}/feuille.pdf": "login 403 403 200 404 200",
        "/chauffeur/tournees/{round_b}/feuille.pdf": "login 403 403 404 404 404",
    },
}

# Pages that rightly show a name otherwise hidden from their reader.
SHOWN_ANYWAY: dict[str, set[str]] = {
    "/centres/{slug_b}/agenda.ics": {"Lointainb"},  # centre B's public agenda
}
# A private feed is written for its owner, whoever holds the link: searched with their eyes.
FEED_OWNER = {
    "/calendrier/{token_mine}.ics": "carer",
    "/calendrier/{token_person}.ics": "carer",  # Jeanne's own, given by the coordination
    "/calendrier/{token_driver}.ics": "driver",
}
# Canaries: pages that do show these names, so the search for hidden names is not blind.
SHOWN_TO: dict[str, dict[str, str]] = {
    "carer": {"/reservations": "Lienaidant"},
    "driver": {
        "/chauffeur/tournees/{round_mine}": "Lienaidant",
        "/chauffeur/tournees/{round_mine}/feuille.pdf": "Lienaidant",
    },
    "animator": {
        "/animation/seances/{session}": "Voisinsecret",
        "/animation/seances/{session}/emargement.pdf": "Voisinsecret",
    },
    "coordinator": {"/transport/jour/{today}": "Voisinsecret"},
    "admin": {"/admin/journal": "Voisinsecret"},
    "anonymous": {"/calendrier/{token_mine}.ics": "Lienaidant"},
}


# --- POST: rule -> [(address, form, what each role gets)] ----------------------------------


def _booking_form(person: str) -> dict[str, str]:
    return {
        "person_id": person,
        "companions": "0",
        "transport_out": "y",
        "pickup_address": "1 place de l'Église",
        "confirmed": "yes",
    }


ACTIVITY_FORM = {
    "title": "Atelier mémoire",
    "field": "care_prevention",
    "audience": "older_people",
    "description": "Réécrit",
    "active": "y",
}
SESSION_FORM = {
    "date": "{next_day}",
    "start_time": "10:00",
    "end_time": "12:00",
    "venue_id": "{venue}",
    "seats": "3",
    "wheelchair_places": "0",
}
VEHICLE_FORM = {
    "name": "Renommé",
    "kind": "minibus",
    "seats": "5",
    "wheelchair_places": "0",
    "depot_address": "Ailleurs",
    "depot_lat": "44,85",
    "depot_lon": "0,48",
    "available_from": "08:00",
    "available_until": "18:00",
}
DRIVER_FORM = {
    "user_id": "{driver_user}",
    "phone": "06 99 99 99 99",
    "weekdays": "0",
    "available_from": "08:00",
    "available_until": "18:00",
}
WRONG_PASSWORD = {
    "current_password": "pas-le-bon-mot-de-passe",
    "new_password": "nouveau-mot-de-passe",
    "confirm_password": "nouveau-mot-de-passe",
}

POST: dict[str, list[tuple[str, dict[str, str], str]]] = {
    "/connexion": [
        ("/connexion", {"username": "m-aidant", "password": "faux"}, "200 302 302 302 302 302")
    ],
    "/deconnexion": [("/deconnexion", {}, "302 302 302 302 302 302")],
    # The same answer whether an account matches or not; no link was sent, nothing changed.
    # (a name per role: reset requests are limited per name typed)
    "/mot-de-passe-oublie": [("/mot-de-passe-oublie", {"username": "personne-{role}"}, PUBLIC)],
    "/mot-de-passe-oublie/<token>": [
        (
            "/mot-de-passe-oublie/pas-un-lien",
            {"new_password": "nouveau-mot-de-passe", "confirm_password": "nouveau-mot-de-passe"},
            BAD_LINK,
        )
    ],
    "/mot-de-passe": [("/mot-de-passe", WRONG_PASSWORD, SIGNED_IN)],
    # --- carers' bookings
    "/seances/<int:session_id>/reserver": [
        ("/seances/{session}/reserver", _booking_form("{p_mine}"), CARER_MAY),
        ("/seances/{session}/reserver", _booking_form("{p_other}"), CARER),  # form again
        ("/seances/{session_b}/reserver", _booking_form("{p_mine}"), CARER_404),
    ],
    "/reservations/<int:booking_id>/annuler": [
        ("/reservations/{booking_mine}/annuler", {}, CARER_MAY),
        ("/reservations/{booking_other}/annuler", {}, CARER_404),
        ("/reservations/{booking_b}/annuler", {}, CARER_404),
    ],
    "/cycles/<int:series_id>/inscrire": [
        ("/cycles/{series}/inscrire", _booking_form("{p_mine}"), CARER_MAY),
        ("/cycles/{series}/inscrire", _booking_form("{p_other}"), CARER),
        ("/cycles/{series_b}/inscrire", _booking_form("{p_mine}"), CARER_404),
    ],
    # --- calendar links (the carer already has theirs: asking again changes nothing)
    "/calendrier/creer": [
        ("/calendrier/creer", {"kind": "carer"}, "login 302 302 302 302 302"),
        ("/calendrier/creer", {"kind": "person"}, "login 302 302 302 302 302"),
    ],
    "/calendrier/<int:token_id>/revoquer": [
        ("/calendrier/{token_mine_id}/revoquer", {}, "login - 404 404 404 404"),
        ("/calendrier/{token_other_id}/revoquer", {}, "login 404 404 404 404 404"),
        ("/calendrier/{token_person_id}/revoquer", {}, "login 404 - - 404 -"),
        ("/calendrier/{token_b_id}/revoquer", {}, "login 404 404 404 404 404"),
    ],
    "/calendrier/<int:token_id>/renouveler": [
        ("/calendrier/{token_mine_id}/renouveler", {}, "login - 404 404 404 404"),
        ("/calendrier/{token_other_id}/renouveler", {}, "login 404 404 404 404 404"),
        ("/calendrier/{token_person_id}/renouveler", {}, "login 404 - - 404 -"),
        ("/calendrier/{token_b_id}/renouveler", {}, "login 404 404 404 404 404"),
    ],
    "/calendrier/personnes/<int:person_id>": [
        ("/calendrier/personnes/{p_mine}", {}, "login 403 302 302 403 302"),  # already has one
        ("/calendrier/personnes/{p_b}", {}, STAFF_404),
    ],
    # --- animation
    "/animation/activites/nouvelle": [("/animation/activites/nouvelle", ACTIVITY_FORM, STAFF_MAY)],
    "/animation/activites/<int:activity_id>/modifier": [
        ("/animation/activites/{activity}/modifier", ACTIVITY_FORM, STAFF_MAY),
        ("/animation/activites/{activity_b}/modifier", ACTIVITY_FORM, STAFF_404),
    ],
    "/animation/appels/<int:notification_id>/fait": [
        ("/animation/appels/{call}/fait", {}, STAFF_MAY),
        ("/animation/appels/{call_b}/fait", {}, STAFF_404),
    ],
    "/animation/seances/nouvelle": [
        (
            "/animation/seances/nouvelle",
            {**SESSION_FORM, "activity_id": "{activity}", "frequency": "once"},
            STAFF_MAY,
        )
    ],
    "/animation/seances/<int:session_id>/modifier": [
        ("/animation/seances/{session}/modifier", SESSION_FORM, STAFF_MAY),
        ("/animation/seances/{session_b}/modifier", SESSION_FORM, STAFF_404),
    ],
    "/animation/seances/<int:session_id>/annuler": [
        ("/animation/seances/{session}/annuler", {"reason": "Intempéries"}, STAFF_MAY),
        ("/animation/seances/{session_b}/annuler", {"reason": "Intempéries"}, STAFF_404),
    ],
    "/animation/seances/<int:session_id>/presences": [
        (
            "/animation/seances/{session_b}/presences",
            {"presence-{booking_b}": "present"},
            STAFF_404,
        ),
        # Centre B's booking slipped into our own session's roll call: refused, nothing marked.
        (
            "/animation/seances/{session_today}/presences",
            {"presence-{booking_b_today}": "present"},
            "login 403 302 302 403 302",
        ),
    ],
    "/animation/telephone/personnes/nouvelle": [
        (
            "/animation/telephone/personnes/nouvelle",
            {"last_name": "Nouvelle", "first_name": "Anne", "commune_id": "{commune}"},
            STAFF_MAY,
        )
    ],
    "/animation/telephone/personnes/<int:person_id>/seances/<int:session_id>": [
        (
            "/animation/telephone/personnes/{p_mine}/seances/{session}",
            _booking_form("{p_mine}"),
            STAFF_MAY,
        ),
        (
            "/animation/telephone/personnes/{p_b}/seances/{session}",
            _booking_form("{p_b}"),
            STAFF_404,
        ),
        (
            "/animation/telephone/personnes/{p_mine}/seances/{session_b}",
            _booking_form("{p_mine}"),
            STAFF_404,
        ),
    ],
    # --- coordination
    "/donnees-personnelles/<int:person_id>/effacer": [
        ("/donnees-personnelles/{p_mine}/effacer", {}, SUPERVISOR_MAY),
        ("/donnees-personnelles/{p_b}/effacer", {}, SUPERVISOR_404),
    ],
    "/transport/jour/<day>/construire": [
        ("/transport/jour/{today}/construire", {}, SUPERVISOR_MAY)
    ],
    "/transport/jour/<day>/publier": [("/transport/jour/{today}/publier", {}, SUPERVISOR_MAY)],
    "/transport/jour/<day>/epingler": [
        (
            "/transport/jour/{today}/epingler",
            {"booking_id": "{booking_b_today}", "leg": "outbound", "vehicle_id": ""},
            SUPERVISOR_404,
        )
    ],
    "/transport/jour/<day>/coordonnees": [
        (
            "/transport/jour/{today}/coordonnees",
            {"booking_id": "{booking_b_today}", "lat": "44,9", "lon": "0,5"},
            SUPERVISOR_404,
        )
    ],
    "/transport/jour/<day>/chauffeurs": [
        ("/transport/jour/{today}/chauffeurs", {"round-{round_mine}": "{driver}"}, SUPERVISOR_MAY),
        # Centre B's driver for our round, and our driver for B's round: refused, nothing saved.
        (
            "/transport/jour/{today}/chauffeurs",
            {"round-{round_mine}": "{driver_b}", "round-{round_b}": "{driver_other}"},
            "login 403 403 200 403 200",
        ),
    ],
    "/transport/reglages": [("/transport/reglages", {}, SUPERVISOR_MAY)],
    "/transport/vehicules/nouveau": [
        ("/transport/vehicules/nouveau", VEHICLE_FORM, SUPERVISOR_MAY)
    ],
    "/transport/vehicules/<int:vehicle_id>": [
        ("/transport/vehicules/{vehicle}", VEHICLE_FORM, SUPERVISOR_MAY),
        ("/transport/vehicules/{vehicle_b}", VEHICLE_FORM, SUPERVISOR_404),
    ],
    "/transport/chauffeurs/nouveau": [
        ("/transport/chauffeurs/nouveau", DRIVER_FORM, SUPERVISOR_MAY)
    ],
    "/transport/chauffeurs/<int:driver_id>": [
        ("/transport/chauffeurs/{driver}", DRIVER_FORM, SUPERVISOR_MAY),
        ("/transport/chauffeurs/{driver_b}", DRIVER_FORM, SUPERVISOR_404),
    ],
    # --- drivers
    "/chauffeur/arrets/<int:stop_id>/pointage": [
        ("/chauffeur/arrets/{stop_mine}/pointage", {"status": "picked_up"}, "login 403 403 - - -"),
        (
            "/chauffeur/arrets/{stop_other}/pointage",
            {"status": "picked_up"},
            "login 403 403 - 404 -",
        ),
        (
            "/chauffeur/arrets/{stop_draft}/pointage",
            {"status": "picked_up"},
            "login 403 403 302 404 302",  # not published: nothing to mark yet
        ),
        (
            "/chauffeur/arrets/{stop_b}/pointage",
            {"status": "picked_up"},
            "login 403 403 404 404 404",
        ),
    ],
    "/chauffeur/alertes/<int:alert_id>/prise-en-compte": [
        ("/chauffeur/alertes/{alert}/prise-en-compte", {"note": "Vue"}, SUPERVISOR_MAY),
        ("/chauffeur/alertes/{alert_b}/prise-en-compte", {"note": "Vue"}, SUPERVISOR_404),
    ],
}


# --- the world -----------------------------------------------------------------------------

# A cheap hash of the shared test password: the world has a dozen accounts.
FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
USERNAMES = {
    "carer": "m-aidant",
    "animator": "m-animatrice",
    "coordinator": "m-coordination",
    "driver": "m-chauffeur",
    "admin": "m-admin",
}
# Names that must never reach a reader of that role (checked on every page answered).
HIDDEN_FROM: dict[str, set[str]] = {
    "anonymous": {"Lienaidant", "Voisinsecret", "Lointainb"},
    "carer": {"Voisinsecret", "Lointainb"},  # not a person they help; another centre
    "animator": {"Lointainb"},
    "coordinator": {"Lointainb"},
    "driver": {"Voisinsecret", "Lointainb"},  # another driver's passenger; another centre
    "admin": {"Lointainb"},
}


@dataclass
class MatrixWorld:
    ids: dict[str, Any]


def _save(db: Any, obj: Any) -> Any:
    db.add(obj)
    db.commit()
    return obj


def _series(db: Any, session: Any) -> SessionSeries:
    """A one-session weekly cycle around ``session``."""
    series = _save(
        db,
        SessionSeries(
            activity_id=session.activity_id,
            frequency=Frequency.weekly,
            first_date=session.starts_at.date(),
            until_date=session.starts_at.date(),
            start_time=session.starts_at.time(),
            end_time=session.ends_at.time(),
            venue_id=session.venue_id,
            seats=session.seats,
            wheelchair_places=1,
            transport_offered=True,
        ),
    )
    session.series_id = series.id
    db.commit()
    return series


def _call(db: Any, person: Any, session: Any) -> Notification:
    return _save(
        db,
        Notification(
            centre_id=person.centre_id,
            person_id=person.id,
            kind="session_cancelled",
            channel=NotificationChannel.phone_call,
            recipient="05 53 00 00 00",
            subject="Séance annulée",
            body="…",
            created_at=session.starts_at - dt.timedelta(days=1),
        ),
    )


def _alert(db: Any, round_: Any, now: dt.datetime) -> WelfareAlert:
    pickup = next(s for s in round_.stops if s.kind is StopKind.pickup)
    return _save(
        db,
        WelfareAlert(
            centre_id=round_.centre_id,
            stop_id=pickup.id,
            person_id=pickup.booking.person_id,
            address=pickup.address,
            raised_at=now,
        ),
    )


@pytest.fixture
def matrix_world(
    db: Any,
    centre: Any,
    make_centre: Callable[..., Any],
    make_commune: Callable[..., Any],
    make_venue: Callable[..., Any],
    make_person: Callable[..., Any],
    make_user: Callable[..., Any],
    make_activity: Callable[..., Any],
    make_session: Callable[..., Any],
    make_booking: Callable[..., Any],
) -> MatrixWorld:
    now = dt.datetime.now(ZoneInfo("Europe/Paris")).replace(tzinfo=None, second=0, microsecond=0)
    today = now.date()
    next_week = today + dt.timedelta(days=7)
    other = make_centre(name="CRT de l'autre vallée", slug="crt-autre-vallee")
    assert centre.id < other.id  # visitors see the first centre

    def user(role: Role, username: str, at: Any = centre, **extra: Any) -> Any:
        # Centre B's people all bear the name searched for on every page of centre A.
        name = f"Bernard Lointainb {username}" if at is other else f"Agent {username}"
        return make_user(
            centre=at,
            username=username,
            role=role,
            password_hash=FAST_HASH,
            display_name=name,
            **extra,
        )

    # Centre A
    commune = make_commune(name="Lalinde", lat=44.8368, lon=0.7378)
    venue = make_venue(commune=commune)
    jeanne = make_person(first_name="Jeanne", last_name="Lienaidant", commune=commune)
    octave = make_person(first_name="Octave", last_name="Voisinsecret", commune=commune)
    carer = user(Role.carer, "m-aidant", helped_persons=[jeanne])
    other_carer = user(Role.carer, "m-autre-aidant", helped_persons=[octave])
    animator = user(Role.animator, "m-animatrice")
    coordinator = user(Role.coordinator, "m-coordination")
    user(Role.admin, "m-admin")
    driver_user = user(Role.driver, "m-chauffeur")
    other_driver_user = user(Role.driver, "m-autre-chauffeur")
    free_driver = user(Role.driver, "m-chauffeur-sans-fiche")  # no driver's file yet
    activity = make_activity(title="Atelier équilibre")
    upcoming = make_session(
        activity=activity, venue=venue, starts_at=dt.datetime.combine(next_week, dt.time(14))
    )
    series = _series(db, upcoming)
    today_session = make_session(
        activity=activity, venue=venue, starts_at=dt.datetime.combine(today, dt.time(14, 30))
    )
    booking_mine = make_booking(upcoming, person=jeanne)
    booking_other = make_booking(upcoming, person=octave)
    vehicle = make_vehicle(db, centre.id)
    driver = make_driver(db, driver_user)
    other_driver = make_driver(db, other_driver_user)
    round_mine = make_round(
        db,
        bookings=[make_booking(today_session, person=jeanne, transport_out=True)],
        date=today,
        driver=driver,
        vehicle=vehicle,
    )
    round_other = make_round(
        db,
        bookings=[make_booking(today_session, person=octave, transport_out=True)],
        date=today,
        driver=other_driver,
        vehicle=vehicle,
    )
    round_draft = make_round(
        db,
        bookings=[booking_mine],
        date=next_week,
        driver=driver,
        vehicle=vehicle,
        status=DayStatus.draft,
    )
    round_mine.day.published_at = now  # as publishing does (the day page shows when)
    db.commit()
    alert = _alert(db, round_other, now)
    call = _call(db, octave, upcoming)

    # Centre B
    commune_b = make_commune(centre=other, name="Sarlat-Lointainb")
    venue_b = make_venue(centre=other, commune=commune_b, name="Salle Lointainb")
    zoe = make_person(centre=other, first_name="Zoé", last_name="Lointainb", commune=commune_b)
    user(Role.carer, "b-aidant", at=other, helped_persons=[zoe])
    coordinator_b = user(Role.coordinator, "b-coordination", at=other)
    activity_b = make_activity(centre=other, title="Atelier Lointainb")
    upcoming_b = make_session(
        centre=other,
        activity=activity_b,
        venue=venue_b,
        starts_at=dt.datetime.combine(next_week, dt.time(10)),
    )
    series_b = _series(db, upcoming_b)
    today_b = make_session(
        centre=other,
        activity=activity_b,
        venue=venue_b,
        starts_at=dt.datetime.combine(today, dt.time(15)),
    )
    booking_b = make_booking(upcoming_b, person=zoe)
    booking_b_today = make_booking(today_b, person=zoe, transport_out=True)
    vehicle_b = make_vehicle(db, other.id, name="Minibus Lointainb")
    driver_b = make_driver(db, user(Role.driver, "b-chauffeur", at=other))
    free_driver_b = user(Role.driver, "b-chauffeur-sans-fiche", at=other)
    round_b = make_round(
        db, bookings=[booking_b_today], date=today, driver=driver_b, vehicle=vehicle_b
    )
    alert_b = _alert(db, round_b, now)
    call_b = _call(db, zoe, upcoming_b)
    for person in (octave, zoe):  # a line of each centre's audit log
        _save(
            db,
            AuditEntry(
                centre_id=person.centre_id,
                at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                actor_label="Bernard Lointainb" if person is zoe else "Agent",
                kind=AuditKind.person,
                action="created",
                object_type="person",
                object_id=person.id,
                person_id=person.id,
                summary="Personne enregistrée.",
            ),
        )

    # Calendar links
    def token(made: Any) -> Any:
        assert made.ok, made
        db.commit()
        return made.value

    mine = token(calendars.create_my_token(db, actor=carer, now=now, kind=FeedKind.carer))
    theirs = token(calendars.create_my_token(db, actor=other_carer, now=now, kind=FeedKind.carer))
    person = token(
        calendars.create_person_token(db, actor=coordinator, now=now, person_id=jeanne.id)
    )
    in_b = token(calendars.create_person_token(db, actor=coordinator_b, now=now, person_id=zoe.id))
    driving = token(calendars.create_my_token(db, actor=driver_user, now=now, kind=FeedKind.driver))
    revoked = token(
        calendars.create_my_token(db, actor=other_driver_user, now=now, kind=FeedKind.driver)
    )
    token(calendars.revoke_token(db, actor=other_driver_user, now=now, token_id=revoked.id))

    def stop(round_: Any) -> int:
        return int(next(s.id for s in round_.stops if s.kind is StopKind.pickup))

    ids = {
        "today": today.isoformat(),
        "next_day": (next_week + dt.timedelta(days=1)).isoformat(),
        "slug": centre.slug,
        "slug_b": other.slug,
        "commune": commune.id,
        "commune_b": commune_b.id,
        "venue": venue.id,
        "venue_b": venue_b.id,
        "animator": animator.id,
        "coordinator_b": coordinator_b.id,
        "free_driver": free_driver.id,
        "free_driver_b": free_driver_b.id,
        "p_mine": jeanne.id,
        "p_other": octave.id,
        "p_b": zoe.id,
        "activity": activity.id,
        "activity_b": activity_b.id,
        "session": upcoming.id,
        "session_today": today_session.id,
        "session_b": upcoming_b.id,
        "series": series.id,
        "series_b": series_b.id,
        "booking_mine": booking_mine.id,
        "booking_other": booking_other.id,
        "booking_b": booking_b.id,
        "booking_b_today": booking_b_today.id,
        "call": call.id,
        "call_b": call_b.id,
        "vehicle": vehicle.id,
        "vehicle_b": vehicle_b.id,
        "driver": driver.id,
        "driver_b": driver_b.id,
        "driver_other": other_driver.id,
        "driver_user": driver_user.id,
        "round_mine": round_mine.id,
        "round_other": round_other.id,
        "round_draft": round_draft.id,
        "round_b": round_b.id,
        "stop_mine": stop(round_mine),
        "stop_other": stop(round_other),
        "stop_draft": stop(round_draft),
        "stop_b": stop(round_b),
        "alert": alert.id,
        "alert_b": alert_b.id,
        "token_mine": mine.token,
        "token_mine_id": mine.id,
        "token_other_id": theirs.id,
        "token_person": person.token,
        "token_person_id": person.id,
        "token_b_id": in_b.id,
        "token_driver": driving.token,
        "token_revoked": revoked.token,
    }
    db.commit()
    return MatrixWorld(ids)


# --- checking one answer -------------------------------------------------------------------


def _expected(row: str, role: str) -> str:
    cells = row.split()
    assert len(cells) == len(ROLES), f"row « {row} » needs one cell per role {ROLES}"
    return cells[ROLES.index(role)]


def _outcome(response: Any) -> str:
    """The response in the tables' words: 200, 302, login, 403, 404…"""
    if response.status_code == 302:
        location = response.headers.get("Location", "")
        return "login" if "/connexion" in location.split("?")[0] else "302"
    return str(response.status_code)


def _searchable(response: Any) -> str:
    """The answer's text, lower case (rosters write « VOISINSECRET Octave »): iCalendar lines
    unfolded (RFC 5545 folds them at 75 octets), PDF files read by pdftotext."""
    if response.mimetype == "application/pdf":
        if shutil.which("pdftotext") is None:
            if os.environ.get("CI"):
                pytest.fail("pdftotext absent (poppler-utils): bash scripts/setup.sh --dev")
            return ""  # not searched on this machine
        with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
            pdf.write(response.get_data())
            pdf.flush()
            out = subprocess.run(["pdftotext", pdf.name, "-"], capture_output=True, check=True)
        return out.stdout.decode().lower()
    return response.get_data(as_text=True).replace("\r\n ", "").replace("\n ", "").lower()


def _leaks(response: Any, role: str, allowed: set[str]) -> list[str]:
    if response.status_code != 200:
        return []
    text = _searchable(response)
    return sorted(name for name in HIDDEN_FROM[role] - allowed if name.lower() in text)


def _client_as(app: Flask, role: str) -> FlaskClient:
    client = app.test_client()
    if role != "anonymous":
        response = sign_in(client, USERNAMES[role])
        assert response.status_code == 302, f"{role} could not sign in"
    return client


def _fill(template: str, ids: dict[str, Any]) -> str:
    return template.format(**ids)


# --- the tests -----------------------------------------------------------------------------


def test_every_route_has_a_row(app: Flask) -> None:
    """Each rule of the app, for each of its methods, has a row; no row names a dead rule."""
    missing = []
    known = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method, table in (("GET", GET), ("POST", POST)):
            if method in (rule.methods or set()):
                known.add((method, rule.rule))
                if rule.rule not in table:
                    missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes without a row in the authorisation matrix:\n" + "\n".join(
        sorted(missing)
    )
    stale = [f"GET {r}" for r in GET if ("GET", r) not in known]
    stale += [f"POST {r}" for r in POST if ("POST", r) not in known]
    assert not stale, "rows for rules the app no longer has:\n" + "\n".join(stale)


def test_every_address_tried_belongs_to_its_rule(app: Flask) -> None:
    """A row's addresses really reach its rule (a typo would test another page)."""
    adapter = app.url_map.bind("navette.test")
    sample = defaultdict(lambda: "1")  # any id, day, slug or token will do to find the rule
    wrong = []
    cases = [("GET", r, u) for r, urls in GET.items() for u in urls]
    cases += [("POST", r, u) for r, rows in POST.items() for u, _, _ in rows]
    for method, rule, template in cases:
        path = template.format_map(sample).split("?")[0]
        matched, _ = adapter.match(path, method=method, return_rule=True)
        if matched.rule != rule:
            wrong.append(f"{method} {template} reaches {matched.rule}, not {rule}")
    assert not wrong, "\n".join(wrong)


def test_who_may_open_each_page(app: Flask, matrix_world: MatrixWorld) -> None:
    """Every GET row, for every role (one world for all: reading changes nothing). Visitors
    go once more at the end, after every signed-in page was served: the visitors' page cache
    must not hand them what it showed someone else."""
    roles = (*ROLES, "anonymous")
    wrong = [line for role in roles for line in _get_errors(app, matrix_world.ids, role)]
    assert not wrong, "\n".join(wrong)


def _get_errors(app: Flask, ids: dict[str, Any], role: str) -> list[str]:
    client = _client_as(app, role)
    wrong = []
    for rule, urls in GET.items():
        for template, row in urls.items():
            url = _fill(template, ids)
            response = client.get(url)
            got, wanted = _outcome(response), _expected(row, role)
            if got != wanted:
                wrong.append(f"as {role}: GET {url}  ({rule}): wanted {wanted}, got {got}")
            reader = FEED_OWNER.get(template, role)
            leaked = _leaks(response, reader, SHOWN_ANYWAY.get(template, set()))
            if leaked:
                wrong.append(f"as {role}: GET {url}  ({rule}): shows {', '.join(leaked)}")
    for template, name in SHOWN_TO[role].items():
        if shutil.which("pdftotext") is None and template.endswith(".pdf"):
            continue
        if name.lower() not in _searchable(client.get(_fill(template, ids))):
            wrong.append(f"as {role}: {template} should show {name} (is the search blind?)")
    return wrong


def _snapshot(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table, as text, to see whether anything changed."""
    with engine.connect() as conn:
        return {
            table.name: sorted(repr(tuple(row)) for row in conn.execute(table.select()))
            for table in Base.metadata.sorted_tables
        }


def _changes(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]


def test_refused_changes_leave_the_database_alone(
    app: Flask, matrix_world: MatrixWorld, engine: Engine
) -> None:
    """Every POST row, for every role: the refusal, and every table as it was."""
    wrong = [line for role in ROLES for line in _post_errors(app, matrix_world.ids, engine, role)]
    assert not wrong, "\n".join(wrong)


def _post_errors(app: Flask, ids: dict[str, Any], engine: Engine, role: str) -> list[str]:
    ids = {**ids, "role": role}
    client = _client_as(app, role)
    before = _snapshot(engine)
    wrong = []
    for rule, rows in POST.items():
        for template, form, row in rows:
            wanted = _expected(row, role)
            if wanted == "-":
                continue
            url = _fill(template, ids)
            data = {_fill(k, ids): _fill(v, ids) for k, v in form.items()}
            response = post(client, url, data)
            got = _outcome(response)
            if got != wanted:
                wrong.append(f"as {role}: POST {url}  ({rule}): wanted {wanted}, got {got}")
            leaked = _leaks(response, role, set())
            if leaked:
                wrong.append(f"as {role}: POST {url}  ({rule}): shows {', '.join(leaked)}")
            after = _snapshot(engine)
            changed = _changes(before, after)
            if changed:
                wrong.append(f"as {role}: POST {url}  ({rule}) changed {', '.join(changed)}")
                before = after
            if rule == "/deconnexion" and role != "anonymous":
                client = _client_as(app, role)
                before = _snapshot(engine)
    return wrong


# --- a centre B id slipped into a form of centre A -----------------------------------------

NEW_SESSION = {**SESSION_FORM, "activity_id": "{activity}", "frequency": "once"}
NEW_PERSON = {
    "last_name": "Nouvelle",
    "first_name": "Anne",
    "commune_id": "{commune}",
    "mobility": "walks",
}
# (address, a form that works, the field that names a row, centre B's row for that field)
FOREIGN_IN_FORM = [
    ("/animation/seances/nouvelle", NEW_SESSION, "activity_id", "{activity_b}"),
    ("/animation/seances/nouvelle", NEW_SESSION, "venue_id", "{venue_b}"),
    (
        "/animation/seances/nouvelle",
        {**NEW_SESSION, "animator_id": "{animator}"},
        "animator_id",
        "{coordinator_b}",
    ),
    ("/animation/seances/{session}/modifier", SESSION_FORM, "venue_id", "{venue_b}"),
    ("/animation/telephone/personnes/nouvelle", NEW_PERSON, "commune_id", "{commune_b}"),
    (
        "/transport/chauffeurs/nouveau",
        {**DRIVER_FORM, "user_id": "{free_driver}"},
        "user_id",
        "{free_driver_b}",
    ),
]


def test_forms_refuse_another_centres_rows(
    app: Flask, matrix_world: MatrixWorld, engine: Engine
) -> None:
    """The coordinator's form with centre B's row: the form again, nothing saved. With centre
    A's own row the same form is saved, so the refusal is about the row, not a bad form."""
    ids = matrix_world.ids
    client = _client_as(app, "coordinator")
    wrong = []
    for template, form, field, foreign in FOREIGN_IN_FORM:
        url = _fill(template, ids)
        data = {k: _fill(v, ids) for k, v in form.items()}
        before = _snapshot(engine)
        refused = post(client, url, {**data, field: _fill(foreign, ids)})
        if _outcome(refused) != "200" or _leaks(refused, "coordinator", set()):
            wrong.append(f"{url} with {field} of centre B: got {_outcome(refused)}")
        if _changes(before, _snapshot(engine)):
            wrong.append(
                f"{url} with {field} of centre B changed {_changes(before, _snapshot(engine))}"
            )
        saved = post(client, url, data)
        if _outcome(saved) != "302" or not _changes(before, _snapshot(engine)):
            wrong.append(f"{url}: the control form (centre A's own {field}) was not saved")
    assert not wrong, "\n".join(wrong)


def test_a_deactivated_account_is_signed_out_everywhere(
    app: Flask, matrix_world: MatrixWorld, db: Any
) -> None:
    """An account switched off while signed in: every page closed to visitors asks to sign in."""
    client = _client_as(app, "coordinator")
    account = db.scalar(select(User).where(User.username == USERNAMES["coordinator"]))
    account.active = False
    db.commit()
    wrong = []
    for rule, urls in GET.items():
        for template, row in urls.items():
            if _expected(row, "anonymous") == "login":
                got = _outcome(client.get(_fill(template, matrix_world.ids)))
                if got != "login":
                    wrong.append(f"GET {template} ({rule}): got {got}")
    assert not wrong, "\n".join(wrong)


def test_a_carer_who_no_longer_helps_a_person_no_longer_sees_them(
    app: Flask, matrix_world: MatrixWorld, db: Any
) -> None:
    """Links are read at each request: the carer now helps Octave instead of Jeanne."""
    ids = matrix_world.ids
    carer = db.scalar(select(User).where(User.username == USERNAMES["carer"]))
    carer.helped_persons = [db.get(Person, ids["p_other"])]
    db.commit()
    client = _client_as(app, "carer")
    for template in (
        "/reservations/{booking_mine}",
        "/reservations/{booking_mine}/agenda.ics",
        "/reservations/{booking_mine}/annuler",
        "/cycles/{series}/inscription?pour={p_mine}",
    ):
        assert _outcome(client.get(_fill(template, ids))) == "404", template
    assert _outcome(client.get(_fill("/reservations/{booking_other}", ids))) == "200"
    for template in ("/reservations", "/", "/calendrier/{token_mine}.ics"):
        page = client.get(_fill(template, ids)).get_data(as_text=True).replace("\r\n ", "")
        assert "lienaidant" not in page.lower(), template
        assert "voisinsecret" in page.lower(), template
