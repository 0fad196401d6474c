"""Sign-in security: rate limits (Flask-Limiter), secure cookies, HSTS, the proxy in front.

Rate limits are counted in `RATELIMIT_STORAGE_URI` (setting ``NAVETTE_RATELIMIT_STORAGE``):
memory by default (one process), Redis (``redis://127.0.0.1:6379/0``) when several gunicorn
workers or machines must share the counts. If Redis stops answering, counting goes on in each
process's memory (logged) rather than failing every sign-in.

Sign-in attempts are counted BEFORE the password is checked (`reserve_sign_in`): each one
takes a place in three limits at once, per (account name typed, address), per account name
from everywhere, and per address, atomically in the storage, so simultaneous requests cannot
all slip in under the limit. A successful sign-in clears its account's counts and gives its
address place back (`sign_in_succeeded`): the per-address count is a fixed window, a number
that can be decreased, where the others are moving windows. The account name counts whether
the account exists or not, so the answer never tells which exist. IPv6 visitors are counted
by their /64 network (one home or one phone gets a whole /64 and could otherwise change
address at every try).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

import flask
from flask import Flask, current_app, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

# Limits are read from the config at each request, so a deployment (or a test) can change them.
DEFAULT_LIMITS = {
    # A person who mistypes their password five times (from their device) waits ten minutes.
    "SIGN_IN_ACCOUNT_ADDRESS_LIMIT": "5 per 10 minutes",
    # One account from everywhere: more room, so a stranger elsewhere cannot lock its owner out
    # with five wrong tries, still far from guessing.
    "SIGN_IN_ACCOUNT_LIMIT": "30 per 10 minutes",
    # A whole centre may sit behind one address: more room, still far from guessing.
    "SIGN_IN_ADDRESS_LIMIT": "30 per 10 minutes",
    # Reset requests: a few e-mails an hour for one account, at most.
    "RESET_ACCOUNT_LIMIT": "3 per hour",
    "RESET_ADDRESS_LIMIT": "10 per hour",
    # Choosing the new password from the link.
    "RESET_FORM_ADDRESS_LIMIT": "20 per hour",
}
HSTS = "max-age=31536000"
SIGN_IN = "connexion"  # the sign-in counters' namespace in the storage


def configure(app: Flask, keep: Mapping[str, Any] | None = None) -> None:
    """Defaults of the security settings, after the settings and a test config (`keep`) were
    applied: the values `keep` gives are left as they are."""
    given = keep or {}
    for name, value in DEFAULT_LIMITS.items():
        app.config.setdefault(name, value)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "navette")
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    # Secure cookies unless explicitly disabled for plain http on one's own machine.
    secure = not app.config.get("INSECURE_COOKIES", False)
    cookies = {
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
    }
    app.config.update({name: value for name, value in cookies.items() if name not in given})


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
    # Sign-in counts when the storage (Redis) does not answer: this process's memory.
    app.extensions["navette_sign_in_fallback"] = MovingWindowRateLimiter(MemoryStorage())
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.register_error_handler(SecurityError, _untrusted_host)
    app.after_request(_hsts)

    _limit(app, limiter, "auth.forgot_password", "RESET_ACCOUNT_LIMIT", account_key)
    _limit(app, limiter, "auth.forgot_password", "RESET_ADDRESS_LIMIT", address_key)
    _limit(app, limiter, "auth.reset_password", "RESET_FORM_ADDRESS_LIMIT", address_key)


def _limit(
    app: Flask,
    limiter: Limiter,
    endpoint: str,
    setting: str,
    key: Callable[[], str],
) -> None:
    view: Callable[..., Any] = app.view_functions[endpoint]
    app.view_functions[endpoint] = limiter.limit(
        lambda: str(current_app.config[setting]),
        key_func=key,
        methods=["POST"],
        on_breach=_breach_page(endpoint),
    )(view)


def account_name(typed: str) -> str:
    """An account name as typed, normalised: spaces collapsed, lower case (the lookup is
    case-insensitive: a tablet often capitalises the first letter on its own)."""
    return " ".join(typed.split()).lower()[:254]


def account_key() -> str:
    """The account name typed in the form (empty: no account limit for this request)."""
    name = account_name(request.form.get("username") or "")
    return f"compte:{name}" if name else ""


def visitor_address() -> str:
    """The visitor's address as counted: IPv4 as is, IPv6 by its /64 network."""
    address = get_remote_address() or ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def address_key() -> str:
    return f"adresse:{visitor_address()}"


