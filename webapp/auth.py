"""Accounts: sign-in, sign-out, password change, role checks and the current centre."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

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
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from scheduling.models import Centre, Role, User
from webapp.db import get_db
from webapp.forms import NavetteForm

bp = Blueprint("auth", __name__)
login_manager = LoginManager()

STAFF_ROLES = (Role.admin, Role.coordinator, Role.animator)
MIN_PASSWORD_LENGTH = 10

F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Any) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Connectez-vous pour continuer."
    login_manager.login_message_category = "info"
    app.extensions["navette_login_failures"] = {}
    app.context_processor(lambda: {"STAFF_ROLES": STAFF_ROLES, "Role": Role})


@login_manager.user_loader  # type: ignore[untyped-decorator]  # flask_login ships no types
def _load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = get_db().get(User, int(user_id))
    return user if user is not None and user.active else None


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def password_matches(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def role_required(*roles: Role | str) -> Callable[[F], F]:
    """Let only signed-in users with one of `roles` through (others: sign-in page or 403)."""
    allowed = {Role(r) for r in roles}

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def current_centre_id() -> int:
    """The centre whose data this request may see.

    A signed-in user sees their own centre only. A visitor sees the deployment's default centre
    (setting DEFAULT_CENTRE, a slug) or, failing that, the first centre.
    """
    if current_user.is_authenticated:
        centre_id: int = current_user.centre_id
        return centre_id
    db = get_db()
    slug = current_app.config.get("DEFAULT_CENTRE")
    query = select(Centre.id).order_by(Centre.id).limit(1)
    if slug:
        query = select(Centre.id).where(Centre.slug == slug)
    found = db.scalar(query)
    if found is None:
        abort(404)
    return found


def centre_now() -> dt.datetime:
    """The current wall-clock time of the current centre (naive, as stored in the database)."""
    zone = "Europe/Paris"
    centre = get_db().get(Centre, current_centre_id())
    if centre is not None and centre.timezone:
        zone = centre.timezone
    return dt.datetime.now(ZoneInfo(zone)).replace(tzinfo=None, second=0, microsecond=0)


def get_in_centre(model: type[Any], object_id: int) -> Any:
    """Load a row of the current centre by id, or answer 404 (also for another centre's row)."""
    if object_id > 2**62:  # beyond any database integer: nothing to find
        abort(404)
    obj = get_db().get(model, object_id)
    if obj is None or obj.centre_id != current_centre_id():
        abort(404)
    return obj


# --- sign-in rate limit: kept in memory, per process, by address and user name -------------


def _failures() -> dict[tuple[str, str], list[float]]:
    failures: dict[tuple[str, str], list[float]] = current_app.extensions["navette_login_failures"]
    return failures


def _recent_failures(key: tuple[str, str]) -> list[float]:
    window = current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    now = time.monotonic()
    recent = [t for t in _failures().get(key, []) if now - t < window]
    _failures()[key] = recent
    return recent


def _too_many_failures(key: tuple[str, str]) -> bool:
    limit: int = current_app.config["LOGIN_MAX_FAILURES"]
    return len(_recent_failures(key)) >= limit


def _record_failure(key: tuple[str, str]) -> None:
    _recent_failures(key).append(time.monotonic())


# --- forms and views ----------------------------------------------------------------------


class SignInForm(NavetteForm):
    username = StringField(
        "Identifiant",
        validators=[DataRequired("Indiquez votre identifiant."), Length(max=80)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        "Mot de passe",
        validators=[DataRequired("Indiquez votre mot de passe."), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordChangeForm(NavetteForm):
    current_password = PasswordField(
        "Mot de passe actuel",
        validators=[DataRequired("Indiquez votre mot de passe actuel.")],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "Nouveau mot de passe",
        description=f"Au moins {MIN_PASSWORD_LENGTH} caractères.",
        validators=[
            DataRequired("Choisissez un nouveau mot de passe."),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=f"Le mot de passe doit faire au moins {MIN_PASSWORD_LENGTH} caractères.",
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "Nouveau mot de passe, une seconde fois",
        validators=[
            DataRequired("Retapez le nouveau mot de passe."),
            EqualTo("new_password", "Les deux mots de passe ne sont pas identiques."),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def _safe_next(target: str | None) -> str | None:
    """Accept only a path on this site as the page to return to after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user: User) -> str:
    if user.role is Role.driver:
        return url_for("driver.index")
    if user.role in STAFF_ROLES:
        return url_for("animation.index")
    if user.role is Role.carer or user.person_id is not None:
        return url_for("bookings.list_bookings")
    return url_for("agenda.index")


@bp.route("/connexion", methods=["GET", "POST"])
def sign_in() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        username = (form.username.data or "").strip()
        key = (request.remote_addr or "?", username.lower())
        if _too_many_failures(key):
            error = "Trop d'essais manqués. Attendez quelques minutes avant de réessayer."
            return render_template("auth/sign_in.html", form=form, error=error), 429
        # Case-insensitive: a tablet often capitalises the first letter on its own.
        user = get_db().scalar(
            select(User).where(func.lower(User.username) == username.lower()).limit(1)
        )
        if user is None or not user.active or not password_matches(user, form.password.data or ""):
            _record_failure(key)
            error = "Identifiant ou mot de passe incorrect."
        else:
            _failures().pop(key, None)
            login_user(user)
            flash(f"Bonjour {user.display_name}, vous êtes connecté(e).", "success")
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/sign_in.html", form=form, error=error)


@bp.post("/deconnexion")
def sign_out() -> Response:
    logout_user()
    flash("Vous êtes déconnecté(e). À bientôt.", "success")
    return redirect(url_for("agenda.index"))


@bp.route("/mot-de-passe", methods=["GET", "POST"])
@login_required  # type: ignore[untyped-decorator]
def change_password() -> str | Response:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not password_matches(current_user, form.current_password.data or ""):
            form.current_password.errors.append("Ce n'est pas votre mot de passe actuel.")
        else:
            current_user.password_hash = hash_password(form.new_password.data or "")
            flash("Votre mot de passe est changé.", "success")
            return redirect(home_for(current_user))
    return render_template("auth/change_password.html", form=form)
