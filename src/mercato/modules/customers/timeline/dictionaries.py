"""Customer dictionaries (per-org value lists), kind settings and org settings (contract §5.9, §5.10)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.commands import Command, CommandRuntime, LoggedAction, LogMeta, register_command
from mercato.kernel.context import parse_uuid
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.customers.models import CustomerDictionaryEntry, CustomerPersonCompanyRole, CustomerSettings
from mercato.modules.customers.timeline.common import HEX_COLOR
from mercato.modules.customers.timeline.models import CustomerDictionaryKindSetting, CustomerEntityRole

ROUTE_KINDS = {
    "statuses": "status", "sources": "source", "lifecycle-stages": "lifecycle_stage", "address-types": "address_type",
    "activity-types": "activity_type", "deal-statuses": "deal_status", "pipeline-stages": "pipeline_stage",
    "job-titles": "job_title", "industries": "industry", "temperature": "temperature",
    "renewal-quarters": "renewal_quarter", "person-company-roles": "person_company_role",
    "interaction-statuses": "interaction_status",
}
CUSTOM_KIND = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SORT_MODES = ("label_asc", "label_desc", "value_asc", "value_desc", "created_at_asc", "created_at_desc")
LOAD_FAILED = "Failed to load dictionary entries"
E = CustomerDictionaryEntry

_L = "lucide:"
SEED: dict[str, list[tuple[str, str, str | None, str | None]]] = {
    "status": [("active", "Active", "#22c55e", "user-check"), ("inactive", "Inactive", "#94a3b8", "pause-circle"),
               ("pending", "Pending", "#f59e0b", "clock"), ("archived", "Archived", "#64748b", "archive")],
    "source": [("linkedin", "LinkedIn", "#0a66c2", "linkedin"), ("email", "Email", "#3b82f6", "mail"),
               ("web_form", "Web form", "#22c55e", "globe"), ("referral", "Referral", "#8b5cf6", "users"),
               ("customer_referral", "Customer referral", "#22c55e", "thumbs-up"),
               ("partner_referral", "Partner referral", "#3b82f6", "handshake"),
               ("event", "Conference / Event", "#f59e0b", "calendar"),
               ("cold_outreach", "Cold outreach", "#94a3b8", "phone"), ("facebook", "Facebook", "#1877f2", "facebook"),
               ("typeform", "Typeform", "#262627", "file-text"), ("other", "Other", "#64748b", "circle")],
    "lifecycle_stage": [("lead", "Lead", "#3b82f6", "sparkles"), ("prospect", "Prospect", "#8b5cf6", "eye"),
                        ("customer", "Customer", "#22c55e", "handshake"), ("subscriber", "Subscriber", "#10b981", "bell"),
                        ("churned", "Churned", "#ef4444", "user-x"), ("other", "Other", "#94a3b8", "circle")],
    "address_type": [("office", "Office", "#3b82f6", "building"), ("work", "Work", "#6366f1", "briefcase"),
                     ("billing", "Billing", "#f97316", "wallet"), ("shipping", "Shipping", "#22c55e", "truck"),
                     ("home", "Home", "#10b981", "map-pin")],
    "activity_type": [("call", "Call", "#2563eb", "phone-call"), ("email", "Email", "#16a34a", "mail"),
                      ("event", "Event", "#6366f1", "calendar"), ("meeting", "Meeting", "#f59e0b", "users"),
                      ("note", "Note", "#a855f7", "notebook"), ("task", "Task", "#ef4444", "check-square")],
    "deal_status": [("open", "Open", "#2563eb", "circle"), ("closed", "Closed", "#6b7280", "check-circle"),
                    ("win", "Win", "#22c55e", "trophy"), ("loose", "Loose", "#ef4444", "flag"),
                    ("in_progress", "In progress", "#f59e0b", "activity")],
    "pipeline_stage": [("opportunity", "Opportunity", "#38bdf8", "target"),
                       ("marketing_qualified_lead", "Marketing Qualified Lead", "#a855f7", "sparkles"),
                       ("sales_qualified_lead", "Sales Qualified Lead", "#f97316", "users"),
                       ("offering", "Offering", "#22c55e", "package"), ("negotiations", "Negotiations", "#facc15", "handshake"),
                       ("win", "Win", "#16a34a", "award"), ("loose", "Loose", "#ef4444", "flag"),
                       ("stalled", "Stalled", "#6b7280", "alert-circle")],
    "job_title": [("Director of Operations", "Director of Operations", "#f97316", "settings"),
                  ("VP of Partnerships", "VP of Partnerships", "#6366f1", "users"),
                  ("Founder & Principal", "Founder & Principal", "#ec4899", "star"),
                  ("Senior Project Manager", "Senior Project Manager", "#0ea5e9", "clipboard-list"),
                  ("Chief Revenue Officer", "Chief Revenue Officer", "#8b5cf6", "bar-chart-3"),
                  ("Director of Retail Partnerships", "Director of Retail Partnerships", "#f59e0b", "shopping-bag")],
    "industry": [(v, v, None, None) for v in ("Renewable Energy", "Software", "Interior Design", "SaaS", "E-commerce",
                                               "Healthcare", "Manufacturing", "Logistics", "Financial Services",
                                               "Retail", "Hospitality", "Energy", "Media")],
    "temperature": [("hot", "Hot", "#ef4444", "flame"), ("high", "High", "#f59e0b", "trending-up"),
                    ("medium", "Medium", "#8b5cf6", "sparkles"), ("low", "Low", "#64748b", "clock"),
                    ("cold", "Cold", "#94a3b8", "snowflake")],
    "person_company_role": [("decision_maker", "Decision maker", "#f59e0b", "crown"),
                            ("influencer", "Influencer", "#8b5cf6", "sparkles"),
                            ("budget_holder", "Budget holder", "#3b82f6", "wallet"),
                            ("technical_evaluator", "Technical evaluator", "#22c55e", "wrench"),
                            ("primary_contact", "Primary contact", "#0ea5e9", "star"),
                            ("end_user", "End user", "#64748b", "user")],
    "interaction_status": [("planned", "Planned", "#2563eb", "circle"), ("in_progress", "In progress", "#f59e0b", "activity"),
                           ("waiting", "Waiting / blocked", "#a855f7", "pause-circle"),
                           ("done", "Done", "#22c55e", "check-circle"), ("canceled", "Canceled", "#6b7280", "x-circle")],
    "customer_role_type": [("sales_owner", "Sales Owner", "#2563eb", "briefcase"),
                           ("service_owner", "Service Owner", "#16a34a", "headphones"),
                           ("account_manager", "Account Manager", "#f59e0b", "user-check")],
}


def _renewal_quarters() -> list[tuple[str, str, str | None, str | None]]:
    year = datetime.now(UTC).year
    return [(f"{y}_q{n}", f"Q{n} {y}", "#94a3b8", "calendar") for y in (year, year + 1, year + 2) for n in (1, 2, 3, 4)]


async def seed_dictionaries(session: AsyncSession, tenant: Any, org: Any) -> None:
    """Idempotent: missing values are added; existing ones get their color/icon refreshed (and their label when
    it is still the bare value another writer used as a placeholder)."""
    if tenant is None or org is None:
        return
    existing = {(e.kind, e.normalized_value): e for e in (await session.execute(
        select(E).where(E.tenant_id == tenant, E.organization_id == org))).scalars()}
    now = utcnow()
    for kind, entries in {**SEED, "renewal_quarter": _renewal_quarters()}.items():
        for value, label, color, icon in entries:
            norm = value.strip().lower()
            row = existing.get((kind, norm))
            full_icon = f"{_L}{icon}" if icon else None
            if row is None:
                session.add(E(tenant_id=tenant, organization_id=org, kind=kind, value=value, normalized_value=norm,
                              label=label, color=color, icon=full_icon, created_at=now, updated_at=now))
            else:
                row.color, row.icon = color, full_icon
                if row.label == row.value and label != value:  # placeholder created by part 1 (label = value)
                    row.label = label
    await session.flush()


def stored_kind(route_kind: str) -> str:
    if route_kind in ROUTE_KINDS:
        return ROUTE_KINDS[route_kind]
    if CUSTOM_KIND.match(route_kind or ""):
        return route_kind
    raise ApiError(400, LOAD_FAILED)


def entry_json(e: CustomerDictionaryEntry, org: Any, usage: int | None = None) -> dict[str, Any]:
    item = {"id": str(e.id), "value": e.value, "label": e.label, "color": e.color, "icon": e.icon,
            "organizationId": str(e.organization_id), "isInherited": e.organization_id != org,
            "createdAt": iso(e.created_at), "updatedAt": iso(e.updated_at)}
    if usage is not None:
        item["usageCount"] = usage
    return item


def sort_entries(items: list[CustomerDictionaryEntry], mode: str) -> list[CustomerDictionaryEntry]:
    field, _, direction = mode.rpartition("_")
    reverse = direction == "desc"

    def key(e: CustomerDictionaryEntry) -> Any:
        if field == "label":
            return ((e.label or e.value or "").lower(), str(e.id))
        if field == "value":
            return ((e.value or "").lower(), str(e.id))
        return (e.created_at, str(e.id))
    return sorted(items, key=key, reverse=reverse)


async def org_settings(session: AsyncSession, tenant: Any, org: Any, create: bool = False) -> CustomerSettings | None:
    row = (await session.execute(select(CustomerSettings).where(
        CustomerSettings.tenant_id == tenant, CustomerSettings.organization_id == org))).scalar_one_or_none()
    if row is None and create:
        now = utcnow()
        row = CustomerSettings(tenant_id=tenant, organization_id=org, created_at=now, updated_at=now)
        session.add(row)
        await session.flush()
    return row


def valid_sort_modes(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if isinstance(k, str) and (k in ROUTE_KINDS or CUSTOM_KIND.match(k))
            and v in SORT_MODES}


async def role_usage(session: AsyncSession, tenant: Any, org_ids: list[uuid.UUID], value: str) -> tuple[int, int]:
    owner = (await session.execute(select(func.count()).select_from(CustomerEntityRole).where(
        CustomerEntityRole.tenant_id == tenant, CustomerEntityRole.organization_id.in_(org_ids),
        CustomerEntityRole.deleted_at.is_(None), func.lower(CustomerEntityRole.role_type) == value.lower()))).scalar_one()
    rel = (await session.execute(select(func.count()).select_from(CustomerPersonCompanyRole).where(
        CustomerPersonCompanyRole.tenant_id == tenant, CustomerPersonCompanyRole.organization_id.in_(org_ids),
        func.lower(CustomerPersonCompanyRole.role_value) == value.lower()))).scalar_one()
    return owner, rel


# -- commands ----------------------------------------------------------------------------------------------


def _entry_snapshot(e: CustomerDictionaryEntry) -> dict[str, Any]:
    return {"id": str(e.id), "tenant_id": str(e.tenant_id), "organization_id": str(e.organization_id), "kind": e.kind,
            "value": e.value, "normalized_value": e.normalized_value, "label": e.label, "color": e.color,
            "icon": e.icon, "created_at": iso(e.created_at)}


async def _restore_entry(rt: CommandRuntime, snap: dict[str, Any]) -> None:
    row = await rt.session.get(E, parse_uuid(snap["id"]))
    if row is None:
        row = E(id=parse_uuid(snap["id"]), tenant_id=parse_uuid(snap["tenant_id"]),
                organization_id=parse_uuid(snap["organization_id"]), kind=snap["kind"], value=snap["value"],
                normalized_value=snap["normalized_value"], label=snap["label"],
                created_at=datetime.fromisoformat(snap["created_at"].replace("Z", "+00:00")))
        rt.session.add(row)
    row.value, row.normalized_value, row.label = snap["value"], snap["normalized_value"], snap["label"]
    row.color, row.icon, row.updated_at = snap["color"], snap["icon"], utcnow()
    await rt.session.flush()


class DictionaryEntryWrite(Command):
    """Input: {"op": create|update|delete, "entryId", "kind", "org", "tenant", "values"} (validated by the route)."""

    has_redo = True

    def __init__(self, command_id: str) -> None:
        self.id = command_id

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await rt.session.get(E, parse_uuid(input.get("entryId"))) if input.get("entryId") else None
        return _entry_snapshot(row) if row is not None else None

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        op = input["op"]
        values = input.get("values") or {}
        if op == "delete":
            row = await rt.session.get(E, parse_uuid(input["entryId"]))
            await rt.session.delete(row)
            await rt.session.flush()
            return {"id": input["entryId"], "changed": True}
        if op == "create":
            now = utcnow()
            row = E(tenant_id=parse_uuid(input["tenant"]), organization_id=parse_uuid(input["org"]),
                    kind=input["kind"], created_at=now, updated_at=now, **values)
            rt.session.add(row)
            await rt.session.flush()
            return {"id": str(row.id), "changed": True, "created": True}
        row = await rt.session.get(E, parse_uuid(input["entryId"]))
        changed = any(getattr(row, k) != v for k, v in values.items())
        for key, value in values.items():
            setattr(row, key, value)
        if changed:
            row.updated_at = utcnow()
        await rt.session.flush()
        return {"id": str(row.id), "changed": changed}

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        row = await rt.session.get(E, parse_uuid(result["id"]))
        return _entry_snapshot(row) if row is not None else None

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        op = input["op"]
        label = {"create": "Add customer dictionary entry", "update": "Update customer dictionary entry",
                 "delete": "Delete customer dictionary entry"}[op]
        if op == "update" and not result.get("changed"):
            label = None
        return LogMeta(action_label=label, resource_kind="customers.dictionary_entry", resource_id=result["id"],
                       payload={"undo": {"before": before, "after": after}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.undo_payload.get("before")
        if before:
            await _restore_entry(rt, before)
            return
        row = await rt.session.get(E, parse_uuid(entry.resource_id))
        if row is not None:
            await rt.session.delete(row)
            await rt.session.flush()

    async def redo(self, rt: CommandRuntime, input: Any, entry: LoggedAction) -> Any:  # noqa: A002
        after = entry.undo_payload.get("after")
        if after:
            await _restore_entry(rt, after)
            return {"id": after["id"]}
        row = await rt.session.get(E, parse_uuid(entry.resource_id))
        if row is not None:
            await rt.session.delete(row)
            await rt.session.flush()
        return {"id": entry.resource_id}


for _cid in ("customers.dictionaryEntries.create", "customers.dictionaryEntries.update",
             "customers.dictionaryEntries.delete"):
    register_command(DictionaryEntryWrite(_cid))


K = CustomerDictionaryKindSetting


def kind_setting_json(row: CustomerDictionaryKindSetting) -> dict[str, Any]:
    return {"id": str(row.id), "kind": row.kind, "selectionMode": row.selection_mode,
            "visibleInTags": bool(row.visible_in_tags), "sortOrder": row.sort_order}


class KindSettingUpsert(Command):
    has_redo = True
    id = "customers.dictionaryKindSettings.upsert"

    async def _find(self, rt: CommandRuntime, input: dict[str, Any]) -> CustomerDictionaryKindSetting | None:
        return (await rt.session.execute(select(K).where(
            K.tenant_id == parse_uuid(input["tenant"]), K.organization_id == parse_uuid(input["org"]),
            K.kind == input["kind"]))).scalar_one_or_none()

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await self._find(rt, input)
        return kind_setting_json(row) if row is not None else None

    async def execute(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        row = await self._find(rt, input)
        values = input.get("values") or {}
        now = utcnow()
        event = "customers.dictionary_kind_setting.updated"
        if row is None:
            row = K(tenant_id=parse_uuid(input["tenant"]), organization_id=parse_uuid(input["org"]), kind=input["kind"],
                    selection_mode="single", visible_in_tags=True, sort_order=0, created_at=now, updated_at=now)
            rt.session.add(row)
            event = "customers.dictionary_kind_setting.created"
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = now
        await rt.session.flush()
        rt.queue_event(event, {"id": str(row.id), "organizationId": str(row.organization_id),
                               "tenantId": str(row.tenant_id), "kind": row.kind})
        return kind_setting_json(row)

    async def capture_after(self, rt: CommandRuntime, input: Any, result: Any) -> Any:  # noqa: A002
        return result

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Update kind setting", resource_kind="customers.dictionaryKindSetting",
                       resource_id=result["id"], payload={"undo": {"before": before, "after": after,
                                                                   "scope": {"tenant": input["tenant"],
                                                                             "org": input["org"]}}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        undo = entry.undo_payload
        row = await rt.session.get(K, parse_uuid(entry.resource_id))
        if row is None:
            return
        before = undo.get("before")
        payload = {"id": str(row.id), "organizationId": str(row.organization_id), "tenantId": str(row.tenant_id),
                   "kind": row.kind}
        if not before:
            await rt.session.delete(row)
            rt.queue_event("customers.dictionary_kind_setting.deleted", payload)
        else:
            row.selection_mode, row.visible_in_tags = before["selectionMode"], before["visibleInTags"]
            row.sort_order, row.updated_at = before["sortOrder"], utcnow()
            rt.queue_event("customers.dictionary_kind_setting.updated", payload)
        await rt.session.flush()


register_command(KindSettingUpsert())


def is_hex(value: Any) -> bool:
    return isinstance(value, str) and bool(HEX_COLOR.match(value))
