"""BDO packaging report (contract §12.9)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.modules.warehouse.helpers import detail_paths, fresh_org, move, order, product, profile, walk

URL = "/api/warehouse/bdo"
DE = {"name": "Kunde GmbH", "street": "Hauptstr.", "buildingNumber": "5", "postalCode": "10115", "city": "Berlin",
      "country": "DE"}
CSV_2023 = (
    "material;label;nonReusableKg;reusableKg;totalKg;nonReusableMg;reusableMg;totalMg;exportNonReusableKg;"
    "exportReusableKg;obligationBaseKg;recyclingLevelPercent;requiredRecyclingKg;recycledKg;shortfallKg;"
    "feeRatePlnPerKg;productFeePln\r\n"
    "plastic;Opakowania z tworzyw sztucznych;43,550;0,000;43,550;0,043550;0,000000;0,043550;10,850;0,000;32,700;"
    "40,00;13,080;5,000;8,080;2,70;21,82\r\n"
    "aluminium;Opakowania z aluminium;0,720;0,000;0,720;0,000720;0,000000;0,000720;0,000;0,000;0,720;51,00;0,367;"
    "0,000;0,367;1,40;0,51\r\n"
    "steel;Opakowania ze stali, w tym z blachy stalowej;0,000;0,000;0,000;0,000000;0,000000;0,000000;0,000;0,000;"
    "0,000;60,00;0,000;0,000;0,000;0,80;0,00\r\n"
    "paper_cardboard;Opakowania z papieru i tektury;10,760;0,000;10,760;0,010760;0,000000;0,010760;0,000;0,000;"
    "10,760;70,00;7,532;0,000;7,532;0,70;5,27\r\n"
    "glass;Opakowania ze szkła;100,800;0,000;100,800;0,100800;0,000000;0,100800;0,000;0,000;100,800;64,00;64,512;"
    "70,000;0,000;0,30;0,00\r\n"
    "wood;Opakowania z drewna;0,000;45,000;45,000;0,000000;0,045000;0,045000;0,000;0,000;0,000;21,00;0,000;0,000;"
    "0,000;0,30;0,00\r\n"
    "multi_material;Opakowania wielomateriałowe;0,000;0,000;0,000;0,000000;0,000000;0,000000;0,000;0,000;0,000;"
    "53,00;0,000;0,000;0,000;1,70;0,00\r\n"
    "TOTAL;Razem;155,830;45,000;200,830;0,155830;0,045000;0,200830;10,850;0,000;144,980;;85,491;75,000;15,979;;27,60"
    "\r\n")


async def _ship(api, prof: dict, lines: list[dict], shipped_at: str, **fields) -> str:  # noqa: ANN001, ANN003
    packed = fields.pop("packed", {})
    placed = shipped_at[:10] + "T00:05:00Z"
    o = (await order(api, prof["id"], lines, placedAt=placed, **fields))["id"]
    await walk(api, o, "confirmed", "picking", times=[placed, placed])
    await move(api, o, "packed", occurredAt=placed, **packed)
    await move(api, o, "shipped", carrier="dpd", occurredAt=shipped_at)
    return o


def _rows(report: dict) -> dict[str, dict]:
    return {m["material"]: m for m in report["materials"]}


async def test_b1_single_product_and_frozen_packaging(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    p = await product(api, "B1-KREM", initialStock=2000, packaging=[{"material": "plastic", "massGrams": 35},
                                                                    {"material": "paper_cardboard", "massGrams": 12}])
    prof = await profile(api)
    await _ship(api, prof, [{"productId": p["id"], "quantity": 1000}], "2023-06-02T12:00:00Z")
    res = await api.get(URL, params={"year": "2023"})
    assert res.status_code == 200, res.text
    report = res.json()
    assert report["source"]["orderCount"] == 1 and report["source"]["lineCount"] == 1
    rows = _rows(report)
    assert [m["material"] for m in report["materials"]] == ["plastic", "aluminium", "steel", "paper_cardboard",
                                                            "glass", "wood", "multi_material"]
    plastic = rows["plastic"]
    assert (plastic["nonReusableKg"], plastic["reusableKg"], plastic["totalKg"], plastic["totalMg"],
            plastic["obligationBaseKg"], plastic["recyclingLevelPercent"], plastic["requiredRecyclingKg"],
            plastic["shortfallKg"], plastic["feeRatePlnPerKg"], plastic["productFeePln"]) == \
        (35, 0, 35, 0.035, 35, 40, 14, 14, 2.70, 37.80)
    paper = rows["paper_cardboard"]
    assert (paper["totalKg"], paper["recyclingLevelPercent"], paper["requiredRecyclingKg"], paper["productFeePln"]) == \
        (12, 70, 8.4, 5.88)
    for material, level in (("aluminium", 51), ("steel", 60), ("glass", 64), ("wood", 21), ("multi_material", 53)):
        assert (rows[material]["totalKg"], rows[material]["recyclingLevelPercent"], rows[material]["productFeePln"]) \
            == (0, level, 0), material
    t = report["totals"]
    assert (t["totalKg"], t["totalMg"], t["obligationBaseKg"], t["requiredRecyclingKg"], t["productFeePln"]) == \
        (47, 0.047, 47, 22.4, 43.68)
    assert (report["overallRecyclingLevelPercent"], report["filingDeadline"], report["warnings"]) == (61, "2024-03-15", [])
    assert report["period"] == {"from": "2023-01-01", "to": "2023-12-31"}
    # 75: later packaging edits do not rewrite the report
    await api.put("/api/warehouse/products", json={"id": p["id"], "packaging": [{"material": "plastic",
                                                                                 "massGrams": 99}]})
    again = (await api.get(URL, params={"year": "2023"})).json()
    assert again["materials"] == report["materials"] and again["totals"] == report["totals"]


async def test_b2_mixed_materials_export_and_csv(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    sok = await product(api, "SOK-JAB-1L", initialStock=1000, packaging=[
        {"material": "glass", "massGrams": 420}, {"material": "aluminium", "massGrams": 3},
        {"material": "paper_cardboard", "massGrams": 1.5}])
    woda = await product(api, "WODA-05-12", initialStock=1000, packaging=[
        {"material": "plastic", "massGrams": 192}, {"material": "plastic", "massGrams": 25,
                                                    "packagingType": "collective"}])
    jab = await product(api, "JAB-SKRZ-10", initialStock=1000, packaging=[
        {"material": "wood", "massGrams": 1500, "reusable": True, "packagingType": "transport"},
        {"material": "paper_cardboard", "massGrams": 80}])
    prof = await profile(api)
    await _ship(api, prof, [{"productId": sok["id"], "quantity": 240}], "2023-05-10T10:00:00Z",
                packed={"shippingPackaging": [{"material": "paper_cardboard", "massGrams": 8000},
                                              {"material": "plastic", "massGrams": 150}]})
    await _ship(api, prof, [{"productId": woda["id"], "quantity": 150}, {"productId": jab["id"], "quantity": 30}],
                "2023-09-15T10:00:00Z")
    await _ship(api, prof, [{"productId": woda["id"], "quantity": 50}], "2023-11-20T10:00:00Z", shippingAddress=DE)
    await _ship(api, prof, [{"productId": sok["id"], "quantity": 10}], "2023-12-31T23:30:00Z")
    o5 = (await order(api, prof["id"], [{"productId": sok["id"], "quantity": 5}], placedAt="2023-10-01T10:00:00Z"))
    await move(api, o5["id"], "cancelled", reason="test")
    report = (await api.get(URL, params={"year": "2023"})).json()
    assert report["source"] == {"orderCount": 3, "lineCount": 4, "shippingPackagingEntries": 2}
    rows = _rows(report)
    expected = {
        "plastic": (43.55, 0, 43.55, 10.85, 32.7, 40, 13.08, 35.32),
        "aluminium": (0.72, 0, 0.72, 0, 0.72, 51, 0.367, 0.51),
        "steel": (0, 0, 0, 0, 0, 60, 0, 0),
        "paper_cardboard": (10.76, 0, 10.76, 0, 10.76, 70, 7.532, 5.27),
        "glass": (100.8, 0, 100.8, 0, 100.8, 64, 64.512, 19.35),
        "wood": (0, 45, 45, 0, 0, 21, 0, 0),
        "multi_material": (0, 0, 0, 0, 0, 53, 0, 0),
    }
    for material, values in expected.items():
        r = rows[material]
        assert (r["nonReusableKg"], r["reusableKg"], r["totalKg"], r["exportNonReusableKg"], r["obligationBaseKg"],
                r["recyclingLevelPercent"], r["requiredRecyclingKg"], r["productFeePln"]) == values, material
    assert report["totals"] == {
        "nonReusableKg": 155.83, "reusableKg": 45, "totalKg": 200.83, "nonReusableMg": 0.15583, "reusableMg": 0.045,
        "totalMg": 0.20083, "exportNonReusableKg": 10.85, "exportReusableKg": 0, "obligationBaseKg": 144.98,
        "requiredRecyclingKg": 85.491, "recycledKg": 0, "shortfallKg": 85.491, "productFeePln": 60.45}
    assert report["warnings"] == []
    # 70
    y2024 = (await api.get(URL, params={"year": "2024"})).json()
    rows = _rows(y2024)
    assert y2024["source"]["orderCount"] == 1
    assert (rows["glass"]["nonReusableKg"], rows["aluminium"]["nonReusableKg"],
            rows["paper_cardboard"]["nonReusableKg"]) == (4.2, 0.03, 0.015)
    # 71
    rec = (await api.get(URL, params={"year": "2023", "recycled": "plastic:5,glass:70"})).json()
    rows = _rows(rec)
    assert (rows["plastic"]["recycledKg"], rows["plastic"]["shortfallKg"], rows["plastic"]["productFeePln"]) == \
        (5, 8.08, 21.82)
    assert (rows["glass"]["recycledKg"], rows["glass"]["shortfallKg"], rows["glass"]["productFeePln"]) == (70, 0, 0)
    assert (rec["totals"]["recycledKg"], rec["totals"]["shortfallKg"], rec["totals"]["productFeePln"]) == \
        (75, 15.979, 27.60)
    res = await api.get(URL, params={"year": "2023", "recycled": "plastic:5,glass:70", "format": "csv"})
    assert res.status_code == 200 and res.content.decode("utf-8") == CSV_2023
    assert res.headers["content-type"] == "text/csv; charset=utf-8"
    assert res.headers["content-disposition"] == 'attachment; filename="bdo-2023.csv"'
    # 72
    empty = (await api.get(URL, params={"year": "2022"})).json()
    assert [m["recyclingLevelPercent"] for m in empty["materials"]] == [30, 51, 55, 66, 62, 19, 47]
    assert all(m["totalKg"] == 0 and m["productFeePln"] == 0 for m in empty["materials"])
    assert empty["totals"]["productFeePln"] == 0 and empty["overallRecyclingLevelPercent"] == 59
    assert empty["warnings"] == []


async def test_warnings_and_validation(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    prof = await profile(api)
    nopack = await product(api, "NOPACK")
    await _ship(api, prof, [{"productId": nopack["id"], "quantity": 3}], "2022-05-05T10:00:00Z")
    report = (await api.get(URL, params={"year": "2022"})).json()
    assert report["totals"]["totalKg"] == 0
    assert report["warnings"] == [{"code": "product_without_packaging", "productId": nopack["id"], "sku": "NOPACK"}]
    multi = await product(api, "MULTI", initialStock=200, packaging=[{"material": "multi_material", "massGrams": 10}])
    await _ship(api, prof, [{"productId": multi["id"], "quantity": 100}], "2025-05-05T10:00:00Z")
    report = (await api.get(URL, params={"year": "2025"})).json()
    row = _rows(report)["multi_material"]
    assert (row["nonReusableKg"], row["obligationBaseKg"], row["recyclingLevelPercent"], row["requiredRecyclingKg"],
            row["shortfallKg"], row["feeRatePlnPerKg"], row["productFeePln"]) == (1, 1, None, None, None, 1.70, None)
    assert report["warnings"] == [{"code": "missing_recycling_level", "material": "multi_material"}]
    assert report["totals"]["productFeePln"] == 0
    current = datetime.now(ZoneInfo("Europe/Warsaw")).year
    assert (["year"], "year must be between 2000 and the current year") in detail_paths(
        await api.get(URL, params={"year": "1999"}))
    assert (await api.get(URL, params={"year": str(current + 1)})).status_code == 400
    assert (await api.get(URL, params={"format": "xml"})).status_code == 400
    for bad in ("plastic:abc", "plastic:1,plastic:2", "gold:1"):
        assert (["recycled"], "Invalid recycled value") in detail_paths(await api.get(URL, params={"recycled": bad}))
    assert (await api.get(URL)).json()["year"] == current - 1
