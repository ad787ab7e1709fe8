"""E-mail through the configured SMTP server (standard library smtplib/email).

`send_all` opens one connection for a batch of messages and reports per address whether the server
accepted it. It never raises: an unreachable or refusing server is logged and reported as failed, so a
notification is never lost because of the mail system (the workspace copy is stored first).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import structlog

from urbandata.config import Settings

log = structlog.get_logger("urbandata.notify")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def mail_enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def _message(settings: Settings, mail: Mail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = settings.smtp_from.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to notifications
    msg.set_content(mail.body)
    return msg


def _connect(settings: Settings) -> smtplib.SMTP:
    host, port, timeout = settings.smtp_host or "", settings.smtp_port, settings.smtp_timeout_seconds
    if port == 465:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
    if settings.smtp_user:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
        smtp.login(settings.smtp_user, password)
    return smtp


def send_all(settings: Settings, mails: list[Mail]) -> list[bool]:
    """Send each mail; True where the server accepted it. Never raises (failures are logged)."""
    if not mails or not mail_enabled(settings):
        return [False] * len(mails)
    try:
        smtp = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("smtp.unavailable", host=settings.smtp_host, port=settings.smtp_port, error=str(exc))
        return [False] * len(mails)
    results: list[bool] = []
    try:
        for mail in mails:
            try:
                smtp.send_message(_message(settings, mail))
                results.append(True)
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("smtp.send_failed", to=mail.to, error=str(exc))
                results.append(False)
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return results
