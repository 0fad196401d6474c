"""The accessibility statement (/accessibilite), linked from every page's footer.

RGAA asks every public-facing service to say how accessible it is, what was checked and how,
what is known not to work, and where to complain. The page is static: it says what the browser
tests of tests/e2e/ check on every release.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template

bp = Blueprint("accessibility", __name__)

# The day the checks described on the page were last run in full (tests/e2e/).
CHECKED_ON = dt.date(2026, 11, 22)


@bp.get("/accessibilite")
def statement() -> str:
    return render_template("accessibility/statement.html", checked_on=CHECKED_ON)
