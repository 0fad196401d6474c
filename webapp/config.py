"""Settings of the web shell, read from the environment with safe defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///instance/navette.sqlite3"
DEFAULT_RETENTION_MONTHS = 36
TRUTHY = ("1", "true", "yes")


def settings_from_env() -> dict[str, object]:
    """Return the settings a deployment controls through environment variables."""
    env = os.environ
    return {
        "DATABASE_URL": env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": env.get("MAIL_USE_TLS", "") in ("1", "true", "yes"),
        "MAIL_USE_SSL": env.get("MAIL_USE_SSL", "") in ("1", "true", "yes"),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "navette@localhost"),
        "DEFAULT_CENTRE": env.get("NAVETTE_DEFAULT_CENTRE") or None,
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        # Sign-in security (webapp/security.py) and retention (scheduling/privacy.py).
        "RATELIMIT_STORAGE_URI": (
            env.get("NAVETTE_RATELIMIT_STORAGE") or env.get("RATELIMIT_STORAGE_URI") or "memory://"
        ),
        "INSECURE_COOKIES": env.get("NAVETTE_INSECURE_COOKIES", "").lower() in TRUTHY,
        "TRUSTED_PROXIES": int(env.get("NAVETTE_TRUSTED_PROXIES") or 0),
        "TRUSTED_HOSTS": _list(env.get("NAVETTE_TRUSTED_HOSTS")),
        # The site's public address: links in e-mails never come from the request's Host.
        "BASE_URL": env.get("NAVETTE_BASE_URL") or None,
        "RETENTION_MONTHS": int(env.get("NAVETTE_RETENTION_MONTHS") or DEFAULT_RETENTION_MONTHS),
        # Visitors' agenda and session pages kept in memory (webapp/page_cache.py); 0 turns off.
        "PAGE_CACHE": env.get("NAVETTE_PAGE_CACHE", "1").lower() not in ("0", "false", "no"),
    }


def _list(value: str | None) -> list[str] | None:
    """A comma-separated list, or None when unset."""
    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    return items or None


def secret_key_from_instance(instance_path: str) -> str:
    """Read the instance secret key, generating it on first run.

    The key must never live in the repository, so it is kept in the (git-ignored) instance
    folder, readable by its owner only.
    """
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def absolute_sqlite_url(url: str, root_path: str) -> str:
    """Make a relative SQLite path relative to the project root, not to the current directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        relative = url[len(prefix) :]
        absolute = Path(root_path).parent / relative
        absolute.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(absolute)
    return url