def _sign_in_limits(username: str) -> list[tuple[RateLimitItem, list[str]]]:
    """The sign-in limits that apply to this request, with their storage keys."""
    config = current_app.config
    prefix = str(config.get("RATELIMIT_KEY_PREFIX") or "")
    name = account_name(username)
    address = address_key()
    # The address's count is a fixed window (a number a success can give back), not a list.
    keys: list[tuple[str, str]] = [("SIGN_IN_ADDRESS_LIMIT", f"fenetre|{address}")]
    if name:
        account = f"compte:{name}"
        keys += [("SIGN_IN_ACCOUNT_ADDRESS_LIMIT", f"{account}|{address}")]
        keys += [("SIGN_IN_ACCOUNT_LIMIT", account)]
    return [
        (parse(str(config[setting])), [a for a in (prefix, SIGN_IN, key) if a])
        for setting, key in keys
    ]


def _run(action: Callable[[RateLimiter], bool | None]) -> bool | None:
    """Run `action` on the shared counts, or on this process's when the storage is away."""
    limiter: Limiter = current_app.extensions["navette_limiter"]
    try:
        return action(limiter.limiter)
    except Exception:
        current_app.logger.warning(
            "Rate limit storage unreachable: sign-in attempts counted in this process's memory",
            exc_info=True,
        )
        return action(current_app.extensions["navette_sign_in_fallback"])


def reserve_sign_in(username: str) -> bool:
    """Count this sign-in attempt against every limit, before the password is checked.

    False when one limit is already reached: the password must not be looked at. Each limit
    is taken atomically in the storage, so concurrent attempts cannot all pass its test.
    """
    (address_item, address_keys), *account_limits = _sign_in_limits(username)
    if not _run(_take_address_place(address_item, address_keys)):
        return False
    return all(_run(_hit(item, keys)) for item, keys in account_limits)


def _hit(item: RateLimitItem, keys: list[str]) -> Callable[[RateLimiter], bool | None]:
    return lambda strategy: strategy.hit(item, *keys)


def _take_address_place(
    item: RateLimitItem, keys: list[str]
) -> Callable[[RateLimiter], bool | None]:
    return lambda strategy: FixedWindowRateLimiter(strategy.storage).hit(item, *keys)


def _give_address_place_back(
    item: RateLimitItem, keys: list[str]
) -> Callable[[RateLimiter], bool | None]:
    def give_back(strategy: RateLimiter) -> None:
        strategy.storage.incr(item.key_for(*keys), item.get_expiry(), amount=-1)

    return give_back


def _clear(item: RateLimitItem, keys: list[str]) -> Callable[[RateLimiter], bool | None]:
    return lambda strategy: strategy.clear(item, *keys)


def sign_in_succeeded(username: str) -> None:
    """The account's owner got in: their account's counts start again, and the address gets
    its place back (a whole centre signing in from one address is never throttled). Only the
    place of this attempt: clearing the address's count would let the holder of one valid
    account try other names without end from the same address."""
    _clear_account(username)
    address_item, address_keys = _sign_in_limits(username)[0]
    try:
        _run(_give_address_place_back(address_item, address_keys))
    except Exception:  # the storage is away: the place comes back with the window
        current_app.logger.exception("Could not give a sign-in place back")


def forget_failures(username: str) -> None:
    """Clear an account's failed sign-ins (its password was just reset by its owner)."""
    _clear_account(username)


def _clear_account(username: str) -> None:
    for item, keys in _sign_in_limits(username)[1:]:  # the first is the address's
        try:
            _run(_clear(item, keys))
        except Exception:  # the storage is away: the limit simply runs its course
            current_app.logger.exception("Could not clear failed sign-ins")


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
