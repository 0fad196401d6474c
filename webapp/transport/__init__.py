"""Coordinator pages for transport (/transport): vehicles, drivers, and each day's rounds
(build in the background, look at them on a map and a table, pin and re-solve, publish).

Coordinators and administrators only; every object is loaded within the user's centre, so
another centre's id answers 404. Also carries the `flask rounds ...` commands.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("transport", __name__, cli_group="rounds")

# The views register themselves on `bp`; imported last so they can import `bp`.
import webapp.transport.commands  # noqa: E402
import webapp.transport.day  # noqa: E402
import webapp.transport.drivers_of_day  # noqa: E402
import webapp.transport.fleet  # noqa: E402, F401
