"""One-time post-upgrade actions (platform contract §2.5.5/§2.5.6), recorded in `upgrade_action_runs`."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.configs.models import UpgradeActionRun

TRUE_TOKENS = {"1", "true", "yes", "y", "on", "enable", "enabled"}
SCOPE_REQUIRED = "Select an organization and tenant to apply this upgrade."
DISABLED = "Upgrade actions are disabled"
RUN_FAILED = "We could not run this upgrade action."

Runner = Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[None]]


@dataclass(frozen=True)
class UpgradeAction:
    id: str
    version: str
    message: str
    cta_label: str
    success_message: str
    loading_label: str
    run: Runner

    def describe(self) -> dict[str, str]:
        return {"id": self.id, "version": self.version, "message": self.message.replace("{{version}}", self.version),
                "ctaLabel": self.cta_label, "successMessage": self.success_message,
                "loadingLabel": self.loading_label}


INTERACTION_STATUSES = (
    ("planned", "Planned", "#2563eb", "lucide:circle"),
    ("in_progress", "In progress", "#f59e0b", "lucide:activity"),
    ("waiting", "Waiting / blocked", "#a855f7", "lucide:pause-circle"),
    ("done", "Done", "#22c55e", "lucide:check-circle"),
    ("canceled", "Canceled", "#6b7280", "lucide:x-circle"),
)


async def _seed_interaction_statuses(session: AsyncSession, tenant_id: uuid.UUID, org_id: uuid.UUID) -> None:
    try:
        from mercato.modules.customers.service.common import ensure_dictionary_entry
    except ImportError as exc:  # customers not installed
        raise RuntimeError("UPGRADE_ACTION_NOT_AVAILABLE") from exc
    for value, _label, color, icon in INTERACTION_STATUSES:
        await ensure_dictionary_entry(session, tenant_id, org_id, "interaction_status", value, color=color, icon=icon)


async def _reconcile_attachments(session: AsyncSession, tenant_id: uuid.UUID, org_id: uuid.UUID) -> None:
    # there is no attachments module in this system: nothing is stored under a wrong organization
    return None


ACTIONS: tuple[UpgradeAction, ...] = (
    UpgradeAction(
        "customers.seed-interaction-statuses", "0.6.5",
        "Seed the interaction-statuses dictionary so CRM tasks and logged interactions can use the configurable "
        "status list.", "Seed interaction statuses", "Interaction statuses are ready.", "Seeding interaction statuses…",
        _seed_interaction_statuses),
    UpgradeAction(
        "attachments.reconcile-organization", "0.6.6",
        "Version {{version}} fixes attachments that were saved under the wrong organization. Run the reconciliation "
        "to move existing attachments to the organization of the record they belong to.",
        "Reconcile attachment organizations", "Attachment organizations reconciled.",
        "Reconciling attachment organizations…", _reconcile_attachments),
)


def enabled(env: dict[str, str] | None = None) -> bool:
    raw = (env if env is not None else os.environ).get("UPGRADE_ACTIONS_ENABLED", "")
    return raw.strip().lower() in TRUE_TOKENS


def _version_key(version: str) -> tuple[tuple[int, ...], int, str]:
    """Semantic-version order: numeric core, then a release sorts after its pre-releases."""
    core, _, pre = version.strip().lstrip("v").partition("-")
    numbers = tuple(int(n) if n.isdigit() else 0 for n in re.split(r"[.+]", core)[:3])
    numbers = numbers + (0,) * (3 - len(numbers))
    return numbers, 0 if pre else 1, pre


def applicable(app_version: str) -> list[UpgradeAction]:
    current = _version_key(app_version)
    return sorted((a for a in ACTIONS if _version_key(a.version) <= current),
                  key=lambda a: (_version_key(a.version), a.id))


async def pending(session: AsyncSession, app_version: str, tenant_id: uuid.UUID, org_id: uuid.UUID) -> list[dict]:
    done = set((await session.execute(select(UpgradeActionRun.action_id, UpgradeActionRun.version).where(
        UpgradeActionRun.tenant_id == tenant_id, UpgradeActionRun.organization_id == org_id))).all())
    todo = [a for a in applicable(app_version) if (a.id, a.version) not in done]
    return [todo[0].describe()] if todo else []


async def run(session: AsyncSession, action_id: str, tenant_id: uuid.UUID, org_id: uuid.UUID) -> tuple[str, str]:
    """(status, success message); raises LookupError/RuntimeError with the failure reason."""
    action = next((a for a in ACTIONS if a.id == action_id), None)
    if action is None:
        raise LookupError("UPGRADE_ACTION_NOT_AVAILABLE")
    where = (UpgradeActionRun.action_id == action.id, UpgradeActionRun.version == action.version,
             UpgradeActionRun.tenant_id == tenant_id, UpgradeActionRun.organization_id == org_id)
    if (await session.execute(select(UpgradeActionRun.id).where(*where))).first() is not None:
        return "already_completed", action.success_message
    try:
        async with session.begin_nested():
            await action.run(session, tenant_id, org_id)
            session.add(UpgradeActionRun(version=action.version, action_id=action.id, organization_id=org_id,
                                         tenant_id=tenant_id))
            await session.flush()
    except IntegrityError:  # a concurrent run completed it first
        return "already_completed", action.success_message
    return "completed", action.success_message


def describe_error(exc: Any) -> str:
    return str(exc) or type(exc).__name__
