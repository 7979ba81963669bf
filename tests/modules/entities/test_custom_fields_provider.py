"""The `custom_fields` provider used by the CRUD kernel: load, save, keys, filter_clause (framework §2.5, C.7)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, select

from mercato.kernel.errors import ApiError
from mercato.modules.directory.models import Organization
from mercato.modules.entities.models import CustomFieldValue

ENTITY = "directory:organization"


@pytest.fixture
def provider(app):  # noqa: ANN001, ANN201
    return app.state.registry.provider("custom_fields")


@pytest.fixture
def tenant_id(app) -> uuid.UUID:  # noqa: ANN001
    return uuid.UUID(app.state.seeded["tenantId"])


async def _define(admin, key_prefix: str) -> dict[str, str]:  # noqa: ANN001
    keys = {name: f"{key_prefix}_{name}" for name in ("tier", "tags", "score", "vip", "ratio", "note")}
    res = await admin.post("/api/entities/definitions.batch", json={"entityId": ENTITY, "definitions": [
        {"key": keys["tier"], "kind": "select", "configJson": {"options": ["gold", "silver"], "filterable": True}},
        {"key": keys["tags"], "kind": "text", "configJson": {"multi": True}},
        {"key": keys["score"], "kind": "integer", "configJson": {"validation": [
            {"rule": "lte", "param": 10, "message": "Max 10"}]}},
        {"key": keys["vip"], "kind": "boolean"},
        {"key": keys["ratio"], "kind": "float"},
        {"key": keys["note"], "kind": "multiline"},
    ]})
    assert res.status_code == 200, res.text
    return keys


async def _orgs(db, tenant_id) -> list[uuid.UUID]:  # noqa: ANN001
    rows = (await db.execute(select(Organization.id).where(Organization.tenant_id == tenant_id).order_by(Organization.name)))
    return [r[0] for r in rows.all()][:3]


async def test_save_and_load_values_in_one_query(app, admin, db, provider, tenant_id):
    keys = await _define(admin, f"p{uuid.uuid4().hex[:6]}")
    orgs = await _orgs(db, tenant_id)
    await provider.save(db, ENTITY, str(orgs[0]), tenant_id, None, {
        f"cf_{keys['tier']}": "gold", keys["tags"]: ["a", "b"], keys["score"]: "7", keys["vip"]: True,
        keys["ratio"]: 0.5, keys["note"]: "long text",
    })
    await provider.save(db, ENTITY, str(orgs[1]), tenant_id, None, {keys["tier"]: "silver", keys["tags"]: ["c"]})
    await db.commit()
    stored = (await db.execute(select(CustomFieldValue).where(
        CustomFieldValue.record_id == str(orgs[0]), CustomFieldValue.field_key == keys["score"]))).scalar_one()
    assert stored.value_int == 7 and stored.value_text is None
    note = (await db.execute(select(CustomFieldValue).where(
        CustomFieldValue.record_id == str(orgs[0]), CustomFieldValue.field_key == keys["note"]))).scalar_one()
    assert note.value_multiline == "long text"

    statements: list[str] = []

    def track(conn, cursor, statement, *args):  # noqa: ANN001, ANN002
        if "custom_field_values" in statement:
            statements.append(statement)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", track)
    try:
        loaded = await provider.load(db, ENTITY, [str(o) for o in orgs], tenant_id)
    finally:
        event.remove(engine, "before_cursor_execute", track)
    assert len(statements) == 1
    first = loaded[str(orgs[0])]
    assert first[keys["tier"]] == "gold" and first[keys["tags"]] == ["a", "b"] and first[keys["score"]] == 7
    assert first[keys["vip"]] is True and first[keys["ratio"]] == 0.5 and first[keys["note"]] == "long text"
    assert loaded[str(orgs[1])][keys["tags"]] == ["c"]
    assert loaded[str(orgs[2])][keys["tier"]] is None and loaded[str(orgs[2])][keys["tags"]] == []


async def test_multi_write_replaces_rows(admin, db, provider, tenant_id):
    keys = await _define(admin, f"r{uuid.uuid4().hex[:6]}")
    record = str(uuid.uuid4())
    await provider.save(db, ENTITY, record, tenant_id, None, {keys["tags"]: ["a", "b", "c"]})
    await provider.save(db, ENTITY, record, tenant_id, None, {keys["tags"]: ["z"]})
    await db.commit()
    rows = (await db.execute(select(CustomFieldValue.value_text).where(
        CustomFieldValue.record_id == record, CustomFieldValue.field_key == keys["tags"]))).scalars().all()
    assert rows == ["z"]


async def test_save_validates_rules_and_kinds(admin, db, provider, tenant_id):
    keys = await _define(admin, f"v{uuid.uuid4().hex[:6]}")
    with pytest.raises(ApiError) as err:
        await provider.save(db, ENTITY, str(uuid.uuid4()), tenant_id, None,
                            {keys["score"]: 11, keys["tier"]: "bronze", keys["vip"]: "perhaps", "undeclared": "ok"})
    assert err.value.status == 400
    assert err.value.body == {"error": "Validation failed", "fields": {
        f"cf_{keys['score']}": "Max 10", f"cf_{keys['tier']}": "Must be one of the configured options",
        f"cf_{keys['vip']}": "Must be true or false"}}
    await db.rollback()


async def test_keys_lists_active_definitions(admin, db, provider, tenant_id, other_admin):
    keys = await _define(admin, f"k{uuid.uuid4().hex[:6]}")
    await admin.request("DELETE", "/api/entities/definitions", json={"entityId": ENTITY, "key": keys["note"]})
    listed = await provider.keys(db, ENTITY, tenant_id)
    names = [k["key"] for k in listed]
    assert keys["tier"] in names and keys["note"] not in names
    tier = next(k for k in listed if k["key"] == keys["tier"])
    assert tier["kind"] == "select" and tier["filterable"] is True and tier["multi"] is False
    other = await provider.keys(db, ENTITY, uuid.UUID(other_admin.tenant_id))
    assert keys["tier"] not in [k["key"] for k in other]


async def test_filter_clause_in_list_query(admin, db, provider, tenant_id):
    keys = await _define(admin, f"f{uuid.uuid4().hex[:6]}")
    orgs = await _orgs(db, tenant_id)
    await provider.save(db, ENTITY, str(orgs[0]), tenant_id, None, {keys["tier"]: "gold", keys["tags"]: ["x", "y"],
                                                                   keys["score"]: 3, keys["vip"]: True})
    await provider.save(db, ENTITY, str(orgs[1]), tenant_id, None, {keys["tier"]: "silver", keys["score"]: 5})
    await db.commit()

    async def ids(op: str, key: str, value) -> set[uuid.UUID]:  # noqa: ANN001
        clause = provider.filter_clause(ENTITY, tenant_id, key, op, value, Organization.id)
        q = select(Organization.id).where(Organization.tenant_id == tenant_id, clause)
        return set((await db.execute(q)).scalars())

    assert await ids("eq", keys["tier"], "gold") == {orgs[0]}
    assert await ids("in", keys["tier"], ["gold", "silver"]) == {orgs[0], orgs[1]}
    assert await ids("in", keys["tier"], "silver") == {orgs[1]}
    assert await ids("eq", keys["tags"], "y") == {orgs[0]}
    assert await ids("eq", keys["score"], "5") == {orgs[1]}
    assert await ids("eq", keys["vip"], True) == {orgs[0]}
    assert orgs[0] not in await ids("ne", keys["tier"], "gold")
    assert await ids("ilike", keys["tier"], "ILV") == {orgs[1]}
    # another tenant's predicate matches nothing of this tenant
    clause = provider.filter_clause(ENTITY, uuid.uuid4(), keys["tier"], "eq", "gold", Organization.id)
    assert (await db.execute(select(Organization.id).where(clause))).first() is None
