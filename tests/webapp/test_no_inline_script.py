"""The Content-Security-Policy forbids inline scripts: no template may rely on one."""

from __future__ import annotations

import re
from pathlib import Path

from webapp import CONTENT_SECURITY_POLICY

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_the_policy_allows_no_inline_script():
    script_src = next(
        part for part in CONTENT_SECURITY_POLICY.split(";") if "script-src" in part
    ).split()
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I | re.S)


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        if INLINE_SCRIPT.search(text) or HANDLER.search(text) or "javascript:" in text:
            offenders.append(str(path.relative_to(TEMPLATES)))
    assert offenders == [], f"le CSP les bloquerait : {offenders}"
