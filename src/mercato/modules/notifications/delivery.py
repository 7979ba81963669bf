"""Delivery of created notifications beyond the in-app inbox: email and strategies registered by modules.

The `notifications.created` subscriber enqueues a background job, so a slow mail server never delays the
request that created the notification. Other modules add strategies through their manifest:
`providers={"notification_strategies": [MyStrategy()]}` where a strategy has `id`, `priority` (lower first),
`default_enabled` and `async deliver(app, delivery: dict, config: Any)`.
"""

from __future__ import annotations

import asyncio
import html
import logging
import smtplib
import uuid
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode, urlparse

from sqlalchemy import select

from mercato.kernel.jobs import enqueue, job
from mercato.modules.auth.models import User
from mercato.modules.notifications import delivery_settings
from mercato.modules.notifications.models import Notification

log = logging.getLogger("mercato.notifications")
DELIVER_JOB = "notifications.deliver"
CLEANUP_JOB = "notifications.cleanup_expired"


def configure(app: Any) -> None:
    """Manifest `configure` hook: subscribe the delivery job to created notifications."""

    async def on_created(_name: str, payload: dict[str, Any]) -> None:
        await enqueue(app, DELIVER_JOB, notification_id=payload.get("notificationId"), tenant_id=payload.get("tenantId"))

    app.state.events.subscribe("notifications.created", on_created)


def _interpolate(text: str | None, variables: dict[str, str] | None) -> str | None:
    if text is None or not variables:
        return text
    for key, value in variables.items():
        text = text.replace("{" + key + "}", str(value)).replace("{{" + key + "}}", str(value))
    return text


def build_delivery(n: Notification, recipient: User, config: dict[str, Any], fallback_base: str | None) -> dict[str, Any]:
    """Rendered content and absolute links for one notification (no translation catalogue: keys fall back
    to the stored literal text)."""
    base = (config.get("appUrl") or fallback_base or "").rstrip("/")
    panel_url = f"{base}{config.get('panelPath') or delivery_settings.DEFAULT_PANEL_PATH}" if base else None
    panel_link = f"{panel_url}?{urlencode({'notificationId': str(n.id)})}" if panel_url else None
    origin = ""
    if panel_url:
        parsed = urlparse(panel_url)
        origin = f"{parsed.scheme}://{parsed.netloc}"
    actions = []
    for action in (n.action_data or {}).get("actions") or []:
        href = action.get("href")
        if href:
            href = origin + href.replace("{sourceEntityId}", str(n.source_entity_id) if n.source_entity_id else "", 1)
        actions.append({"id": action.get("id"), "label": action.get("label"), "href": href or panel_link})
    return {
        "notificationId": str(n.id), "tenantId": str(n.tenant_id), "type": n.type,
        "title": _interpolate(n.title, n.title_variables) or "", "body": _interpolate(n.body, n.body_variables),
        "severity": n.severity, "recipient": {"id": str(recipient.id), "email": recipient.email, "name": recipient.name},
        "panelUrl": panel_url, "panelLink": panel_link, "actions": actions,
    }


def render_email(delivery: dict[str, Any], email_config: dict[str, Any]) -> EmailMessage:
    prefix = email_config.get("subjectPrefix")
    msg = EmailMessage()
    msg["Subject"] = f"{prefix} {delivery['title']}" if prefix else delivery["title"]
    msg["To"] = delivery["recipient"]["email"]
    if email_config.get("from"):
        msg["From"] = email_config["from"]
    if email_config.get("replyTo"):
        msg["Reply-To"] = email_config["replyTo"]
    lines = [delivery["title"], "", delivery["body"] or ""]
    lines += [f"{a['label']}: {a['href']}" for a in delivery["actions"] if a.get("href")]
    lines += ["", f"Open the notification center: {delivery['panelLink']}"]
    msg.set_content("\n".join(lines))
    links = "".join(f'<li><a href="{html.escape(a["href"])}">{html.escape(a["label"] or "")}</a></li>'
                    for a in delivery["actions"] if a.get("href"))
    msg.add_alternative(
        f"<h2>{html.escape(delivery['title'])}</h2><p>{html.escape(delivery['body'] or '')}</p>"
        f"{f'<ul>{links}</ul>' if links else ''}"
        f'<p><a href="{html.escape(delivery["panelLink"])}">Open the notification center</a></p>', subtype="html")
    return msg


def send_email(settings: Any, message: EmailMessage) -> None:
    """Blocking SMTP send (run in a worker thread)."""
    if message.get("From") is None:
        message["From"] = settings.smtp_from
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_port != 25:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


def strategies(app: Any) -> list[Any]:
    found = []
    for module in app.state.registry.modules:
        found.extend(module.providers.get("notification_strategies") or [])
    return sorted(found, key=lambda s: getattr(s, "priority", 100))


@job(DELIVER_JOB)
async def deliver(app: Any, notification_id: str | None = None, tenant_id: str | None = None) -> None:
    try:
        nid, tid = uuid.UUID(str(notification_id)), uuid.UUID(str(tenant_id))
    except ValueError:
        return
    settings = app.state.settings
    async with app.state.db.sessionmaker() as session:
        config = await delivery_settings.load(session, settings)
        n = (await session.execute(select(Notification).where(Notification.id == nid, Notification.tenant_id == tid))).scalar_one_or_none()
        if n is None:
            return
        recipient_q = select(User).where(User.id == n.recipient_user_id, User.tenant_id == tid, User.deleted_at.is_(None))
        if n.organization_id is not None:
            recipient_q = recipient_q.where(User.organization_id == n.organization_id)
        recipient = (await session.execute(recipient_q)).scalar_one_or_none()
    if recipient is None:
        return
    delivery = build_delivery(n, recipient, config, settings.app_url)
    email_config = config["strategies"]["email"]
    if email_config.get("enabled") and recipient.email and delivery["panelLink"] and settings.smtp_host:
        try:
            await asyncio.to_thread(send_email, settings, render_email(delivery, email_config))
        except Exception:
            log.exception("notification email failed for %s", nid)
    custom = config["strategies"].get("custom") or {}
    for strategy in strategies(app):
        entry = custom.get(strategy.id) or {}
        enabled = entry.get("enabled")
        if enabled is None:
            enabled = bool(getattr(strategy, "default_enabled", False))
        if not enabled:
            continue
        try:
            await strategy.deliver(app, delivery, entry.get("config"))
        except Exception:
            log.exception("notification strategy %s failed for %s", strategy.id, nid)


@job(CLEANUP_JOB)
async def cleanup_expired_job(app: Any) -> None:
    from mercato.modules.notifications.service import cleanup_expired

    async with app.state.db.sessionmaker() as session, session.begin():
        count = await cleanup_expired(session)
    log.info("dismissed %s expired notifications", count)
