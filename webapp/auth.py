"""Accounts: sign-in, sign-out, password change, role checks and the current centre."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import flask
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from scheduling import audit
from scheduling.models import DEFAULT_TIMEZONE, Centre, Role, User
from webapp import links, reset_tokens, security
from webapp.db import get_db
from webapp.forms import NavetteForm, parse_whole_number
from webapp.mail import send_mail_in_background

bp = Blueprint("auth", __name__)
login_manager = LoginManager()

_VISITOR_CENTRE = "_navette_visitor_centre_id"  # per-request memo (flask.g)
_CENTRE = "_navette_centre"

STAFF_ROLES = (Role.admin, Role.coordinator, Role.animator)
MIN_PASSWORD_LENGTH = 10

F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Any) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Connectez-vous pour continuer."
    login_manager.login_message_category = "info"
    app.context_processor(lambda: {"STAFF_ROLES": STAFF_ROLES, "Role": Role})


@login_manager.user_loader  # type: ignore[untyped-decorator]  # flask_login ships no types
def _load_user(user_id: str) -> User | None:
    number = parse_whole_number(user_id)
    if number is None:
        return None
    user = get_db().get(User, number)
    if user is None or not user.active:
        return None
    # A session opened before the password changed is over (a stolen one too).
    if session.get(SESSION_PASSWORD_KEY) != reset_tokens.password_fingerprint(user):
        for key in ("_user_id", SESSION_PASSWORD_KEY):
            session.pop(key, None)
        return None
    return user


SESSION_PASSWORD_KEY = "_navette_pw"


def open_session(user: User) -> None:
    """Sign `user` in, tying the session to their current password."""
    login_user(user)
    session[SESSION_PASSWORD_KEY] = reset_tokens.password_fingerprint(user)


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
    # Looked up once per request: a page asks several times (its queries, the time, the links).
    if _VISITOR_CENTRE not in g:
        slug = current_app.config.get("DEFAULT_CENTRE")
        query = select(Centre.id).order_by(Centre.id).limit(1)
        if slug:
            query = select(Centre.id).where(Centre.slug == slug)
        setattr(g, _VISITOR_CENTRE, get_db().scalar(query))
    found: int | None = g.get(_VISITOR_CENTRE)
    if found is None:
        abort(404)
    return found


def current_centre() -> Centre | None:
    """The current centre's row, loaded once per request (held here, so the session's
    identity map keeps it and `db.get(Centre, id)` elsewhere in the request costs no query)."""
    centre_id = current_centre_id()
    held: Centre | None = g.get(_CENTRE)
    if held is None or held.id != centre_id:
        held = get_db().get(Centre, centre_id)
        setattr(g, _CENTRE, held)
    return held


def centre_clock(centre: Centre | None, *, to_the_second: bool = False) -> dt.datetime:
    """Now on `centre`'s wall clock (naive, as stored in the database), to the minute.

    The minute by default: what is shown and served is to the minute, and a feed or page made
    twice within one minute stays the same bytes. `to_the_second` for a stamp that must differ
    between two writes of the same minute."""
    zone = centre.zone if centre is not None else ZoneInfo(DEFAULT_TIMEZONE)
    now = dt.datetime.now(zone).replace(tzinfo=None, microsecond=0)
    return now if to_the_second else now.replace(second=0)


def centre_now() -> dt.datetime:
    """The current wall-clock time of the current centre, to the minute."""
    return centre_clock(current_centre())


def get_in_centre(model: type[Any], object_id: int, *options: Any) -> Any:
    """Load a row of the current centre by id, or answer 404 (also for another centre's row).

    `options` are loader options (`joinedload(...)`) for what the page will show of the row."""
    if object_id > 2**62:  # beyond any database integer: nothing to find
        abort(404)
    obj = get_db().get(model, object_id, options=options or None)
    if obj is None or obj.centre_id != current_centre_id():
        abort(404)
    return obj


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


class NewPasswordForm(NavetteForm):
    """Choosing a new password: the same rules on the change form and from a reset link."""

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


class PasswordChangeForm(NewPasswordForm):
    current_password = PasswordField(
        "Mot de passe actuel",
        validators=[DataRequired("Indiquez votre mot de passe actuel.")],
        render_kw={"autocomplete": "current-password"},
    )


class ForgotPasswordForm(NavetteForm):
    # Named `username` like the sign-in field: the same per-account rate limit key.
    username = StringField(
        "Identifiant ou adresse e-mail",
        validators=[
            DataRequired("Indiquez votre identifiant ou votre adresse e-mail."),
            Length(max=254),
        ],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
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


THROTTLED = (
    "Trop d'essais manqués pour ce compte ou depuis cet appareil. Attendez une dizaine de "
    "minutes avant de réessayer, ou choisissez un nouveau mot de passe avec « Mot de passe "
    "oublié ? »."
)
RESET_THROTTLED = (
    "Trop de demandes en peu de temps. Attendez une heure avant de réessayer, ou appelez le centre."
)
# Checked when the account is unknown or deactivated, so the answer takes as long as for a
# usable account.
_UNKNOWN_ACCOUNT_HASH = generate_password_hash("navette: pas de compte")


def throttled_page(endpoint: str) -> flask.Response:
    """The 429 answer of a rate-limited form: the same page, a clear message, what was typed."""
    if endpoint == "auth.sign_in":
        body = render_template("auth/sign_in.html", form=SignInForm(), error=THROTTLED)
    elif endpoint == "auth.forgot_password":
        body = render_template(
            "auth/forgot_password.html", form=ForgotPasswordForm(), error=RESET_THROTTLED
        )
    else:
        body = render_template("errors/429.html", code=429)
    # A flask Response (not werkzeug's): Flask-Limiter only uses those as the breach page.
    response: flask.Response = make_response(body, 429)
    return response


def find_user(db: Session, username: str) -> User | None:
    # Case-insensitive: a tablet often capitalises the first letter on its own.
    return db.scalar(select(User).where(func.lower(User.username) == username.lower()).limit(1))


@bp.route("/connexion", methods=["GET", "POST"])
def sign_in() -> str | Response | tuple[str, int]:
    """Sign in. Every attempt counts against rate limits per account name and address, per
    account name and per address (webapp/security.py) BEFORE the password is looked at: past
    them, the page answers 429."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = SignInForm()
    error = None
    if request.method == "POST" and not security.reserve_sign_in(
        request.form.get("username") or ""
    ):
        return throttled_page("auth.sign_in")
    if form.validate_on_submit():
        username = security.account_name(form.username.data or "")
        user = authenticate(get_db(), username, form.password.data or "")
        if user is None:
            error = "Identifiant ou mot de passe incorrect."
        else:
            security.sign_in_succeeded(username)
            open_session(user)
            flash(f"Bonjour {user.display_name}, vous êtes connecté(e).", "success")
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/sign_in.html", form=form, error=error)


def authenticate(db: Session, username: str, password: str) -> User | None:
    """The active account `username` if `password` is its password, else None.

    Exactly one password hash is checked whatever the case (unknown account, deactivated
    account, wrong or right password), so the time taken tells nothing about the account.
    """
    user = find_user(db, username)
    usable = user is not None and user.active
    stored = user.password_hash if user is not None and usable else _UNKNOWN_ACCOUNT_HASH
    matches = check_password_hash(stored, password)
    return user if usable and matches else None


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
            # This session goes on; the account's other sessions end.
            session[SESSION_PASSWORD_KEY] = reset_tokens.password_fingerprint(current_user)
            flash("Votre mot de passe est changé.", "success")
            return redirect(home_for(current_user))
    return render_template("auth/change_password.html", form=form)


# --- forgotten password: a signed link by e-mail -------------------------------------------

RESET_SENT = (
    "Si un compte correspond à ce que vous avez indiqué, un e-mail vient de partir vers "
    "l'adresse de ce compte, avec un lien pour choisir un nouveau mot de passe."
)


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
def forgot_password() -> str | Response:
    """Ask for a reset link. The answer is the same whether an account matches or not."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        for user in _accounts_matching(get_db(), form.username.data or ""):
            _send_reset_link(user)
        return render_template("auth/reset_sent.html", message=RESET_SENT, minutes=_minutes())
    return render_template("auth/forgot_password.html", form=form, error=None)


def _accounts_matching(db: Session, typed: str) -> list[User]:
    """Active accounts with an e-mail whose name or e-mail is `typed` (case-insensitive)."""
    typed = security.account_name(typed)
    found = db.scalars(
        select(User)
        .where(
            User.active.is_(True),
            User.email.is_not(None),
            (func.lower(User.username) == typed) | (func.lower(User.email) == typed),
        )
        .order_by(User.id)
        .limit(5)
    )
    return [user for user in found if (user.email or "").strip()]


def _minutes() -> int:
    return reset_tokens.max_age() // 60


def _send_reset_link(user: User) -> None:
    link = links.trusted_external_url("auth.reset_password", token=reset_tokens.make_token(user))
    if link is None:
        # The user still gets the same neutral answer; the operator must fix the setting.
        current_app.logger.error(
            "Password-reset e-mail NOT sent: set NAVETTE_BASE_URL (the site's public address, "
            "e.g. https://navette.example.fr) so that a forged Host header cannot point the "
            "e-mailed link at another site."
        )
        return
    body = (
        f"Bonjour {user.display_name},\n\n"
        f"Quelqu'un (vous, sans doute) a demandé un nouveau mot de passe pour le compte "
        f"Navette « {user.username} ».\n\n"
        f"Pour le choisir, ouvrez ce lien dans les {_minutes()} minutes :\n{link}\n\n"
        "Le lien ne sert qu'une fois. Si vous n'avez rien demandé, ne faites rien : votre mot "
        "de passe actuel reste valable.\n\n"
        "Le centre de ressources territorial"
    )
    send_mail_in_background(user.email or "", "Navette : choisir un nouveau mot de passe", body)


@bp.route("/mot-de-passe-oublie/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> str | Response | tuple[str, int]:
    """Choose a new password from the e-mailed link (same rules as the change form)."""
    db = get_db()
    user = reset_tokens.user_for_token(db, token) if len(token) <= 500 else None
    if user is None:
        return render_template("auth/reset_invalid.html"), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        audit.note_password_reset(db, user)
        user.password_hash = hash_password(form.new_password.data or "")
        security.forget_failures(user.username)
        logout_user()
        flash("Votre mot de passe est changé. Connectez-vous avec le nouveau.", "success")
        return redirect(url_for("auth.sign_in"))
    return render_template("auth/reset_password.html", form=form, user=user)
