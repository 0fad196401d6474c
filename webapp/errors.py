"""French error pages: nobody ever sees a traceback."""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

PAGES = {400, 403, 404, 405, 429, 500}


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _render(code: int, **context: Any) -> tuple[str, int]:
    template = f"errors/{code}.html" if code in PAGES else "errors/other.html"
    return render_template(template, code=code, **context), code


def _csrf_error(_error: CSRFError) -> tuple[str, int]:
    return _render(400, csrf=True)


def _http_error(error: HTTPException) -> Any:
    if error.code is None or error.code < 400:
        return error  # redirects and the like are not errors
    # Flask wraps what fails outside the view (the commit after it) in a 500.
    cause = getattr(error, "original_exception", None)
    if isinstance(cause, Exception) and _is_disconnect(cause):
        return _database_unavailable(cause)
    return _render(error.code)


# Seconds a browser or a proxy may wait before asking again while the database is away.
RETRY_AFTER_SECONDS = 30


def _database_unavailable(error: Exception) -> tuple[str, int, dict[str, str]]:
    """The database is down, restarting or dropped the connection: a calm French 503.

    The page reads nothing from the database. The engine's pool pings (or throws away) dead
    connections, so the same process serves normally again once the database is back.
    """
    from flask import current_app

    # The driver's own message only: SQLAlchemy's text would add the query and its values.
    cause = getattr(error, "orig", None) or error
    current_app.logger.warning("Database unavailable: %s: %s", type(cause).__name__, cause)
    _forget_failed_transaction()
    # Straight from Jinja: render_template would run the context processors, and
    # Flask-Login's loads the signed-in user from the database, failing again.
    template = current_app.jinja_env.get_template("errors/503.html")
    page = template.render(code=ServiceUnavailable.code)
    return page, ServiceUnavailable.code, {"Retry-After": str(RETRY_AFTER_SECONDS)}


# What SQLite says when the file is busy or out of reach, as opposed to a wrong query (a
# missing table or column after a forgotten migration is a bug: it must stay a logged 500).
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "unable to open",
    "disk i/o",
)


def _is_disconnect(error: Exception) -> bool:
    """The database is away, busy or dropped the connection: worth a calm 503 and a retry."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError):
        return False
    if isinstance(error.orig, sqlite3.Error):
        message = str(error.orig).lower()
        return any(sign in message for sign in _SQLITE_UNAVAILABLE)
    # PostgreSQL files wrong queries under ProgrammingError; its OperationalErrors are about the
    # server: refused or lost connections, shutdown, deadlocks and lock timeouts.
    return True


def _unexpected_error(error: Exception) -> Any:
    if isinstance(error, HTTPException):
        return _http_error(error)
    if _is_disconnect(error):
        return _database_unavailable(error)
    from flask import current_app

    current_app.logger.exception("Erreur inattendue", exc_info=error)
    _forget_failed_transaction()
    return _render(InternalServerError.code)


def _forget_failed_transaction() -> None:
    """Roll back a transaction a database error left dead, so the page can read the user."""
    from flask import g

    db = g.get("db")
    if db is not None:
        try:
            db.rollback()
        except DBAPIError:  # the connection is gone: nothing left to roll back
            db.close()
