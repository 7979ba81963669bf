"""Instance-wide delivery settings: normalisation, environment defaults and storage in `module_configs`."""

from __future__ import annotations

import os
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.modules.notifications.models import module_configs
from mercato.modules.notifications.schemas import DeliveryConfigIn

MODULE_ID = "notifications"
CONFIG_NAME = "delivery_strategies"
DEFAULT_PANEL_PATH = "/backend/notifications"
FALSY = {"0", "false", "no", "off", "n"}


def _env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value and value.strip():
            return value.strip()
    return None


def _email_enabled_default() -> bool:
    raw = _env("NOTIFICATIONS_EMAIL_ENABLED")
    return raw is None or raw.lower() not in FALSY


def env_defaults(settings: Any = None) -> dict[str, Any]:
    """Settings shown before any are stored. Beyond the reference's variables, the sender falls back to SMTP_FROM
    and the reply-to address to the instance's initial super admin, so a fresh install shows usable values."""
    fallback_app_url = getattr(settings, "app_url", None)
    fallbacks = {"from": getattr(settings, "smtp_from", None), "replyTo": getattr(settings, "init_superadmin_email", None)}
    email: dict[str, Any] = {"enabled": _email_enabled_default()}
    for key, names in (("from", ("NOTIFICATIONS_EMAIL_FROM", "EMAIL_FROM", "ADMIN_EMAIL")),
                       ("replyTo", ("NOTIFICATIONS_EMAIL_REPLY_TO", "ADMIN_EMAIL")),
                       ("subjectPrefix", ("NOTIFICATIONS_EMAIL_SUBJECT_PREFIX",))):
        value = _env(*names) or fallbacks.get(key)
        if value:
            email[key] = value
    config: dict[str, Any] = {}
    app_url = _env("NOTIFICATIONS_APP_URL", "APPLICATION_URL", "NEXT_PUBLIC_APP_URL", "APP_URL") or fallback_app_url
    if app_url:
        config["appUrl"] = app_url
    config["panelPath"] = _env("NOTIFICATIONS_PANEL_PATH") or DEFAULT_PANEL_PATH
    config["strategies"] = {"database": {"enabled": True}, "email": email, "custom": {}}
    return config


def normalise(data: DeliveryConfigIn, raw: dict[str, Any]) -> dict[str, Any]:
    """Stored shape: database always enabled; email keys only when given; custom passed through."""
    strategies = data.strategies
    email_in = strategies.email if strategies else None
    email: dict[str, Any] = {"enabled": email_in.enabled if email_in and email_in.enabled is not None
                             else _email_enabled_default()}
    if email_in:
        for key, value in (("from", email_in.from_), ("replyTo", email_in.replyTo), ("subjectPrefix", email_in.subjectPrefix)):
            if value is not None:
                email[key] = value
    custom: dict[str, Any] = {}
    if strategies and strategies.custom:
        raw_custom = ((raw.get("strategies") or {}).get("custom")) or {}
        custom = {k: dict(v) for k, v in raw_custom.items() if isinstance(v, dict)}
    config: dict[str, Any] = {}
    if data.appUrl:
        config["appUrl"] = data.appUrl
    config["panelPath"] = data.panelPath or _env("NOTIFICATIONS_PANEL_PATH") or DEFAULT_PANEL_PATH
    config["strategies"] = {"database": {"enabled": True}, "email": email, "custom": custom}
    return config


def parse(raw: Any) -> DeliveryConfigIn:
    """Raises ValidationError (or TypeError for a non-object) on a schema violation."""
    if not isinstance(raw, dict):
        raise TypeError("delivery settings must be an object")
    return DeliveryConfigIn.model_validate(raw)


async def load(session: AsyncSession, settings: Any = None) -> dict[str, Any]:
    stored = (await session.execute(
        select(module_configs.c.value_json).where(
            module_configs.c.module_id == MODULE_ID, module_configs.c.name == CONFIG_NAME,
            module_configs.c.tenant_id.is_(None))
    )).scalar_one_or_none()
    if stored is None:
        return env_defaults(settings)
    try:
        return normalise(parse(stored), stored)
    except (ValidationError, TypeError):
        return env_defaults(settings)


async def save(session: AsyncSession, config: dict[str, Any]) -> None:
    where = (module_configs.c.module_id == MODULE_ID, module_configs.c.name == CONFIG_NAME,
             module_configs.c.tenant_id.is_(None))
    result = await session.execute(update(module_configs).where(*where).values(value_json=config, updated_at=utcnow()))
    if result.rowcount == 0:
        await session.execute(module_configs.insert().values(
            module_id=MODULE_ID, name=CONFIG_NAME, value_json=config, tenant_id=None))
