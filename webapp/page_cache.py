"""A cache of the pages visitors see: the public agenda and the session pages.

Only for a GET with no session or remember-me cookie and no Authorization header (a visitor;
a signed-in user's pages are never served from here nor stored). The key is the scheme, host
and prefix (the agenda shows absolute links), the path, the query string (sorted), the
visitor's centre, the current minute of that centre's clock (the pages show "today" and hide
what has begun) and the data version (scheduling/data_version.py), which every committed
change increases: a page stored before a change is never served after it, in any gunicorn
worker, on SQLite and PostgreSQL alike.

A hit costs one tiny query (the version) and is answered from a `before_request` registered
before every other, so neither Flask-Login nor the pages' queries run. Stored: 200 answers
that set no cookie, leave the session empty and hold no form that posts (no CSRF token).
Each process keeps its last `MAX_ENTRIES` pages. Setting ``NAVETTE_PAGE_CACHE=0`` turns it off.
Answers carry ``X-Navette-Cache: hit`` or ``miss`` (nothing when the cache does not apply).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, g, request, session
from sqlalchemy import Engine, select

from scheduling.data_version import read_version_raw
from scheduling.db import READ_ONLY
from scheduling.models import DEFAULT_TIMEZONE, Centre

MAX_ENTRIES = 256
CACHED_ENDPOINTS = frozenset({"agenda.index", "agenda.show_session"})
HEADER = "X-Navette-Cache"
_KEY = "_navette_page_key"
_SKIPPED_HEADERS = frozenset({"set-cookie", "content-length", HEADER.lower()})


@dataclass(frozen=True)
class _Page:
    body: bytes
    headers: tuple[tuple[str, str], ...]


class PageCache:
    """The pages of one process, least recently used first out."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pages: OrderedDict[tuple[object, ...], _Page] = OrderedDict()
        self.lock = threading.Lock()
        # The visitor's centre (id, time zone) as of a data version and the DEFAULT_CENTRE
        # setting: any change to the centres bumps the version.
        self.centre: tuple[int, str | None, int | None, str] = (-1, None, None, "")

    def key(self) -> tuple[object, ...] | None:
        """This request's key, or None when no centre is shown (a fresh install)."""
        version = read_version_raw(self.engine)
        slug = current_app.config.get("DEFAULT_CENTRE")
        known_version, known_slug, centre_id, zone = self.centre
        if (known_version, known_slug) != (version, slug):
            # The same centre as `webapp.auth.current_centre_id` shows a visitor (read after
            # the version: at least as new as it).
            query = select(Centre.id, Centre.timezone).order_by(Centre.id).limit(1)
            if slug:
                query = select(Centre.id, Centre.timezone).where(Centre.slug == slug)
            with self.engine.connect().execution_options(**{READ_ONLY: True}) as connection:
                row = connection.execute(query).first()
            centre_id, zone = (row[0], row[1] or DEFAULT_TIMEZONE) if row else (None, "")
            self.centre = (version, slug, centre_id, zone)
        if centre_id is None:
            return None
        minute = _clock(zone).strftime("%Y-%m-%d %H:%M")
        arguments = tuple(sorted(request.args.items(multi=True)))
        # Scheme, host and prefix too: the agenda shows absolute links (its calendar feed).
        site = (request.scheme, request.host, request.script_root)
        return (*site, request.path, arguments, centre_id, minute, version)

    def get(self, key: tuple[object, ...]) -> _Page | None:
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, key: tuple[object, ...], page: _Page) -> None:
        with self.lock:
            self.pages[key] = page
            self.pages.move_to_end(key)
            while len(self.pages) > MAX_ENTRIES:
                self.pages.popitem(last=False)


def _clock(zone: str) -> dt.datetime:
    """Now, in the centre's zone (as `webapp.auth.centre_now` sees it)."""
    return dt.datetime.now(ZoneInfo(zone))


def init_app(app: Flask) -> None:
    """Serve and store visitors' pages (call last in create_app: the hooks go first)."""
    if not app.config.get("PAGE_CACHE", True):
        return
    from webapp.db import get_engine

    app.extensions["navette_page_cache"] = PageCache(get_engine(app))
    # First of the before_request hooks (a hit skips the others), last of the after_request
    # ones (they run in reverse order): the stored answer has every header the others add.
    app.before_request_funcs.setdefault(None, []).insert(0, _serve)
    app.after_request_funcs.setdefault(None, []).insert(0, _store)


def _applies() -> bool:
    cookies = request.cookies
    return (
        request.method == "GET"
        and request.endpoint in CACHED_ENDPOINTS
        and current_app.config["SESSION_COOKIE_NAME"] not in cookies
        and current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") not in cookies
        and "Authorization" not in request.headers
    )


def _serve() -> Response | None:
    if not _applies():
        return None
    cache: PageCache = current_app.extensions["navette_page_cache"]
    try:
        key = cache.key()
    except Exception as error:  # a cache must never be why a page fails
        # The database is away (or worse): render as usual, and the page's own queries meet
        # the error where webapp.errors tells an outage (503) from a bug (500).
        current_app.logger.warning("Page cache skipped: %s", type(error).__name__)
        return None
    if key is None:
        return None
    page = cache.get(key)
    if page is None:
        setattr(g, _KEY, key)  # rendered as usual, then stored by `_store`
        return None
    response = Response(page.body, headers=list(page.headers))
    response.headers[HEADER] = "hit"
    return response


def _store(response: Response) -> Response:
    key = g.pop(_KEY, None)
    if key is None:
        return response
    response.vary.add("Cookie")
    response.headers[HEADER] = "miss"
    if (
        response.status_code != 200
        or response.direct_passthrough
        or response.mimetype != "text/html"
        or "Set-Cookie" in response.headers
        or session.modified
        or len(session) > 0  # the session would be saved: a cookie for this visitor
    ):
        return response
    body = response.get_data()
    lowered = body.lower()
    if b"csrf_token" in lowered or b'method="post"' in lowered:
        return response  # a form bound to this visitor's session
    headers = tuple(
        (name, value) for name, value in response.headers if name.lower() not in _SKIPPED_HEADERS
    )
    cache: PageCache = current_app.extensions["navette_page_cache"]
    cache.put(key, _Page(body, headers))
    return response
