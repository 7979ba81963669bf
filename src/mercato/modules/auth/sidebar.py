"""Sidebar customisation: personal preferences, role presets and named variants (contract 6.14)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.context import RequestContext
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.auth.acl import check_version
from mercato.modules.auth.models import Role, RoleSidebarPreference, SidebarVariant, UserSidebarPreference
from mercato.modules.auth.schemas import SidebarPreferencesWrite, VariantWrite

DEFAULT_VARIANT_NAME = "My preferences"
DUPLICATE_VARIANT = "A variant with this name already exists. Choose a different name."
VARIANT_NOT_FOUND = "Variant not found"
ROLE_NOT_FOUND = "Role not found"


def _strings(values: Any) -> list[str]:
    out: list[str] = []
    for v in values if isinstance(values, list) else []:
        if isinstance(v, str) and v.strip() and v.strip() not in out:
            out.append(v.strip())
    return out


def _labels(values: Any) -> dict[str, str]:
    if not isinstance(values, dict):
        return {}
    return {k.strip(): v.strip() for k, v in values.items() if isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip()}


def normalize_settings(raw: Any) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    version = raw.get("version")
    item_order = {}
    for k, v in (raw.get("itemOrder") or {}).items() if isinstance(raw.get("itemOrder"), dict) else []:
        cleaned = _strings(v)
        if isinstance(k, str) and k.strip() and cleaned:
            item_order[k.strip()] = cleaned
    return {
        "version": version if isinstance(version, int) and not isinstance(version, bool) and version > 0 else 2,
        "groupOrder": _strings(raw.get("groupOrder")),
        "groupLabels": _labels(raw.get("groupLabels")),
        "itemLabels": _labels(raw.get("itemLabels")),
        "hiddenItems": _strings(raw.get("hiddenItems")),
        "itemOrder": item_order,
    }


def request_locale(ctx: RequestContext) -> str:
    from mercato.modules.auth.web import SUPPORTED_LOCALES

    cookie = (ctx.request.cookies.get("locale") or "").strip().lower()
    if cookie in SUPPORTED_LOCALES:
        return cookie
    for part in ctx.request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in SUPPORTED_LOCALES:
            return code
    return "en"


# -- preferences ----------------------------------------------------------------------------------------
async def _user_pref(ctx: RequestContext, user_id: uuid.UUID) -> UserSidebarPreference | None:
    q = select(UserSidebarPreference).where(
        UserSidebarPreference.user_id == user_id, UserSidebarPreference.deleted_at.is_(None),
        _eq(UserSidebarPreference.tenant_id, ctx.tenant_id), _eq(UserSidebarPreference.organization_id, ctx.org_id),
    )
    return (await ctx.session.execute(q.limit(1))).scalar_one_or_none()


def _eq(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


async def _role_pref(session: AsyncSession, role_id: uuid.UUID, tenant_id: uuid.UUID | None) -> RoleSidebarPreference | None:
    q = select(RoleSidebarPreference).where(
        RoleSidebarPreference.role_id == role_id, RoleSidebarPreference.deleted_at.is_(None),
        _eq(RoleSidebarPreference.tenant_id, tenant_id),
    )
    return (await session.execute(q.limit(1))).scalar_one_or_none()


async def scoped_role(ctx: RequestContext, role_id: uuid.UUID | None) -> Role:
    role = await ctx.session.get(Role, role_id) if role_id else None
    if role is None or role.deleted_at is not None or role.tenant_id not in (ctx.tenant_id, None) or ctx.tenant_id is None:
        raise ApiError(404, ROLE_NOT_FOUND)
    return role


async def roles_with_presets(ctx: RequestContext) -> list[dict[str, Any]]:
    """Roles of the caller's tenant (sorted by name) flagged with whether a preset exists; one query."""
    if ctx.tenant_id is None:
        return []
    has_pref = exists().where(
        RoleSidebarPreference.role_id == Role.id, RoleSidebarPreference.deleted_at.is_(None),
        (RoleSidebarPreference.tenant_id == ctx.tenant_id) | RoleSidebarPreference.tenant_id.is_(None),
    )
    rows = await ctx.session.execute(
        select(Role, has_pref.label("has_pref")).where(Role.tenant_id == ctx.tenant_id, Role.deleted_at.is_(None)).order_by(Role.name)
    )
    return [{"id": str(r.id), "name": r.name, "hasPreference": bool(flag)} for r, flag in rows]


async def read_preferences(ctx: RequestContext, role_id: uuid.UUID | None, can_manage: bool) -> dict[str, Any]:
    if role_id is None:
        row = await _user_pref(ctx, _user(ctx))
        scope: dict[str, Any] = {"type": "user"}
        roles = await roles_with_presets(ctx) if can_manage else []
    else:
        role = await scoped_role(ctx, role_id)
        row = await _role_pref(ctx.session, role.id, ctx.tenant_id)
        scope = {"type": "role", "roleId": str(role.id)}
        roles = await roles_with_presets(ctx)
    return {
        "locale": request_locale(ctx),
        "settings": normalize_settings(row.settings_json if row else None),
        "canApplyToRoles": can_manage,
        "roles": roles,
        "scope": scope,
        "updatedAt": iso(row.updated_at) if row else None,
    }


