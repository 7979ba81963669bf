"""The "query_index" provider: single-record upsert/delete, search tokens, coverage deltas, error isolation."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from mercato.modules.query_index.coverage import write_snapshot
from mercato.modules.query_index.documents import token_hash, tokenize
from mercato.modules.query_index.models import EntityIndex, EntityIndexCoverage, IndexerErrorLog, SearchToken

ENTITY = "tests:widget"


async def test_upsert_delete_round_trip(app, db) -> None:
    provider = app.state.registry.provider("query_index")
    tenant, org = uuid.uuid4(), uuid.uuid4()
    rid = str(uuid.uuid4())
    await write_snapshot(db, ENTITY, tenant, org, base=0, indexed=0)
    await provider.upsert(db, ENTITY, rid, tenant, org,
                          {"id": rid, "display_name": "Café Ölberg", "owner_user_id": "x", "created_at": "y",
                           "api_token": "secret-value", "tenant_id": str(tenant)}, crud_action="created")
    await db.commit()
    row = (await db.execute(select(EntityIndex).where(EntityIndex.entity_id == rid))).scalar_one()
    assert row.doc["display_name"] == "Café Ölberg" and row.doc["search_text"] == "Café Ölberg\nsecret-value"
    assert row.organization_id == org and row.organization_id_coalesced == org and row.deleted_at is None
    tokens = set((await db.execute(select(SearchToken.token_hash).where(SearchToken.entity_id == rid))).scalars())
    assert token_hash("cafe") in tokens and token_hash("olb") in tokens
    assert token_hash("secret") not in tokens  # sensitive field names are never tokenised
    snap = (await db.execute(select(EntityIndexCoverage).where(EntityIndexCoverage.entity_type == ENTITY,
                                                               EntityIndexCoverage.tenant_id == tenant))).scalar_one()
    assert (snap.base_count, snap.indexed_count) == (1, 1)
    # updating keeps one row and does not count twice
    await provider.upsert(db, ENTITY, rid, tenant, org, {"id": rid, "display_name": "Renamed"}, crud_action="updated")
    await db.commit()
    await db.refresh(snap)
    assert (snap.base_count, snap.indexed_count) == (1, 1)
    assert (await db.execute(select(func.count()).where(EntityIndex.entity_id == rid))).scalar_one() == 1
    await provider.delete(db, ENTITY, rid, tenant)
    await db.commit()
    await db.refresh(snap)
    assert (snap.base_count, snap.indexed_count) == (0, 0)
    assert (await db.execute(select(func.count()).where(EntityIndex.entity_id == rid))).scalar_one() == 0
    assert (await db.execute(select(func.count()).where(SearchToken.entity_id == rid))).scalar_one() == 0


async def test_tenant_level_records_use_the_zero_organization(app, db) -> None:
    provider = app.state.registry.provider("query_index")
    rid, tenant = str(uuid.uuid4()), uuid.uuid4()
    await provider.upsert(db, ENTITY, rid, tenant, None, {"id": rid, "name": "Global"})
    await db.commit()
    row = (await db.execute(select(EntityIndex).where(EntityIndex.entity_id == rid))).scalar_one()
    assert row.organization_id is None and row.organization_id_coalesced == uuid.UUID(int=0)


async def test_index_failure_is_logged_not_raised_and_keeps_the_callers_work(app, db) -> None:
    provider = app.state.registry.provider("query_index")
    kept, rid = str(uuid.uuid4()), str(uuid.uuid4())
    await provider.upsert(db, ENTITY, kept, uuid.uuid4(), None, {"id": kept})  # the caller's earlier work
    await provider.upsert(db, None, rid, uuid.uuid4(), None, {"id": rid})  # NOT NULL violation inside the index
    await db.commit()
    errors = (await db.execute(select(IndexerErrorLog).where(IndexerErrorLog.record_id == rid))).scalars().all()
    assert len(errors) == 1 and errors[0].handler == "event:query_index.upsert_one"
    assert errors[0].payload["recordId"] == rid and errors[0].stack
    assert (await db.execute(select(func.count()).where(EntityIndex.entity_id == kept))).scalar_one() == 1


def test_tokenizer() -> None:
    assert tokenize("Zürich_HQ 100%") == ["zur", "zuri", "zuric", "zurich", "100"]
    assert tokenize("ab") == []
