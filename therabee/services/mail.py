"""Outgoing mail: SMTP when `smtp_host` is set, otherwise the log (the default set-up).

Every message also lands in `outbox` (the most recent ones), which tests read.
Callers write neutral texts: no names, no notes (DESIGN.md rule 8).
"""

from __future__ import annotations

import logging
import smtplib
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage

from therabee.settings import get_settings

log = logging.getLogger(__name__)
SMTP_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


outbox: deque[Mail] = deque(maxlen=1000)
_outbox_lock = threading.Lock()


def masked(address: str) -> str:
    """`j***@example.org`: enough to tell mails apart in a log, not who gets them."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def send(to: str, subject: str, body: str) -> None:
    """Send one plain-text mail; SMTP errors propagate (the caller decides to retry)."""
    settings = get_settings()
    mail = Mail(to, subject, body)
    if settings.smtp_host:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = settings.mail_from, to, subject
        message.set_content(body)
        smtp_class = smtplib.SMTP_SSL if settings.smtp_port == 465 else smtplib.SMTP
        with smtp_class(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if smtp_class is smtplib.SMTP:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls()
                    smtp.ehlo()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
        log.debug("mail sent to %s: %s", masked(to), subject)
    else:
        log.info("mail (no SMTP host set) to %s: %s\n%s", masked(to), subject, body)
    with _outbox_lock:
        outbox.append(mail)