def _user(ctx: RequestContext) -> uuid.UUID:
    user_id = ctx.auth.user_id if ctx.auth else None
    if user_id is None and ctx.auth and not ctx.auth.is_api_key:
        user_id = ctx.user_id
    if user_id is None:
        raise ApiError(403, "Cannot save preferences: no user associated with this API key")
    return user_id


async def _upsert_role_pref(ctx: RequestContext, role_id: uuid.UUID, settings: dict[str, Any], expected: str | None) -> None:
    row = await _role_pref(ctx.session, role_id, ctx.tenant_id)
    if row is None:
        ctx.session.add(RoleSidebarPreference(role_id=role_id, tenant_id=ctx.tenant_id, locale=request_locale(ctx),
                                              settings_json=settings))
    else:
        check_version(expected, row.updated_at, "auth.role_sidebar_preference")
        row.settings_json = settings
        row.updated_at = utcnow()


async def write_preferences(ctx: RequestContext, data: SidebarPreferencesWrite, expected: str | None) -> dict[str, Any]:
    settings = data.settings()
    applied: list[str] = []
    cleared: list[str] = []
    if data.scope.type == "role":
        role = await scoped_role(ctx, data.scope.roleId)
        await _upsert_role_pref(ctx, role.id, settings, expected)
        await ctx.session.flush()
        result = await read_preferences(ctx, role.id, True)
    else:
        user_id = _user(ctx)
        row = await _user_pref(ctx, user_id)
        if row is None:
            ctx.session.add(UserSidebarPreference(user_id=user_id, tenant_id=ctx.tenant_id, organization_id=ctx.org_id,
                                                  locale=request_locale(ctx), settings_json=settings))
        else:
            check_version(expected, row.updated_at, "auth.sidebar_preference")
            row.settings_json = settings
            row.updated_at = utcnow()
        apply_ids = list(dict.fromkeys(data.applyToRoles))
        if apply_ids or data.clearRoleIds:
            tenant_roles = {r["id"] for r in await roles_with_presets(ctx)}
            missing = [str(i) for i in apply_ids if str(i) not in tenant_roles]
            if missing:
                raise ApiError(400, "Invalid roles", missing=missing)
            for rid in apply_ids:
                await _upsert_role_pref(ctx, rid, settings, None)
                applied.append(str(rid))
            for rid in dict.fromkeys(data.clearRoleIds):
                if rid in apply_ids or str(rid) not in tenant_roles:
                    continue
                await ctx.session.execute(delete(RoleSidebarPreference).where(
                    RoleSidebarPreference.role_id == rid, _eq(RoleSidebarPreference.tenant_id, ctx.tenant_id)))
                cleared.append(str(rid))
        await ctx.session.flush()
        result = await read_preferences(ctx, None, True)
    return {**result, "appliedRoles": applied, "clearedRoles": cleared}


async def delete_role_preset(ctx: RequestContext, role_id: uuid.UUID | None) -> dict[str, Any]:
    role = await scoped_role(ctx, role_id)
    await ctx.session.execute(delete(RoleSidebarPreference).where(
        RoleSidebarPreference.role_id == role.id, _eq(RoleSidebarPreference.tenant_id, ctx.tenant_id)))
    return {"ok": True, "scope": {"type": "role", "roleId": str(role.id)}}


async def role_preset_for(session: AsyncSession, role_ids: list[uuid.UUID], tenant_id: uuid.UUID | None) -> dict[str, Any] | None:
    """Settings of the first role (in the given order) that has a preset; tenant-specific preferred over null-tenant."""
    if not role_ids:
        return None
    rows = list((await session.execute(select(RoleSidebarPreference).where(
        RoleSidebarPreference.role_id.in_(role_ids), RoleSidebarPreference.deleted_at.is_(None),
        _eq(RoleSidebarPreference.tenant_id, tenant_id) | RoleSidebarPreference.tenant_id.is_(None),
    ))).scalars())
    for rid in role_ids:
        mine = [r for r in rows if r.role_id == rid]
        mine.sort(key=lambda r: r.tenant_id is None)
        if mine:
            return normalize_settings(mine[0].settings_json)
    return None


async def personal_settings(ctx: RequestContext) -> dict[str, Any] | None:
    user_id = ctx.auth.user_id if ctx.auth else None
    if user_id is None:
        return None
    row = await _user_pref(ctx, user_id)
    return normalize_settings(row.settings_json) if row else None


# -- variants ------------------------------------------------------------------------------------------------
def variant_view(v: SidebarVariant) -> dict[str, Any]:
    return {"id": str(v.id), "name": v.name, "isActive": bool(v.is_active), "settings": normalize_settings(v.settings_json),
            "createdAt": iso(v.created_at), "updatedAt": iso(v.updated_at)}


