"""Buyer profiles: validation on the merged record, create/update commands with undo, list (§9.5–9.7)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import column, exists, func, or_, select, table

from mercato.kernel.commands import Command, CommandRuntime, LoggedAction, LogMeta, register_command
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.modules.warehouse import domain
from mercato.modules.warehouse.dto import profile_dto
from mercato.modules.warehouse.models import CustomerProfile, Order
from mercato.modules.warehouse.validation import MISSING, Issues, address

# the CRM record a profile may link to (module `customers`), read by table name only
_crm = table("customer_entities", column("id"), column("kind"), column("tenant_id"), column("organization_id"),
             column("deleted_at"))

FIELDS = {"kind": "kind", "displayName": "display_name", "companyId": "company_id", "personId": "person_id",
          "nip": "nip", "email": "email", "phone": "phone", "defaultShippingAddress": "default_shipping_address",
          "billingAddress": "billing_address", "paymentTerms": "payment_terms", "discountPercent": "discount_percent",
          "notes": "notes", "isActive": "is_active"}


def _scoped(rt: CommandRuntime) -> list[Any]:
    return [CustomerProfile.tenant_id == rt.tenant_id, CustomerProfile.organization_id == rt.organization_id,
            CustomerProfile.deleted_at.is_(None)]


async def _crm_exists(rt: CommandRuntime, record_id: uuid.UUID, kind: str) -> bool:
    stmt = select(_crm.c.id).where(_crm.c.id == record_id, _crm.c.kind == kind, _crm.c.tenant_id == rt.tenant_id,
                                   _crm.c.organization_id == rt.organization_id, _crm.c.deleted_at.is_(None))
    try:
        async with rt.session.begin_nested():
            return (await rt.session.scalar(stmt)) is not None
    except Exception:  # noqa: BLE001 - customers module not installed: nothing to link to
        return False


async def validate_profile(rt: CommandRuntime, body: dict, stored: CustomerProfile | None) -> dict[str, Any]:
    """Field checks, then the B2B/B2C rules on the merged record (stored values overlaid with the body)."""
    issues = Issues()
    update = stored is not None
    v: dict[str, Any] = {
        "kind": issues.enum(body, "kind", ("b2b", "b2c"), required=not update),
        "display_name": issues.text(body, "displayName", required=not update, min_len=1, max_len=200),
        "company_id": issues.uuid(body, "companyId", nullable=True),
        "person_id": issues.uuid(body, "personId", nullable=True),
        "email": issues.text(body, "email", nullable=True, max_len=254),
        "phone": issues.text(body, "phone", nullable=True, max_len=30),
        "default_shipping_address": address(issues, body, "defaultShippingAddress"),
        "billing_address": address(issues, body, "billingAddress"),
        "payment_terms": issues.enum(body, "paymentTerms", domain.PAYMENT_TERMS),
        "discount_percent": issues.number(body, "discountPercent", minimum=0, maximum=50, decimals=2),
        "notes": issues.text(body, "notes", nullable=True, max_len=2000, trim=False),
        "is_active": issues.boolean(body, "isActive"),
    }
    nip = issues.text(body, "nip", nullable=True)
    if isinstance(nip, str):
        nip = domain.normalize_nip(nip)
        if not domain.nip_valid(nip):
            issues.custom(["nip"], "Invalid NIP")
            nip = MISSING
    v["nip"] = nip
    if isinstance(v["email"], str):
        v["email"] = v["email"].lower()
        if not domain.EMAIL_RE.match(v["email"]):
            issues.add(["email"], "invalid_string", "Invalid email")
    if isinstance(v["phone"], str) and not domain.PHONE_RE.match(v["phone"]):
        issues.add(["phone"], "invalid_string", "Invalid phone")
    values = {k: val for k, val in v.items() if val is not MISSING}

    def merged(col: str) -> Any:
        if col in values:
            return values[col]
        if col in v and v[col] is MISSING and col in _body_cols(body):
            return MISSING  # invalid input already reported
        return getattr(stored, col) if stored is not None else None

    kind = merged("kind")
    if kind == "b2b":
        if merged("nip") is None and not issues.has(["nip"]):
            issues.custom(["nip"], "NIP is required for B2B profiles")
    elif kind == "b2c":
        if merged("nip") not in (None, MISSING) and not issues.has(["nip"]):
            issues.custom(["nip"], "NIP is not allowed for B2C profiles")
        terms = merged("payment_terms")
        if terms not in (None, MISSING) and terms not in domain.B2C_TERMS:
            issues.custom(["paymentTerms"], "Deferred payment terms are only available for B2B profiles")
        if merged("company_id") not in (None, MISSING):
            issues.custom(["companyId"], "Company link is only available for B2B profiles")
    if isinstance(values.get("company_id"), uuid.UUID) and not issues.has(["companyId"]) and \
            not await _crm_exists(rt, values["company_id"], "company"):
        issues.custom(["companyId"], "Company not found")
    if isinstance(values.get("person_id"), uuid.UUID) and not await _crm_exists(rt, values["person_id"], "person"):
        issues.custom(["personId"], "Person not found")
    issues.raise_if_any()
    if not update and "payment_terms" not in values:
        values["payment_terms"] = "net_14" if kind == "b2b" else "prepayment"
    return values


def _body_cols(body: dict) -> set[str]:
    return {FIELDS[k] for k in body if k in FIELDS}


async def _check_nip(rt: CommandRuntime, nip: str | None, exclude: uuid.UUID | None) -> None:
    if not nip:
        return
    where = [*_scoped(rt), CustomerProfile.nip == nip]
    if exclude is not None:
        where.append(CustomerProfile.id != exclude)
    hit = await rt.session.scalar(select(CustomerProfile.id).where(*where).limit(1))
    if hit is not None:
        raise ApiError(409, "duplicate_nip", profileId=str(hit))


async def load_profile(rt: CommandRuntime, profile_id: uuid.UUID) -> CustomerProfile | None:
    return await rt.session.scalar(select(CustomerProfile).where(CustomerProfile.id == profile_id, *_scoped(rt)))


def _scope(rt: CommandRuntime) -> dict[str, str]:
    return {"tenantId": str(rt.tenant_id), "organizationId": str(rt.organization_id)}


class CreateProfile(Command):
    id = "magazyn.customer_profiles.create"

    async def execute(self, rt: CommandRuntime, input: dict) -> CustomerProfile:  # noqa: A002
        values = await validate_profile(rt, input, None)
        await _check_nip(rt, values.get("nip"), None)
        now = utcnow()
        p = CustomerProfile(id=uuid.uuid4(), tenant_id=rt.tenant_id, organization_id=rt.organization_id,
                            created_at=now, updated_at=now, **{"discount_percent": Decimal(0), "is_active": True,
                                                               **values})
        rt.session.add(p)
        await rt.session.flush()
        rt.queue_event("magazyn.customer_profile.created", {"id": str(p.id), "kind": p.kind, "nip": p.nip,
                                                            **_scope(rt)})
        return p

    async def capture_after(self, rt: CommandRuntime, input: Any, result: CustomerProfile) -> Any:  # noqa: A002
        return profile_dto(result)

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Create customer profile", resource_kind="magazyn.customer_profile",
                       resource_id=str(result.id))

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        p = await load_profile(rt, uuid.UUID(entry.resource_id))
        if p is None:
            raise ApiError(400, "Undo failed")
        if await rt.session.scalar(select(exists().where(Order.customer_profile_id == p.id))):
            raise ApiError(400, "Undo failed")
        p.deleted_at = utcnow()
        await rt.session.flush()
        rt.queue_event("magazyn.customer_profile.deleted", {"id": str(p.id), **_scope(rt)})


class UpdateProfile(Command):
    id = "magazyn.customer_profiles.update"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        issues = Issues()
        pid = issues.uuid(input if isinstance(input, dict) else {}, "id", required=True)
        issues.raise_if_any()
        p = await load_profile(rt, pid)
        if p is None:
            raise ApiError(404, "Customer profile not found")
        return profile_dto(p)

    async def execute(self, rt: CommandRuntime, input: dict) -> CustomerProfile:  # noqa: A002
        p = await load_profile(rt, uuid.UUID(str(input["id"])))
        if p is None:
            raise ApiError(404, "Customer profile not found")
        values = await validate_profile(rt, input, p)
        if "nip" in values:
            await _check_nip(rt, values["nip"], p.id)
        changed = []
        reverse = {c: k for k, c in FIELDS.items()}
        for col, value in values.items():
            current = getattr(p, col)
            same = (Decimal(current) == Decimal(value)) if col == "discount_percent" else current == value
            if not same:
                setattr(p, col, value)
                changed.append(reverse[col])
        p.updated_at = utcnow()
        await rt.session.flush()
        rt.queue_event("magazyn.customer_profile.updated", {"id": str(p.id), "kind": p.kind, "changedFields": changed,
                                                            **_scope(rt)})
        return p

    async def capture_after(self, rt: CommandRuntime, input: Any, result: CustomerProfile) -> Any:  # noqa: A002
        return profile_dto(result)

    def build_log(self, rt: CommandRuntime, input: Any, result: Any, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Update customer profile", resource_kind="magazyn.customer_profile",
                       resource_id=str(result.id))

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.snapshot_before or {}
        p = await load_profile(rt, uuid.UUID(entry.resource_id))
        if p is None or not before:
            raise ApiError(400, "Undo failed")
        try:
            await _check_nip(rt, before.get("nip"), p.id)
        except ApiError:
            raise ApiError(400, "Undo failed") from None
        changed = []
        for key, col in FIELDS.items():
            value = before.get(key)
            if col in ("company_id", "person_id") and value is not None:
                value = uuid.UUID(value)
            if col == "discount_percent":
                value = Decimal(str(value or 0))
            if getattr(p, col) != value:
                setattr(p, col, value)
                changed.append(key)
        p.updated_at = utcnow()
        await rt.session.flush()
        rt.queue_event("magazyn.customer_profile.updated", {"id": str(p.id), "kind": p.kind, "changedFields": changed,
                                                            **_scope(rt)})


register_command(CreateProfile())
register_command(UpdateProfile())

PROFILE_SORT = {"displayName": CustomerProfile.display_name, "createdAt": CustomerProfile.created_at,
                "updatedAt": CustomerProfile.updated_at}


async def list_profiles(rt: CommandRuntime, q: Any) -> dict[str, Any]:
    from mercato.modules.warehouse.common import envelope, like

    page, size = q.paging()
    search = q.text("search")
    kind = q.enum("kind", ("b2b", "b2c"))
    nip = q.text("nip")
    company, person = q.uuid("companyId"), q.uuid("personId")
    is_active = q.boolean("isActive")
    ids = q.ids()
    field, direction = q.sort(tuple(PROFILE_SORT), "displayName", "asc")
    q.done()
    where = _scoped(rt)
    if search:
        pat = like(search.lower())
        where.append(or_(func.lower(CustomerProfile.display_name).like(pat, escape="\\"),
                         func.lower(func.coalesce(CustomerProfile.nip, "")).like(pat, escape="\\"),
                         func.lower(func.coalesce(CustomerProfile.email, "")).like(pat, escape="\\")))
    if kind:
        where.append(CustomerProfile.kind == kind)
    if nip:
        where.append(CustomerProfile.nip == domain.normalize_nip(nip))
    if company:
        where.append(CustomerProfile.company_id == company)
    if person:
        where.append(CustomerProfile.person_id == person)
    if is_active is not None:
        where.append(CustomerProfile.is_active.is_(is_active))
    if ids is not None:
        where.append(CustomerProfile.id.in_(ids))
    total = await rt.session.scalar(select(func.count()).select_from(CustomerProfile).where(*where)) or 0
    col = PROFILE_SORT[field or "displayName"]
    rows = (await rt.session.execute(select(CustomerProfile).where(*where)
                                     .order_by(col.desc() if direction == "desc" else col.asc(),
                                               CustomerProfile.id.asc())
                                     .offset((page - 1) * size).limit(size))).scalars()
    return envelope([profile_dto(p) for p in rows], total, page, size)
