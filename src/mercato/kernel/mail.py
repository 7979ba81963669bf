"""Outgoing e-mail: SMTP when SMTP_HOST is set; otherwise recorded in `app.state.outbox` and logged, never sent."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from mercato.kernel.db import utcnow

log = logging.getLogger("mercato.mail")


@dataclass
class OutgoingMail:
    to: str
    subject: str
    text: str
    html: str | None = None
    sent_at: datetime = field(default_factory=utcnow)


def outbox(app: Any) -> list[OutgoingMail]:
    box = getattr(app.state, "outbox", None)
    if box is None:
        box = []
        app.state.outbox = box
    return box


def _smtp_send(settings: Any, mail: OutgoingMail) -> None:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg.set_content(mail.text)
    if mail.html:
        msg.add_alternative(mail.html, subtype="html")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_port != 25:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(msg)


async def send_mail(app: Any, to: str, subject: str, text: str, html: str | None = None) -> None:
    """Raises on SMTP failure; callers decide whether a failed e-mail fails the request."""
    mail = OutgoingMail(to=to, subject=subject, text=text, html=html)
    settings = app.state.settings
    if not settings.smtp_host:
        outbox(app).append(mail)
        log.info("mail not sent (no SMTP_HOST): to=%s subject=%s", to, subject)
        return
    await asyncio.to_thread(_smtp_send, settings, mail)
