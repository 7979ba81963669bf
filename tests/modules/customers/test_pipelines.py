"""Pipelines and pipeline stages (contract §5.9-5.10)."""

from __future__ import annotations

from tests.modules.customers.helpers import create_deal, create_pipeline, uniq


async def test_pipeline_crud_and_default(admin) -> None:  # noqa: ANN001
    name = uniq("Pipe")
    res = await admin.post("/api/customers/pipelines", json={"name": name, "isDefault": False})
    assert res.status_code == 201 and isinstance(res.json()["id"], str)
    pid = res.json()["id"]
    items = (await admin.get("/api/customers/pipelines")).json()["items"]
    assert any(i["id"] == pid and i["name"] == name and i["isDefault"] is False for i in items)
    assert (await admin.put("/api/customers/pipelines", json={"id": pid, "name": name + " v2"})).json() == {"ok": True}
    first = (await admin.post("/api/customers/pipelines", json={"name": uniq("D1"), "isDefault": True})).json()["id"]
    second = (await admin.post("/api/customers/pipelines", json={"name": uniq("D2"), "isDefault": True})).json()["id"]
    listed = {i["id"]: i for i in (await admin.get("/api/customers/pipelines")).json()["items"]}
    assert listed[second]["isDefault"] is True and listed[first]["isDefault"] is False
    assert listed[pid]["name"] == name + " v2"
    defaults = (await admin.get("/api/customers/pipelines", params={"isDefault": "true"})).json()
    assert [i["id"] for i in defaults["items"]] == [second] and defaults["total"] == 1
    assert (await admin.delete("/api/customers/pipelines", json={"id": pid})).json() == {"ok": True}
    assert pid not in [i["id"] for i in (await admin.get("/api/customers/pipelines")).json()["items"]]
    res = await admin.put("/api/customers/pipelines", json={"id": pid, "name": "x"})
    assert res.status_code == 404 and res.json() == {"error": "Pipeline not found"}
    assert (await admin.post("/api/customers/pipelines", json={"name": ""})).json() == {"error": "Failed to create pipeline"}


async def test_pipeline_and_stage_with_deal_cannot_be_deleted(admin) -> None:  # noqa: ANN001
    pid, (stage,) = await create_pipeline(admin, "Busy")
    await create_deal(admin, pipelineId=pid, pipelineStageId=stage)
    res = await admin.delete("/api/customers/pipelines", json={"id": pid})
    assert res.status_code == 409 and res.json() == {"error": "Cannot delete pipeline with active deals"}
    res = await admin.delete("/api/customers/pipeline-stages", json={"id": stage})
    assert res.status_code == 409 and res.json() == {"error": "Cannot delete pipeline stage with active deals"}


async def test_stage_crud_colors_and_reorder(admin) -> None:  # noqa: ANN001
    pid, (s1, s2, s3) = await create_pipeline(admin, uniq("One"), uniq("Two"), uniq("Three"))
    stages = (await admin.get("/api/customers/pipeline-stages", params={"pipelineId": pid})).json()
    assert stages["total"] == 3 and [i["order"] for i in stages["items"]] == [0, 1, 2]
    assert stages["items"][0]["color"] is None and stages["items"][0]["icon"] is None
    label = uniq("Star")
    res = await admin.post("/api/customers/pipeline-stages", json={"pipelineId": pid, "label": label, "color": "#2563EB",
                                                                   "icon": "lucide:star", "order": 0})
    star = res.json()["id"]
    items = (await admin.get("/api/customers/pipeline-stages", params={"pipelineId": pid})).json()["items"]
    assert items[0]["id"] == star and items[0]["color"] == "#2563eb" and items[0]["icon"] == "lucide:star"
    assert [i["order"] for i in items] == [0, 1, 2, 3]
    assert (await admin.put("/api/customers/pipeline-stages", json={"id": star, "color": None, "icon": None})).json() == {"ok": True}
    star_item = next(i for i in (await admin.get("/api/customers/pipeline-stages", params={"pipelineId": pid})).json()["items"]
                     if i["id"] == star)
    assert star_item["color"] is None and star_item["icon"] is None
    new_label = uniq("Renamed")
    res = await admin.put("/api/customers/pipeline-stages", json={"id": s1, "label": new_label, "color": "#123abc"})
    assert res.json() == {"ok": True}
    res = await admin.post("/api/customers/pipeline-stages/reorder", json={"stages": [
        {"id": s3, "order": 0}, {"id": s1, "order": 1}, {"id": s2, "order": 2}, {"id": star, "order": 3}]})
    assert res.status_code == 200 and res.json() == {"ok": True}
    items = (await admin.get("/api/customers/pipeline-stages", params={"pipelineId": pid})).json()["items"]
    assert [i["id"] for i in items] == [s3, s1, s2, star]
    assert items[1]["label"] == new_label and items[1]["color"] == "#123abc"
    res = await admin.delete("/api/customers/pipeline-stages", json={"id": star})
    assert res.status_code == 200 and "x-om-operation" not in res.headers
    assert star not in [i["id"] for i in (await admin.get("/api/customers/pipeline-stages", params={"pipelineId": pid})).json()["items"]]
    assert (await admin.post("/api/customers/pipeline-stages/reorder", json={"stages": []})).json() == {
        "error": "Failed to reorder pipeline stages"}
    res = await admin.put("/api/customers/pipeline-stages", json={"id": "6f1c0d7e-0000-4000-8000-000000000001", "label": "x"})
    assert res.status_code == 404 and res.json() == {"error": "Pipeline stage not found"}


async def test_default_pipeline_seeded(admin) -> None:  # noqa: ANN001
    pipelines = (await admin.get("/api/customers/pipelines", params={"isDefault": "true"})).json()["items"]
    seeded = [p for p in pipelines if p["name"] == "Default Pipeline"]
    if seeded:
        stages = (await admin.get("/api/customers/pipeline-stages", params={"pipelineId": seeded[0]["id"]})).json()["items"]
        assert [s["label"] for s in stages] == ["Opportunity", "Marketing Qualified Lead", "Sales Qualified Lead", "Offering",
                                                "Negotiations", "Win", "Loose", "Stalled"]
    all_pipelines = (await admin.get("/api/customers/pipelines")).json()["items"]
    assert any(p["name"] == "Default Pipeline" for p in all_pipelines)


async def test_employee_reads_but_cannot_manage_pipelines(employee) -> None:  # noqa: ANN001
    assert (await employee.get("/api/customers/pipelines")).status_code == 200
    res = await employee.post("/api/customers/pipelines", json={"name": "nope"})
    assert res.status_code == 403 and res.json()["requiredFeatures"] == ["customers.pipelines.manage"]
