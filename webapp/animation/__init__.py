"""Animator pages (stub: owned and replaced by the animator-pages engineer)."""

from __future__ import annotations

from flask import Blueprint, render_template

from webapp.auth import STAFF_ROLES, role_required

bp = Blueprint("animation", __name__)


@bp.get("/")
@role_required(*STAFF_ROLES)
def index() -> str:
    return render_template("animation/index.html")
