"""Deals: create / update / delete, participants, pipeline-stage rules and transitions (contract §5.4)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select

from mercato.kernel.context import RequestContext, parse_uuid
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.extensions import split_custom_values
from mercato.modules.customers.models import (
    CustomerDeal,
    CustomerDealCompany,
    CustomerDealPerson,
    CustomerDealStageTransition,
    CustomerEntity,
    CustomerPipelineStage,
)
from mercato.modules.customers.schemas import DealUpdate, DealWrite
from mercato.modules.customers.service.common import (
    ENTITY_DEAL,
    check_optimistic_lock,
    custom_fields_provider,
    ensure_dictionary_entry,
    ensure_record_writable,
    queue_event,
    write_scope,
)
from mercato.modules.customers.service.people import _delete_id

DEAL_FIELDS = {
    "title": "title", "description": "description", "status": "status", "valueAmount": "value_amount",
    "valueCurrency": "value_currency", "probability": "probability", "expectedCloseAt": "expected_close_at",
    "ownerUserId": "owner_user_id", "source": "source", "closureOutcome": "closure_outcome",
    "lossReasonId": "loss_reason_id", "lossNotes": "loss_notes",
}
WON = ("won", "win")
LOST = ("lost", "loose")


def _event(ctx: RequestContext, action: str, deal: CustomerDeal) -> None:
    queue_event(ctx, f"customers.deal.{action}", {
        "id": str(deal.id), "organizationId": str(deal.organization_id), "tenantId": str(deal.tenant_id)})


def _outcome_event(ctx: RequestContext, deal: CustomerDeal, name: str) -> None:
    queue_event(ctx, name, {
        "id": str(deal.id), "tenantId": str(deal.tenant_id), "organizationId": str(deal.organization_id),
        "ownerUserId": str(deal.owner_user_id) if deal.owner_user_id else None, "title": deal.title,
        "valueAmount": f"{deal.value_amount:.2f}" if deal.value_amount is not None else None,
        "valueCurrency": deal.value_currency})


async def resolve_stage(ctx: RequestContext, tenant_id: uuid.UUID, org_id: uuid.UUID, stage_id: uuid.UUID,
                        pipeline_id: uuid.UUID | None) -> CustomerPipelineStage:
    stage = (await ctx.session.execute(select(CustomerPipelineStage).where(
        CustomerPipelineStage.id == stage_id, CustomerPipelineStage.tenant_id == tenant_id,
        CustomerPipelineStage.organization_id == org_id))).scalar_one_or_none()
    if stage is None:
        raise ApiError(400, "Pipeline stage not found")
    if pipeline_id is not None and pipeline_id != stage.pipeline_id:
        raise ApiError(400, "Pipeline stage does not belong to the selected pipeline")
    return stage


async def record_transition(ctx: RequestContext, deal: CustomerDeal, stage: CustomerPipelineStage,
                            user_id: uuid.UUID | None) -> None:
    """One row per (deal, stage): re-entering a stage refreshes it (§6.11)."""
    row = (await ctx.session.execute(select(CustomerDealStageTransition).where(
        CustomerDealStageTransition.deal_id == deal.id, CustomerDealStageTransition.stage_id == stage.id))).scalar_one_or_none()
    now = utcnow()
    if row is None:
        ctx.session.add(CustomerDealStageTransition(
            tenant_id=deal.tenant_id, organization_id=deal.organization_id, deal_id=deal.id, pipeline_id=stage.pipeline_id,
            stage_id=stage.id, stage_label=stage.name, stage_order=stage.position, transitioned_at=now,
            transitioned_by_user_id=user_id))
    else:
        row.transitioned_at = now
        row.stage_label = stage.name
        row.stage_order = stage.position
        row.transitioned_by_user_id = user_id
        row.updated_at = now
        row.deleted_at = None
    await ctx.session.flush()


async def _check_participants(ctx: RequestContext, deal: CustomerDeal, ids: list[uuid.UUID], kind: str) -> list[uuid.UUID]:
    unique = list(dict.fromkeys(ids))
    if not unique:
        return unique
    rows = (await ctx.session.execute(select(CustomerEntity.id, CustomerEntity.kind).where(
        CustomerEntity.id.in_(unique), CustomerEntity.tenant_id == deal.tenant_id,
        CustomerEntity.organization_id == deal.organization_id, CustomerEntity.deleted_at.is_(None)))).tuples().all()
    kinds = dict(rows)
    for eid in unique:
        if eid not in kinds:
            raise ApiError(404, "Person not found" if kind == "person" else "Company not found")
        if kinds[eid] != kind:
            raise ApiError(400, "Invalid entity type")
    return unique


async def replace_participants(ctx: RequestContext, deal: CustomerDeal, ids: list[uuid.UUID], kind: str) -> bool:
    wanted = await _check_participants(ctx, deal, ids, kind)
    model = CustomerDealPerson if kind == "person" else CustomerDealCompany
    column = model.person_entity_id if kind == "person" else model.company_entity_id
    current = list((await ctx.session.execute(select(column).where(model.deal_id == deal.id))).scalars())
    if set(current) == set(wanted):
        return False
    await ctx.session.execute(delete(model).where(model.deal_id == deal.id, column.not_in(wanted)))
    for eid in wanted:
        if eid not in current:
            ctx.session.add(model(deal_id=deal.id, **{column.key: eid}))
    await ctx.session.flush()
    return True


async def _save_custom(ctx: RequestContext, deal: CustomerDeal, custom: dict[str, Any]) -> None:
    provider = custom_fields_provider(ctx)
    if provider is not None and custom:
        await provider.save(ctx.session, ENTITY_DEAL, str(deal.id), deal.tenant_id, deal.organization_id, custom)


async def create_deal(ctx: RequestContext, body: Any, *, deal_id: uuid.UUID | None = None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid input", details=[])
    base, custom = split_custom_values(body)
    data = DealWrite.model_validate(base)
    if not data.title:
        raise ApiError(400, "Invalid input", details=[{"code": "invalid_type", "path": ["title"], "message": "Required"}])
    if data.tenantId and ctx.tenant_id and data.tenantId != ctx.tenant_id and not ctx.is_super_admin:
        raise ApiError(403, "You are not allowed to target this tenant.")
    tenant_id, org_id = await write_scope(ctx, data.organizationId, data.tenantId)
    stage = None
    if data.pipelineStageId:
        stage = await resolve_stage(ctx, tenant_id, org_id, data.pipelineStageId, data.pipelineId)
    values = data.model_dump()
    deal = CustomerDeal(id=deal_id or uuid.uuid4(), tenant_id=tenant_id, organization_id=org_id,
                        **{col: values[key] for key, col in DEAL_FIELDS.items() if key in data.model_fields_set})
    deal.status = data.status or "open"
    deal.pipeline_id = stage.pipeline_id if stage else data.pipelineId
    deal.pipeline_stage_id = stage.id if stage else None
    deal.pipeline_stage = stage.name if stage else data.pipelineStage
    if deal.value_currency:
        deal.value_currency = deal.value_currency
    ctx.session.add(deal)
    await ctx.session.flush()
    if data.personIds:
        await replace_participants(ctx, deal, data.personIds, "person")
    if data.companyIds:
        await replace_participants(ctx, deal, data.companyIds, "company")
    if stage is not None:
        await ensure_dictionary_entry(ctx.session, tenant_id, org_id, "pipeline_stage", stage.name)
        await record_transition(ctx, deal, stage, ctx.user_id)
    await _save_custom(ctx, deal, custom)
    _event(ctx, "created", deal)
    return {"id": str(deal.id)}


async def load_deal(ctx: RequestContext, raw_id: Any, *, tenant_id: uuid.UUID | None = None) -> CustomerDeal:
    deal_id = parse_uuid(raw_id)
    deal = None
    if deal_id is not None:
        stmt = select(CustomerDeal).where(CustomerDeal.id == deal_id, CustomerDeal.deleted_at.is_(None))
        tenant = tenant_id or ctx.tenant_id
        if tenant is not None:
            stmt = stmt.where(CustomerDeal.tenant_id == tenant)
        deal = (await ctx.session.execute(stmt)).scalar_one_or_none()
    if deal is None:
        raise ApiError(404, "Deal not found")
    return deal


async def apply_deal_update(ctx: RequestContext, deal: CustomerDeal, data: DealWrite, custom: dict[str, Any],
                            user_id: uuid.UUID | None) -> bool:
    """All update rules of §5.4.3 (shared by PUT and the bulk jobs). Returns whether anything changed."""
    provided = set(data.model_fields_set)
    old_status = deal.status
    stage = None
    if "pipelineStageId" in provided and data.pipelineStageId is not None:
        stage = await resolve_stage(ctx, deal.tenant_id, deal.organization_id, data.pipelineStageId,
                                    data.pipelineId if "pipelineId" in provided else None)
    elif "pipelineId" in provided and data.pipelineId is not None and deal.pipeline_stage_id and \
            "pipelineStageId" not in provided:
        current = (await ctx.session.execute(select(CustomerPipelineStage).where(
            CustomerPipelineStage.id == deal.pipeline_stage_id))).scalar_one_or_none()
        if current is not None and current.pipeline_id != data.pipelineId:
            raise ApiError(400, "Pipeline stage does not belong to the selected pipeline")
    values = data.model_dump()
    changed = False
    for key, column in DEAL_FIELDS.items():
        if key in provided:
            value = values[key]
            if key in ("status", "title") and value is None:
                continue
            if getattr(deal, column) != value:
                setattr(deal, column, value)
                changed = True
    if "pipelineStage" in provided and stage is None and deal.pipeline_stage != data.pipelineStage:
        deal.pipeline_stage = data.pipelineStage
        changed = True
    if "pipelineId" in provided and deal.pipeline_id != data.pipelineId:
        deal.pipeline_id = data.pipelineId
        changed = True
    if "pipelineStageId" in provided:
        if stage is None:
            if deal.pipeline_stage_id is not None:
                deal.pipeline_stage_id = None
                changed = True
        else:
            entered = deal.pipeline_stage_id != stage.id
            deal.pipeline_stage_id = stage.id
            deal.pipeline_id = stage.pipeline_id
            if deal.pipeline_stage != stage.name:
                deal.pipeline_stage = stage.name
                changed = True
            await ensure_dictionary_entry(ctx.session, deal.tenant_id, deal.organization_id, "pipeline_stage", stage.name)
            if entered:
                await record_transition(ctx, deal, stage, user_id)
                changed = True
    elif deal.pipeline_stage_id and not deal.pipeline_stage:
        legacy = (await ctx.session.execute(select(CustomerPipelineStage.name).where(
            CustomerPipelineStage.id == deal.pipeline_stage_id))).scalar_one_or_none()
        if legacy:
            deal.pipeline_stage = legacy
            changed = True
    if data.personIds is not None:
        changed = await replace_participants(ctx, deal, data.personIds, "person") or changed
    if data.companyIds is not None:
        changed = await replace_participants(ctx, deal, data.companyIds, "company") or changed
    await _save_custom(ctx, deal, custom)
    changed = changed or bool(custom)
    if changed:
        deal.updated_at = utcnow()
        await ctx.session.flush()
        _event(ctx, "updated", deal)
        if deal.status != old_status:
            if deal.status in WON:
                _outcome_event(ctx, deal, "customers.deal.won")
            elif deal.status in LOST:
                _outcome_event(ctx, deal, "customers.deal.lost")
    return changed


async def update_deal(ctx: RequestContext, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid input", details=[])
    base, custom = split_custom_values(body)
    data = DealUpdate.model_validate(base)
    deal = await load_deal(ctx, data.id)
    await ensure_record_writable(ctx, deal.tenant_id, deal.organization_id)
    check_optimistic_lock(ctx, deal.updated_at)
    await apply_deal_update(ctx, deal, data, custom, ctx.user_id)
    return {"ok": True}


async def delete_deal(ctx: RequestContext, body: Any, query_id: str | None) -> dict[str, Any]:
    raw = _delete_id(body, query_id)
    if not raw:
        raise ApiError(400, "Deal id is required")
    deal = await load_deal(ctx, raw)
    await ensure_record_writable(ctx, deal.tenant_id, deal.organization_id)
    check_optimistic_lock(ctx, deal.updated_at)
    session = ctx.session
    provider = custom_fields_provider(ctx)
    if provider is not None and hasattr(provider, "soft_delete"):
        await provider.soft_delete(session, ENTITY_DEAL, str(deal.id), deal.tenant_id)
    for cleaner in getattr(ctx.app.state, "customer_deal_cleaners", []):
        await cleaner(session, deal.id)
    await session.execute(delete(CustomerDealStageTransition).where(CustomerDealStageTransition.deal_id == deal.id))
    await session.execute(delete(CustomerDealPerson).where(CustomerDealPerson.deal_id == deal.id))
    await session.execute(delete(CustomerDealCompany).where(CustomerDealCompany.deal_id == deal.id))
    await session.execute(delete(CustomerDeal).where(CustomerDeal.id == deal.id))
    await session.flush()
    _event(ctx, "deleted", deal)
    return {"ok": True}
