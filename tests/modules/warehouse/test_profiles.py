"""Customer profiles (contract §12.3): NIP, B2B/B2C rules, CRM links, addresses, merged-record updates, filters."""

from __future__ import annotations

from tests.modules.warehouse.helpers import NIP_A, NIP_B, detail_paths, fresh_org

URL = "/api/warehouse/customer-profiles"


async def test_profiles_scenarios(app) -> None:  # noqa: ANN001
    api = await fresh_org(app)
    res = await api.post(URL, json={"kind": "b2b", "displayName": "Hurtownia Kowalski", "nip": "PL 111-222-33-32"})
    assert res.status_code == 201, res.text
    p19 = res.json()["profile"]
    assert res.json()["id"] == p19["id"]
    assert (p19["nip"], p19["paymentTerms"], p19["discountPercent"], p19["isActive"]) == (NIP_A, "net_14", 0, True)
    for bad in ("1112223333", "1234567890", "123456789", "0000000000"):
        res = await api.post(URL, json={"kind": "b2b", "displayName": "X", "nip": bad})
        assert (["nip"], "Invalid NIP") in detail_paths(res), bad
    res = await api.post(URL, json={"kind": "b2b", "displayName": "X"})
    assert (["nip"], "NIP is required for B2B profiles") in detail_paths(res)
    res = await api.post(URL, json={"kind": "b2c", "displayName": "Jan Nowak", "nip": NIP_B})
    assert (["nip"], "NIP is not allowed for B2C profiles") in detail_paths(res)
    res = await api.post(URL, json={"kind": "b2c", "displayName": "Jan Nowak", "paymentTerms": "net_30"})
    assert (["paymentTerms"], "Deferred payment terms are only available for B2B profiles") in detail_paths(res)
    res = await api.post(URL, json={"kind": "b2c", "displayName": "Jan Nowak"})
    assert res.status_code == 201 and res.json()["profile"]["paymentTerms"] == "prepayment"
    # 24
    res = await api.post(URL, json={"kind": "b2b", "displayName": "Duplikat", "nip": NIP_A})
    assert res.status_code == 409 and res.json() == {"error": "duplicate_nip", "profileId": p19["id"]}
    other = await fresh_org(app)
    assert (await other.post(URL, json={"kind": "b2b", "displayName": "Inna", "nip": NIP_A})).status_code == 201
    # 25: CRM links
    person = await api.post("/api/customers/people", json={"firstName": "Ada", "lastName": "Nowak"})
    company = await api.post("/api/customers/companies", json={"displayName": "Firma CRM"})
    assert person.status_code == 201 and company.status_code == 201, (person.text, company.text)
    res = await api.post(URL, json={"kind": "b2b", "displayName": "Link", "nip": NIP_B,
                                    "companyId": person.json()["id"]})
    assert (["companyId"], "Company not found") in detail_paths(res)
    res = await api.post(URL, json={"kind": "b2b", "displayName": "Link", "nip": NIP_B,
                                    "companyId": company.json()["id"]})
    assert res.status_code == 201 and res.json()["profile"]["companyId"] == company.json()["id"]
    # 26: addresses
    addr = {"name": "A", "street": "ul. Polna", "buildingNumber": "1", "postalCode": "02495", "city": "Warszawa"}
    res = await api.post(URL, json={"kind": "b2c", "displayName": "Adres", "defaultShippingAddress": addr})
    assert (["defaultShippingAddress", "postalCode"], "Invalid postal code") in detail_paths(res)
    res = await api.post(URL, json={"kind": "b2c", "displayName": "Adres",
                                    "defaultShippingAddress": {**addr, "postalCode": "02-495"}})
    echoed = res.json()["profile"]["defaultShippingAddress"]
    assert res.status_code == 201 and (echoed["country"], echoed["flatNumber"], echoed["phone"]) == ("PL", None, None)
    # 28 (before 27)
    res = await api.get(URL, params={"nip": "111-222-33-32"})
    assert [i["id"] for i in res.json()["items"]] == [p19["id"]]
    res = await api.get(URL, params={"kind": "b2c"})
    assert res.json()["total"] == 2 and all(i["kind"] == "b2c" for i in res.json()["items"])
    res = await api.get(URL, params={"search": "kowal"})
    assert [i["id"] for i in res.json()["items"]] == [p19["id"]]
    # 27: merged-record validation
    res = await api.put(URL, json={"id": p19["id"], "kind": "b2c"})
    paths = detail_paths(res)
    assert (["nip"], "NIP is not allowed for B2C profiles") in paths and ["paymentTerms"] in [p for p, _ in paths]
    res = await api.put(URL, json={"id": p19["id"], "kind": "b2c", "nip": None, "paymentTerms": "prepayment"})
    assert res.status_code == 200 and res.json()["ok"] is True
    assert (res.json()["profile"]["kind"], res.json()["profile"]["nip"]) == ("b2c", None)
    res = await api.put(URL, json={"id": "7d8b3c1e-0000-4000-8000-000000000000", "displayName": "x"})
    assert res.status_code == 404 and res.json() == {"error": "Customer profile not found"}


async def test_profile_undo(app) -> None:  # noqa: ANN001
    from tests.modules.warehouse.helpers import operation, order, product, undo

    api = await fresh_org(app)
    created = await api.post(URL, json={"kind": "b2c", "displayName": "Cofnij mnie"})
    assert (await undo(api, created)).status_code == 200
    assert (await api.get(URL, params={"ids": created.json()["id"]})).json()["total"] == 0
    kept = await api.post(URL, json={"kind": "b2b", "displayName": "Przed", "nip": NIP_A, "discountPercent": 3})
    updated = await api.put(URL, json={"id": kept.json()["id"], "displayName": "Po", "discountPercent": 7.5})
    assert updated.json()["profile"]["discountPercent"] == 7.5
    assert (await undo(api, updated)).status_code == 200
    restored = (await api.get(URL, params={"ids": kept.json()["id"]})).json()["items"][0]
    assert (restored["displayName"], restored["discountPercent"]) == ("Przed", 3)
    used = await api.post(URL, json={"kind": "b2c", "displayName": "Zamawia", "defaultShippingAddress": {
        "name": "A", "street": "B", "buildingNumber": "1", "postalCode": "00-001", "city": "Warszawa"}})
    p = await product(api)
    other_user_order = await order(api, used.json()["id"], [{"productId": p["id"], "quantity": 1}])
    assert other_user_order["order"]["customer"]["displayName"] == "Zamawia"
    # the order is the caller's latest action, so the profile creation can no longer be undone
    res = await api.post("/api/audit_logs/audit-logs/actions/undo", json={"undoToken": operation(used)["undoToken"]})
    assert res.status_code == 400
    assert (await api.get(URL, params={"ids": used.json()["id"]})).json()["total"] == 1
