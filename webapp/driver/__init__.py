"""Drivers' pages (/chauffeur): their rounds, the route sheet on a phone and as a large-print
PDF, marks at each stop; and, for the coordination, the welfare alerts raised at a door.

A driver opens only their own published rounds; coordinators and administrators open every
round of their centre. Anything else answers 404, so nobody learns that a round exists.
The views call scheduling.driving, which only flushes: the request commits, then e-mails leave.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("driver", __name__)

# The views register themselves on `bp`; imported last so they can import `bp`.
import webapp.driver.views  # noqa: E402, F401
