"""Signed, time-limited, single-use links to choose a new password.

The token carries the account id and a fingerprint of the account's CURRENT password hash,
signed with the app's secret key (itsdangerous). Once the password changes (through this link or
otherwise), the fingerprint no longer matches: the link is dead. It also dies after
`PASSWORD_RESET_MAX_AGE` seconds (one hour by default) and when the account is deactivated.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from scheduling.models import User

SALT = "navette.password-reset"
DEFAULT_MAX_AGE = 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def password_fingerprint(user: User) -> str:
    # Only a digest of the hash travels in the link: the link is signed, not encrypted.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:32]


def max_age() -> int:
    return int(current_app.config.get("PASSWORD_RESET_MAX_AGE") or DEFAULT_MAX_AGE)


def make_token(user: User) -> str:
    return _serializer().dumps({"id": user.id, "pw": password_fingerprint(user)})


def user_for_token(db: Session, token: str) -> User | None:
    """The active account the token was made for, if it is genuine, recent and unused."""
    try:
        data = _serializer().loads(token, max_age=max_age())
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        return None
    user = db.get(User, data["id"])
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(str(data.get("pw", "")), password_fingerprint(user)):
        return None
    return user
