"""System status, upgrade actions and module telemetry (platform contract §2.5.3-§2.5.8, scenarios §2.7 #1, #6)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from mercato.modules.configs.models import UpgradeActionRun
from mercato.modules.configs.service import get_module_config, set_module_config
from mercato.modules.configs.system_status import strip_credentials, system_status
from mercato.modules.configs.upgrade_actions import applicable
from mercato.modules.customers.models import CustomerDictionaryEntry
from tests.modules.feature_toggles.helpers import make_tenant, stamp

STATUS = "/api/configs/system-status"
UPGRADES = "/api/configs/upgrade-actions"
TELEMETRY = "/api/configs/module-telemetry"


async def test_system_status_b1(admin, employee, anon) -> None:
    res = await admin.get(STATUS)
    assert res.status_code == 200
    body = res.json()
    datetime.fromisoformat(body["generatedAt"].replace("Z", "+00:00"))
    assert body["runtimeMode"] in {"development", "production", "test", "unknown"}
    assert [c["key"] for c in body["categories"]] == ["profiling", "logging", "security", "caching", "query_index",
                                                      "entities"]
    first = body["categories"][0]
    assert first["labelKey"] == "configs.systemStatus.categories.profiling" and isinstance(first["items"], list)
    assert body["categories"][4]["descriptionKey"] == "configs.systemStatus.categories.queryIndexDescription"
    states = {i["state"] for c in body["categories"] for i in c["items"]}
    assert states <= {"enabled", "disabled", "set", "unset", "unknown"} and states
    assert (await employee.get(STATUS)).status_code == 403
    assert (await anon.get(STATUS)).status_code == 401
    res = await employee.post(STATUS)
    assert res.status_code == 403 and res.json()["requiredFeatures"] == ["configs.manage"]


def test_system_status_item_rules() -> None:
    env = {"NODE_ENV": " Production ", "QUERY_ENGINE_DEBUG_SQL": "Yes", "SCHEDULE_AUTO_REINDEX": "off",
           "ENABLE_CRUD_API_CACHE": "maybe", "CACHE_TTL": " 60 ", "LOG_LEVEL": "  ",
           "DATABASE_URL": "postgresql://user:pw@db.local:5432/app"}
    body = system_status(env)
    assert body["runtimeMode"] == "production"
    items = {i["key"]: i for c in body["categories"] for i in c["items"]}
    assert len(items) == 24
    assert (items["QUERY_ENGINE_DEBUG_SQL"]["state"], items["QUERY_ENGINE_DEBUG_SQL"]["normalizedValue"]) == (
        "enabled", "true")
    assert (items["SCHEDULE_AUTO_REINDEX"]["state"], items["SCHEDULE_AUTO_REINDEX"]["normalizedValue"]) == (
        "disabled", "false")
    assert (items["ENABLE_CRUD_API_CACHE"]["state"], items["ENABLE_CRUD_API_CACHE"]["normalizedValue"]) == (
        "unknown", "maybe")
    assert (items["CACHE_TTL"]["state"], items["CACHE_TTL"]["value"]) == ("set", "60")
    assert (items["LOG_LEVEL"]["state"], items["LOG_LEVEL"]["value"], items["LOG_LEVEL"]["normalizedValue"]) == (
        "unset", None, None)
    db = items["DATABASE_URL"]
    assert db["value"] == "postgresql://db.local:5432/app" and db["docUrl"] is None and db["defaultValue"] is None
    om = items["OM_PROFILE"]
    assert om == {"key": "OM_PROFILE", "category": "profiling", "kind": "string",
                  "labelKey": "configs.systemStatus.variables.omProfile.label",
                  "descriptionKey": "configs.systemStatus.variables.omProfile.description",
                  "docUrl": "https://docs.openmercato.com/docs/framework/operations/system-status#om_profile",
                  "defaultValue": "", "state": "unset", "value": None, "normalizedValue": None}
    assert items["OM_PASSWORD_MIN_LENGTH"]["defaultValue"] == "6"
    assert system_status({"NODE_ENV": "staging"})["runtimeMode"] == "unknown"
    assert strip_credentials("sqlite+aiosqlite:///./data/x.db") == "sqlite+aiosqlite:///./data/x.db"


async def test_upgrade_actions_disabled_b6(admin, employee, app, monkeypatch) -> None:
    monkeypatch.delenv("UPGRADE_ACTIONS_ENABLED", raising=False)
    res = await admin.get(UPGRADES)
    assert res.status_code == 200 and res.json() == {"version": app.state.settings.app_version, "actions": []}
    res = await admin.post(UPGRADES, json={"actionId": "customers.seed-interaction-statuses"})
    assert res.status_code == 403 and res.json() == {"error": "Upgrade actions are disabled"}
    assert (await employee.get(UPGRADES)).status_code == 403
    assert (await employee.post(UPGRADES, json={"actionId": "x"})).status_code == 403


def test_applicable_actions_follow_semver() -> None:
    assert [a.id for a in applicable("0.6.5")] == ["customers.seed-interaction-statuses"]
    assert [a.id for a in applicable("0.6.10")] == ["customers.seed-interaction-statuses",
                                                    "attachments.reconcile-organization"]
    assert applicable("0.6.5-rc.1") == [] and applicable("0.1.0") == []


async def test_upgrade_actions_run_in_order(app, monkeypatch, db) -> None:
    monkeypatch.setenv("UPGRADE_ACTIONS_ENABLED", "true")
    monkeypatch.setattr(app.state.settings, "version", "0.6.7")
    other = await make_tenant(app, "Upgrades")
    api = other.admin
    res = await api.get(UPGRADES)
    assert res.status_code == 200
    body = res.json()
    assert body["version"] == "0.6.7" and [a["id"] for a in body["actions"]] == ["customers.seed-interaction-statuses"]
    action = body["actions"][0]
    assert set(action) == {"id", "version", "message", "ctaLabel", "successMessage", "loadingLabel"}
    assert (action["version"], action["ctaLabel"]) == ("0.6.5", "Seed interaction statuses")
    res = await api.post(UPGRADES, json={"actionId": " customers.seed-interaction-statuses "})
    assert res.status_code == 200
    assert res.json() == {"status": "completed", "message": "Interaction statuses are ready.", "version": "0.6.7"}
    values = set((await db.execute(select(CustomerDictionaryEntry.value).where(
        CustomerDictionaryEntry.tenant_id == uuid.UUID(other.tenant_id),
        CustomerDictionaryEntry.kind == "interaction_status"))).scalars())
    assert values == {"planned", "in_progress", "waiting", "done", "canceled"}
    res = await api.post(UPGRADES, json={"actionId": "customers.seed-interaction-statuses"})
    assert res.json()["status"] == "already_completed"
    runs = (await db.execute(select(UpgradeActionRun).where(
        UpgradeActionRun.tenant_id == uuid.UUID(other.tenant_id)))).scalars().all()
    assert [(r.action_id, r.version, str(r.organization_id)) for r in runs] == [
        ("customers.seed-interaction-statuses", "0.6.5", other.org_id)]
    nxt = (await api.get(UPGRADES)).json()["actions"]
    assert [a["id"] for a in nxt] == ["attachments.reconcile-organization"]
    assert "0.6.6 fixes attachments" in nxt[0]["message"]
    res = await api.post(UPGRADES, json={"actionId": "nope"})
    assert res.status_code == 500
    assert res.json() == {"error": "We could not run this upgrade action.", "details": "UPGRADE_ACTION_NOT_AVAILABLE"}
    for body in ({}, {"actionId": "  "}, {"actionId": 3}):
        res = await api.post(UPGRADES, json=body)
        assert res.status_code == 400 and res.json() == {"error": "Invalid request body"}


async def test_upgrade_actions_need_an_organization(superadmin, monkeypatch) -> None:
    monkeypatch.setenv("UPGRADE_ACTIONS_ENABLED", "1")
    cookies = {"om_selected_tenant": "", "om_selected_org": "__all__"}
    res = await superadmin.get(UPGRADES, cookies=cookies)
    assert res.status_code == 400
    assert res.json() == {"error": "Select an organization and tenant to apply this upgrade."}


async def test_module_telemetry(admin, employee, monkeypatch) -> None:
    await admin.get("/api/configs/cache")
    res = await admin.get(TELEMETRY)
    assert res.status_code == 200
    body = res.json()
    assert {"generatedAt", "startedAt", "enabled", "bucketIntervalMs", "totals", "thresholds", "modules",
            "candidates", "buckets", "canClearTelemetry"} == set(body)
    assert body["bucketIntervalMs"] == 300000 and body["thresholds"]["p95DurationMs"] == 5000
    configs = next(m for m in body["modules"] if m["moduleId"] == "configs")
    ops = {o["operation"] for o in configs["topOperations"]}
    assert configs["calls"] >= 1 and configs["surfaces"][0]["surface"] == "api"
    assert ops & {"GET /configs/cache", "GET /configs/module-telemetry"}
    assert body["totals"]["calls"] == sum(m["calls"] for m in body["modules"])
    assert (await employee.get(TELEMETRY)).status_code == 403
    monkeypatch.setenv("NODE_ENV", "production")
    res = await admin.delete(TELEMETRY)
    assert res.status_code == 403
    assert res.json() == {"error": "Clearing module telemetry is only available in development mode."}
    monkeypatch.setenv("NODE_ENV", "development")
    assert (await admin.get(TELEMETRY)).json()["canClearTelemetry"] is True
    res = await admin.delete(TELEMETRY)
    assert res.status_code == 200 and res.json() == {"cleared": True}
    assert (await admin.get(TELEMETRY)).json()["totals"]["calls"] <= 1


async def test_module_config_store(app) -> None:
    cache = app.state.cache
    module_id, name = f"qa_{stamp()}", "setting"
    tenant = uuid.UUID(app.state.seeded["tenantId"])
    async with app.state.db.sessionmaker() as session, session.begin():
        assert await get_module_config(session, module_id, name, tenant, cache=cache) is None
        await set_module_config(session, module_id, name, {"v": 1}, cache=cache)
        await set_module_config(session, module_id, name, {"v": 2}, cache=cache)
        await cache.clear(tenant)
        assert await get_module_config(session, module_id, name, tenant, cache=cache) == {"v": 2}
        await set_module_config(session, module_id, name, {"v": "tenant"}, tenant, cache=cache)
        assert await get_module_config(session, module_id, name, tenant, cache=cache) == {"v": "tenant"}
        assert await get_module_config(session, module_id, name, None) == {"v": 2}
