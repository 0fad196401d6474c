"""Animator pages (/animation): activities and sessions, bookings by phone, rosters and
attendance, cancelling a session and the staff's call list.

Only staff (animator, coordinator, admin) get in; every object is loaded within the user's
centre, so another centre's id answers 404. The views call the scheduling use-cases, which only
flush: the request commits, then the e-mails leave (webapp.mail).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("animation", __name__)

# The views register themselves on `bp`; imported last so they can import `bp`.
import webapp.animation.activities  # noqa: E402
import webapp.animation.cancellation  # noqa: E402
import webapp.animation.phone  # noqa: E402
import webapp.animation.roster  # noqa: E402, F401
