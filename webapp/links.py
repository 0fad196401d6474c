"""Absolute links that leave the page: in e-mails, in calendar files and subscriptions.

Such a link must not be built from the request's `Host` header alone: anyone can send any
`Host`, and Navette would then e-mail a real person a link to another site (with a valid
password-reset token in it). The site's public address comes from the setting
``NAVETTE_BASE_URL`` (config ``BASE_URL``), for example ``https://navette.crt.example.fr``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request, url_for


def base_url() -> str:
    """The configured public address of the site, without a trailing slash ('' when unset)."""
    return str(current_app.config.get("BASE_URL") or "").strip().rstrip("/")


def trusted_external_url(endpoint: str, **values: Any) -> str | None:
    """An absolute link to `endpoint` whose host nobody can choose, or None.

    From ``BASE_URL`` when set; else from the request's host when that host was checked
    against ``TRUSTED_HOSTS``, or on a developer's machine (debug, tests). None otherwise: the
    caller must not send the link anywhere.
    """
    base = base_url()
    if base:
        path = url_for(endpoint, **values)
        if has_request_context() and request.script_root and path.startswith(request.script_root):
            path = path[len(request.script_root) :]  # the base URL already names the prefix
        return base + path
    app = current_app
    if app.config.get("TRUSTED_HOSTS") or app.debug or app.testing:
        return url_for(endpoint, _external=True, **values)
    return None


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link to `endpoint` for the signed-in person's own e-mail or calendar.

    From ``BASE_URL`` when set; else from the request's host, which then is the one the
    person's own browser sent (this request is theirs).
    """
    found = trusted_external_url(endpoint, **values)
    return found if found is not None else url_for(endpoint, _external=True, **values)
