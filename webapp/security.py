"""Sign-in security: rate limits (Flask-Limiter), secure cookies, HSTS, the proxy in front.

Rate limits are counted in `RATELIMIT_STORAGE_URI` (setting ``NAVETTE_RATELIMIT_STORAGE``):
memory by default (one process), Redis (``redis://127.0.0.1:6379/0``) when several gunicorn
workers or machines must share the counts. If Redis stops answering, counting goes on in each
process's memory (logged) rather than failing every sign-in.

Only sign-in FAILURES count (a mistyped password), per account name typed and per address; the
account name counts whether the account exists or not, so the answer never tells which exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
from flask import Flask, current_app, g, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import parse
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

# Limits are read from the config at each request, so a deployment (or a test) can change them.
DEFAULT_LIMITS = {
    # A person who mistypes their password five times waits ten minutes.
    "SIGN_IN_ACCOUNT_LIMIT": "5 per 10 minutes",
    # A whole centre may sit behind one address: more room, still far from guessing.
    "SIGN_IN_ADDRESS_LIMIT": "30 per 10 minutes",
    # Reset requests: a few e-mails an hour for one account, at most.
    "RESET_ACCOUNT_LIMIT": "3 per hour",
    "RESET_ADDRESS_LIMIT": "10 per hour",
    # Choosing the new password from the link.
    "RESET_FORM_ADDRESS_LIMIT": "20 per hour",
}
HSTS = "max-age=31536000"
TRUTHY = ("1", "true", "yes")


def configure(app: Flask) -> None:
    """Defaults of the security settings (before the test config overrides them)."""
    for name, value in DEFAULT_LIMITS.items():
        app.config.setdefault(name, value)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "navette")
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    # Secure cookies unless explicitly disabled for plain http on one's own machine.
    secure = not app.config.get("INSECURE_COOKIES", False)
    app.config.update(SESSION_COOKIE_SECURE=secure, REMEMBER_COOKIE_SECURE=secure)
    app.config.update(REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax")


def init_app(app: Flask) -> None:
    """Wire the limiter onto the app's views (call after the blueprints are registered)."""
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        # Behind nginx every request comes from 127.0.0.1: read the visitor's address (and the
        # scheme) from the headers the trusted proxies add, and only from them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    limiter = Limiter(get_remote_address, in_memory_fallback_enabled=True)
    limiter.init_app(app)
    app.extensions["navette_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.register_error_handler(SecurityError, _untrusted_host)
    app.after_request(_hsts)

    failed = _failed
    _limit(app, limiter, "auth.sign_in", "SIGN_IN_ACCOUNT_LIMIT", account_key, deduct_when=failed)
    _limit(app, limiter, "auth.sign_in", "SIGN_IN_ADDRESS_LIMIT", address_key, deduct_when=failed)
    _limit(app, limiter, "auth.forgot_password", "RESET_ACCOUNT_LIMIT", account_key)
    _limit(app, limiter, "auth.forgot_password", "RESET_ADDRESS_LIMIT", address_key)
    _limit(app, limiter, "auth.reset_password", "RESET_FORM_ADDRESS_LIMIT", address_key)


def _limit(
    app: Flask,
    limiter: Limiter,
    endpoint: str,
    setting: str,
    key: Callable[[], str],
    *,
    deduct_when: Callable[[Response], bool] | None = None,
) -> None:
    view: Callable[..., Any] = app.view_functions[endpoint]
    app.view_functions[endpoint] = limiter.limit(
        lambda: str(current_app.config[setting]),
        key_func=key,
        methods=["POST"],
        deduct_when=deduct_when,
        on_breach=_breach_page(endpoint),
    )(view)


def account_key() -> str:
    """The account name typed in the form (empty: no account limit for this request)."""
    name = " ".join((request.form.get("username") or "").split()).lower()[:254]
    return f"compte:{name}" if name else ""


def address_key() -> str:
    return f"adresse:{get_remote_address()}"


def mark_failure() -> None:
    """The view tells that this sign-in failed: it counts against the limits."""
    g.navette_sign_in_failed = True


def _failed(_response: Response) -> bool:
    return bool(g.get("navette_sign_in_failed"))


def forget_failures(username: str) -> None:
    """Clear an account's failed sign-ins (its password was just reset by its owner)."""
    limiter: Limiter = current_app.extensions["navette_limiter"]
    name = " ".join(username.split()).lower()
    item = parse(str(current_app.config["SIGN_IN_ACCOUNT_LIMIT"]))
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    args = [a for a in (prefix, f"compte:{name}", "auth.sign_in") if a]
    try:
        limiter.limiter.clear(item, *args)
    except Exception:  # the storage is away: the limit simply runs its course
        current_app.logger.exception("Impossible d'effacer les essais manqués de %s", name)


def _breach_page(endpoint: str) -> Callable[[Any], flask.Response | None]:
    def page(_limit: Any) -> flask.Response | None:
        from webapp import auth

        return auth.throttled_page(endpoint)

    return page


def _too_many(error: RateLimitExceeded) -> Any:
    if error.response is not None:
        return error.response
    return render_template("errors/429.html", code=429), 429


def _untrusted_host(_error: SecurityError) -> tuple[str, int]:
    """A Host header outside NAVETTE_TRUSTED_HOSTS: no page can be built (every link would
    point to that host), so a bare French answer."""
    return (
        "<!doctype html><html lang=fr><title>Adresse non reconnue</title>"
        "<p>Cette adresse ne correspond pas à ce site Navette.</p></html>",
        400,
    )


def _hsts(response: Response) -> Response:
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
