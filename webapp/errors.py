"""French error pages: nobody ever sees a traceback."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

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
    return _render(error.code)


def _unexpected_error(error: Exception) -> tuple[str, int]:
    if isinstance(error, HTTPException):
        return _http_error(error)  # type: ignore[no-any-return]
    from flask import current_app

    current_app.logger.exception("Erreur inattendue", exc_info=error)
    _forget_failed_transaction()
    return _render(InternalServerError.code)


def _forget_failed_transaction() -> None:
    """Roll back a transaction a database error left dead, so the page can read the user."""
    from flask import g

    db = g.get("db")
    if db is not None:
        db.rollback()
