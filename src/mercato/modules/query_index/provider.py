"""The "query_index" provider: upsert/delete of one record's document, called inline by CRUD writes.

Index maintenance never fails the write that triggered it: failures are written to `indexer_error_logs`
(the index write runs in a savepoint, so the caller's transaction stays usable).
"""

from __future__ import annotations

import logging
import traceback
import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.modules.query_index import coverage
from mercato.modules.query_index.documents import as_uuid, complete_doc, document_tokens, token_hash
from mercato.modules.query_index.logs import error_log
from mercato.modules.query_index.models import ZERO_UUID, EntityIndex, SearchToken

log = logging.getLogger("mercato.query_index")


async def write_document(
    session: AsyncSession, entity_type: str, record_id: str, tenant_id: uuid.UUID | None,
    organization_id: uuid.UUID | None, doc: dict[str, Any],
) -> bool:
    """Insert or replace the row for (entity_type, record, organization); True when it was new or revived."""
    now = utcnow()
    org_key = organization_id or ZERO_UUID
    row = (await session.execute(select(EntityIndex).where(
        EntityIndex.entity_type == entity_type, EntityIndex.entity_id == record_id,
        EntityIndex.organization_id_coalesced == org_key))).scalar_one_or_none()
    revived = row is None or row.deleted_at is not None
    if row is None:
        row = EntityIndex(id=uuid.uuid4(), entity_type=entity_type, entity_id=record_id, organization_id=organization_id,
                          organization_id_coalesced=org_key, created_at=now, index_version=1)
        session.add(row)
    row.tenant_id, row.doc, row.updated_at, row.deleted_at = tenant_id, doc, now, None
    await session.flush()
    await replace_tokens(session, entity_type, record_id, tenant_id, organization_id, doc)
    return revived


async def replace_tokens(session: AsyncSession, entity_type: str, record_id: str, tenant_id: uuid.UUID | None,
                         organization_id: uuid.UUID | None, doc: dict[str, Any]) -> None:
    await session.execute(delete(SearchToken).where(SearchToken.entity_type == entity_type,
                                                    SearchToken.entity_id == record_id))
    now = utcnow()
    session.add_all([
        SearchToken(id=uuid.uuid4(), entity_type=entity_type, entity_id=record_id, organization_id=organization_id,
                    tenant_id=tenant_id, field=field, token_hash=token_hash(tok), token=None, created_at=now)
        for field, tok in document_tokens(doc)
    ])
    await session.flush()


async def remove_document(session: AsyncSession, entity_type: str, record_id: str,
                          tenant_id: uuid.UUID | None) -> list[EntityIndex]:
    q = select(EntityIndex).where(EntityIndex.entity_type == entity_type, EntityIndex.entity_id == record_id)
    if tenant_id is not None:
        q = q.where(EntityIndex.tenant_id == tenant_id)
    rows = list((await session.execute(q)).scalars())
    for row in rows:
        await session.delete(row)
    await session.execute(delete(SearchToken).where(SearchToken.entity_type == entity_type,
                                                    SearchToken.entity_id == record_id))
    await session.flush()
    return rows


class QueryIndexProvider:
    """Implements `mercato.kernel.extensions.QueryIndex`."""

    async def upsert(
        self, session: AsyncSession, entity_type: str, record_id: str, tenant_id: uuid.UUID | None,
        organization_id: uuid.UUID | None, doc: dict[str, Any], *, crud_action: str | None = None,
    ) -> None:
        tenant, org, rid = as_uuid(tenant_id), as_uuid(organization_id), str(record_id)

        async def work() -> None:
            full = complete_doc(doc)
            revived = await write_document(session, entity_type, rid, tenant, org, full)
            await coverage.adjust(session, entity_type, tenant, org, 1 if crud_action == "created" else 0,
                                  1 if revived else 0)

        await self._guarded(session, "event:query_index.upsert_one", work, entity_type, rid, tenant, org, crud_action)

    async def delete(
        self, session: AsyncSession, entity_type: str, record_id: str, tenant_id: uuid.UUID | None, **_: Any,
    ) -> None:
        tenant, rid = as_uuid(tenant_id), str(record_id)

        async def work() -> None:
            for row in await remove_document(session, entity_type, rid, tenant):
                await coverage.adjust(session, entity_type, row.tenant_id, row.organization_id, -1,
                                      -1 if row.deleted_at is None else 0)

        await self._guarded(session, "event:query_index.delete_one", work, entity_type, rid, tenant, None, "deleted")

    async def _guarded(self, session: AsyncSession, handler: str, work: Any, entity_type: str, record_id: str,
                       tenant: uuid.UUID | None, org: uuid.UUID | None, crud_action: str | None) -> None:
        try:
            async with session.begin_nested():  # a failed index write rolls back to here, not the caller's work
                await work()
        except Exception as exc:  # never fail the originating write
            log.exception("query index %s failed for %s %s", handler, entity_type, record_id)
            try:
                await error_log(session, handler, str(exc) or type(exc).__name__, entity_type=entity_type,
                                record_id=record_id, tenant_id=tenant, organization_id=org,
                                payload={"entityType": entity_type, "recordId": record_id, "tenantId": tenant,
                                         "organizationId": org, "crudAction": crud_action},
                                stack=traceback.format_exc())
            except Exception:
                log.exception("could not record indexer error")