def _variant_owner(ctx: RequestContext) -> uuid.UUID:
    user_id = ctx.auth.user_id if ctx.auth else None
    if user_id is None:
        raise ApiError(403, "No user context")
    return user_id


def _mine(ctx: RequestContext, user_id: uuid.UUID) -> list[Any]:
    return [SidebarVariant.user_id == user_id, SidebarVariant.deleted_at.is_(None), _eq(SidebarVariant.tenant_id, ctx.tenant_id)]


async def list_variants(ctx: RequestContext) -> list[dict[str, Any]]:
    user_id = _variant_owner(ctx)
    rows = await ctx.session.execute(select(SidebarVariant).where(*_mine(ctx, user_id)).order_by(SidebarVariant.created_at, SidebarVariant.id))
    return [variant_view(v) for v in rows.scalars()]


async def _auto_name(ctx: RequestContext, user_id: uuid.UUID) -> str:
    rows = await ctx.session.execute(select(SidebarVariant.name).where(
        *_mine(ctx, user_id), SidebarVariant.name.like(f"{DEFAULT_VARIANT_NAME}%")))
    taken = {r[0] for r in rows}
    if DEFAULT_VARIANT_NAME not in taken:
        return DEFAULT_VARIANT_NAME
    used = {int(m.group(1)) for n in taken if (m := re.fullmatch(re.escape(DEFAULT_VARIANT_NAME) + r" (\d+)", n))}
    n = 2
    while n in used:
        n += 1
    return f"{DEFAULT_VARIANT_NAME} {n}"


async def _name_taken(ctx: RequestContext, user_id: uuid.UUID, name: str, exclude: uuid.UUID | None = None) -> bool:
    q = select(SidebarVariant.id).where(*_mine(ctx, user_id), SidebarVariant.name == name)
    if exclude is not None:
        q = q.where(SidebarVariant.id != exclude)
    return (await ctx.session.execute(q.limit(1))).first() is not None


async def _deactivate_others(ctx: RequestContext, user_id: uuid.UUID, keep: uuid.UUID | None) -> None:
    q = update(SidebarVariant).where(*_mine(ctx, user_id), SidebarVariant.is_active.is_(True))
    if keep is not None:
        q = q.where(SidebarVariant.id != keep)
    await ctx.session.execute(q.values(is_active=False, updated_at=utcnow()).execution_options(synchronize_session=False))


async def _flush_variant(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise ApiError(409, DUPLICATE_VARIANT, code="duplicate_name") from None


async def create_variant(ctx: RequestContext, data: VariantWrite, provided: set[str]) -> dict[str, Any]:
    user_id = _variant_owner(ctx)
    name = data.name if "name" in provided else await _auto_name(ctx, user_id)
    if await _name_taken(ctx, user_id, name):
        raise ApiError(409, DUPLICATE_VARIANT, code="duplicate_name")
    if data.isActive:
        await _deactivate_others(ctx, user_id, None)
    variant = SidebarVariant(
        user_id=user_id, tenant_id=ctx.tenant_id, organization_id=ctx.org_id, locale=request_locale(ctx), name=name,
        settings_json=data.settings.settings() if data.settings else normalize_settings(None), is_active=bool(data.isActive),
    )
    ctx.session.add(variant)
    await _flush_variant(ctx.session)
    return variant_view(variant)


async def get_variant(ctx: RequestContext, variant_id: uuid.UUID | None) -> SidebarVariant:
    user_id = _variant_owner(ctx)
    if variant_id is None:
        raise ApiError(404, VARIANT_NOT_FOUND)
    row = (await ctx.session.execute(select(SidebarVariant).where(*_mine(ctx, user_id), SidebarVariant.id == variant_id))).scalar_one_or_none()
    if row is None:
        raise ApiError(404, VARIANT_NOT_FOUND)
    return row


async def update_variant(ctx: RequestContext, variant_id: uuid.UUID | None, data: VariantWrite, provided: set[str]) -> dict[str, Any]:
    variant = await get_variant(ctx, variant_id)
    if "name" in provided and data.name != variant.name:
        if await _name_taken(ctx, variant.user_id, data.name or "", exclude=variant.id):
            raise ApiError(409, DUPLICATE_VARIANT, code="duplicate_name")
        variant.name = data.name or variant.name
    if "settings" in provided and data.settings is not None:
        variant.settings_json = data.settings.settings()
    if data.isActive is True:
        await _deactivate_others(ctx, variant.user_id, variant.id)
        variant.is_active = True
    elif data.isActive is False:
        variant.is_active = False
    variant.updated_at = utcnow()
    await _flush_variant(ctx.session)
    return variant_view(variant)


async def delete_variant(ctx: RequestContext, variant_id: uuid.UUID | None) -> None:
    variant = await get_variant(ctx, variant_id)
    variant.deleted_at = utcnow()
    variant.is_active = False
    await ctx.session.flush()
