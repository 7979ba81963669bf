"""Module-declared entities/field sets (C.8) and relation options (C.5.16)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.kernel.module import Module, Registry
from mercato.modules.entities import declared
from mercato.modules.entities.models import CustomEntity, CustomFieldDef
from tests.modules.entities.conftest import make_entity, new_entity_id


def _registry(entity: str, deal_entity: str) -> Registry:
    return Registry([Module(id="sample", title="Sample", providers={
        "custom_field_sets": [{"entity": deal_entity, "fields": [
            {"key": "competitive_risk", "kind": "select", "options": ["low", "medium", "high"], "filterable": True},
            {"key": "estimated_seats", "kind": "integer"},
        ]}],
        "custom_entities": [{"id": entity, "label": "Calendar", "showInSidebar": True, "accessRestricted": True,
                             "fields": [{"key": "title", "kind": "text"}]}],
    })])


async def test_install_declared_definitions_create_only_then_full(db):
    tenant_id = uuid.uuid4()
    entity, deal = new_entity_id("decl"), new_entity_id("deal")
    registry = _registry(entity, deal)
    assert await declared.install(db, registry, tenant_id) == 4
    rows = (await db.execute(select(CustomFieldDef).where(CustomFieldDef.tenant_id == tenant_id)
                             .order_by(CustomFieldDef.key))).scalars().all()
    assert [(r.entity_id, r.key, r.kind) for r in rows] == [
        (deal, "competitive_risk", "select"), (deal, "estimated_seats", "integer"), (entity, "title", "text")]
    risk = rows[0]
    assert risk.organization_id is None and risk.config_json["priority"] == 0 and risk.config_json["filterable"] is True
    assert rows[1].config_json["priority"] == 1 and rows[1].config_json["label"] == "estimated_seats"
    ent = (await db.execute(select(CustomEntity).where(CustomEntity.entity_id == entity))).scalar_one()
    assert ent.show_in_sidebar is True and ent.access_restricted is True and ent.tenant_id == tenant_id
    # create-only leaves admin changes alone; full mode restores the declaration and revives tombstones
    risk.kind = "text"
    risk.deleted_at = risk.updated_at
    await db.flush()
    assert await declared.install(db, registry, tenant_id) == 0
    assert await declared.install(db, registry, tenant_id, full=True) == 2  # the entity row + the changed field
    await db.refresh(risk)
    assert risk.kind == "select" and risk.deleted_at is None
    await db.rollback()


async def test_relation_options_for_custom_entity(admin, employee, anon, entity_id):
    await make_entity(admin, entity_id, [{"key": "name", "kind": "text"}], labelField="name")
    ids = []
    for name in ("Alpha", "Beta", "Gamma"):
        res = await admin.post("/api/entities/records", json={"entityId": entity_id, "values": {"name": name}})
        ids.append(res.json()["item"]["recordId"])
    res = await admin.get(f"/api/entities/relations/options?entityId={entity_id}")
    assert res.status_code == 200
    assert sorted(i["label"] for i in res.json()["items"]) == ["Alpha", "Beta", "Gamma"]
    assert {i["value"] for i in res.json()["items"]} == set(ids)
    res = await admin.get(f"/api/entities/relations/options?entityId={entity_id}&q=amm")
    assert [i["label"] for i in res.json()["items"]] == ["Gamma"]
    res = await admin.get(f"/api/entities/relations/options?entityId={entity_id}&ids={ids[1]}")
    assert res.json()["items"] == [{"value": ids[1], "label": "Beta"}]
    assert (await admin.get("/api/entities/relations/options")).json() == {"items": []}
    assert (await admin.get(f"/api/entities/relations/options?entityId={new_entity_id()}")).json() == {"items": []}
    res = await employee.get(f"/api/entities/relations/options?entityId={entity_id}")
    assert res.status_code == 403 and res.json()["requiredFeatures"] == ["entities.definitions.view"]
    assert (await anon.get(f"/api/entities/relations/options?entityId={entity_id}")).status_code == 401


async def test_relation_options_for_code_entity(admin, app):
    res = await admin.get("/api/entities/relations/options?entityId=directory:organization&q=sales")
    assert res.status_code == 200
    assert [i["label"] for i in res.json()["items"]] == ["Acme Sales"]


async def test_relation_options_are_tenant_scoped(admin, other_admin, entity_id):
    await make_entity(admin, entity_id, [{"key": "name", "kind": "text"}], labelField="name")
    await admin.post("/api/entities/records", json={"entityId": entity_id, "values": {"name": "Private"}})
    assert (await other_admin.get(f"/api/entities/relations/options?entityId={entity_id}")).json() == {"items": []}
    res = await other_admin.get("/api/entities/relations/options?entityId=directory:organization&q=acme")
    assert res.json()["items"] == []
