"""Sending e-mail through SMTP, configured by settings.

Without MAIL_SERVER (the default on a developer's machine) each message's recipient and
subject are written to the log instead of sending it (not its body: personal data, and a
password-reset e-mail's body is a live link to take the account over).
Inside a request, `send_mail` waits for the request's transaction to be committed, so nobody
receives news of something that was rolled back.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import threading
from collections.abc import Iterable
from email.message import EmailMessage

from flask import Flask, current_app, has_request_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduling.models import Notification, NotificationChannel, NotificationKind
from webapp.db import after_commit, session_scope


def build_message(to: str, subject: str, body: str, calendar: bytes | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    # Header values come from data people typed: a line break must not forge another header.
    msg["To"] = " ".join(to.split())
    msg["Subject"] = " ".join(subject.split())
    msg.set_content(body)
    if calendar is not None:
        # The booking as an .ics file: one tap adds it to the reader's agenda.
        msg.add_attachment(calendar, maintype="text", subtype="calendar", filename="navette.ics")
    return msg


def send_mail(to: str, subject: str, body: str, calendar: bytes | None = None) -> None:
    """Send a plain-text e-mail (after commit when called during a request)."""
    msg = build_message(to, subject, body, calendar)
    if has_request_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        after_commit(lambda: _deliver(app.config, app.logger, msg))
    else:
        _deliver(current_app.config, current_app.logger, msg)


def send_mail_in_background(to: str, subject: str, body: str) -> None:
    """Send a plain-text e-mail from another thread, after commit when called in a request.

    For answers that must not tell anything by their delay: the password-reset request answers
    as fast whether an e-mail leaves or not (a slow SMTP server would otherwise show which
    accounts exist).
    """
    msg = build_message(to, subject, body)
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def start() -> None:
        threading.Thread(
            target=_deliver, args=(app.config, app.logger, msg), name="navette-mail", daemon=True
        ).start()

    if has_request_context():
        after_commit(start)
    else:
        start()


def send_notifications(notifications: Iterable[Notification]) -> None:
    """Send the outbox e-mails among `notifications` once the request is committed.

    Each sent e-mail gets its `sent_at`; phone calls stay on the staff's call list.
    """
    ids = [
        n.id for n in notifications if n.channel is NotificationChannel.email and n.sent_at is None
    ]
    if not ids:
        return
    if has_request_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        after_commit(lambda: _deliver_outbox(app, ids))
    else:
        _deliver_outbox(current_app._get_current_object(), ids)  # type: ignore[attr-defined]


def _deliver_outbox(app: Flask, ids: list[int]) -> None:
    with app.app_context(), session_scope(app) as db:
        for notification in db.scalars(select(Notification).where(Notification.id.in_(ids))):
            if notification.sent_at is not None:
                continue
            msg = build_message(
                notification.recipient,
                notification.subject,
                notification.body,
                _calendar_for(db, notification),
            )
            if _deliver(app.config, app.logger, msg):
                notification.sent_at = dt.datetime.now().replace(microsecond=0)


# Messages that confirm a place (or a place on the waitlist) carry the booking's .ics file.
CALENDAR_KINDS = (
    NotificationKind.booking_confirmed,
    NotificationKind.booking_waitlisted,
    NotificationKind.promoted_from_waitlist,
)


def _calendar_for(db: Session, notification: Notification) -> bytes | None:
    booking = notification.booking
    if booking is None or notification.kind not in CALENDAR_KINDS:
        return None
    from webapp.ical import booking_file

    return booking_file(db, booking)


def _deliver(config: dict, logger, msg: EmailMessage) -> bool:  # type: ignore[no-untyped-def, type-arg]
    """Send `msg`; tell whether it left (printing it to the log counts as sent)."""
    server = config.get("MAIL_SERVER")
    if not server:
        # Not the body: it holds personal data, and a password-reset e-mail a live sign-in link.
        logger.warning(
            "E-mail non envoyé (MAIL_SERVER absent) à %s, objet « %s » ; le texte n'est pas "
            "écrit ici (données personnelles, liens de connexion) : pour le lire, donnez un "
            "serveur SMTP (MAIL_SERVER, par exemple le puits SMTP local de la documentation).",
            msg["To"],
            msg["Subject"],
        )
        return True
    port = int(config.get("MAIL_PORT") or 25)
    smtp_class = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
    try:
        with smtp_class(server, port, timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException):
        # The booking is saved whatever happens to the e-mail; staff see the failure in the log.
        logger.exception("Échec de l'envoi d'un e-mail à %s", msg["To"])
        return False
    return True
