"""Navette's web shell: `create_app()` wires settings, database, accounts and blueprints."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from flask_wtf.csrf import CSRFProtect

from webapp import config as settings

csrf = CSRFProtect()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. Only wiring here: no migration, no network, no table creation."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.update(settings.settings_from_env())
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # a slow reader must not lose the form they were filling in
    )
    if test_config:
        app.config.update(test_config)
    from webapp import security

    security.configure(app, keep=test_config)  # secure cookies, rate limits (webapp/security.py)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key_from_instance(app.instance_path)
    app.config["DATABASE_URL"] = settings.absolute_sqlite_url(
        app.config["DATABASE_URL"], app.root_path
    )

    from webapp import auth, db, errors, fr

    db.init_app(app)
    csrf.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    fr.init_app(app)

    from webapp.accessibility import bp as accessibility_bp
    from webapp.agenda import bp as agenda_bp
    from webapp.animation import bp as animation_bp
    from webapp.bookings import bp as bookings_bp
    from webapp.calendar import bp as calendar_bp
    from webapp.driver import bp as driver_bp
    from webapp.journal import bp as journal_bp
    from webapp.privacy import bp as privacy_bp
    from webapp.reports import bp as reports_bp
    from webapp.transport import bp as transport_bp

    app.register_blueprint(auth.bp)
    app.register_blueprint(agenda_bp)
    app.register_blueprint(accessibility_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(bookings_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(animation_bp, url_prefix="/animation")
    app.register_blueprint(reports_bp, url_prefix="/rapports")
    app.register_blueprint(driver_bp, url_prefix="/chauffeur")
    app.register_blueprint(transport_bp, url_prefix="/transport")
    app.register_blueprint(journal_bp)
    security.init_app(app)  # rate limits wrap the views registered above

    from webapp import jobs
    from webapp.demo import demo_command
    from webapp.retention import privacy_cli

    jobs.init_app(app)  # the embedded worker also runs the nightly retention purge
    app.cli.add_command(demo_command)
    app.cli.add_command(privacy_cli)
    app.after_request(_security_headers)
    from webapp import page_cache

    page_cache.init_app(app)  # visitors' agenda pages: its hooks run before/after all others
    return app


# Everything is served by Navette itself: no CDN, no web font, no third-party script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
