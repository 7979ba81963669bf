from mercato.kernel.rbac import Acl, acl_allows, feature_matches, has_all


def test_wildcard_matching_follows_contract() -> None:
    assert feature_matches("*", "customers.companies.view")
    assert feature_matches("entities.*", "entities")
    assert feature_matches("entities.*", "entities.records.view")
    assert not feature_matches("entities.*", "entitiesx.view")
    assert not feature_matches("customers.companies.view", "customers.companies.manage")
    assert has_all([], [])
    assert not has_all(["a.b"], [])


def test_org_restricted_acl_denies_outside_org() -> None:
    owners = {"customers.view": "customers"}
    acl = Acl(features=["customers.*"], organizations=["org-a"])
    assert acl_allows(acl, ["customers.view"], "org-a", owners, {"customers"})
    assert not acl_allows(acl, ["customers.view"], "org-b", owners, {"customers"})
    assert not acl_allows(Acl(features=["customers.*"]), ["customers.view"], None, owners, set())


async def test_unknown_route_is_json_404(anon) -> None:
    res = await anon.get("/api/nope/nothing")
    assert res.status_code == 404
    assert res.json() == {"error": "Not Found"}


async def test_validation_error_is_400_json(anon) -> None:
    res = await anon.post("/api/auth/login", json={"email": "not-an-email", "password": "x"})
    assert res.status_code == 400
    assert res.json() == {"ok": False, "error": "Invalid email or password"}


async def test_request_id_header_round_trips(anon) -> None:
    res = await anon.get("/api/version", headers={"x-request-id": "abc123"})
    assert res.headers["x-request-id"] == "abc123"
    assert res.json()["version"]


async def test_huge_page_number_is_400_not_500(admin) -> None:
    res = await admin.get("/api/feature_toggles/global", params={"page": "184467440737095518"})
    assert res.status_code == 400
    assert res.json() == {"error": "Invalid input"}


async def test_deeply_nested_json_body_is_400(admin) -> None:
    res = await admin.post("/api/customers/companies", content=b"[" * 100000, headers={"content-type": "application/json"})
    assert res.status_code == 400
    assert res.json() == {"error": "Invalid input"}


async def test_enormous_search_term_is_not_a_server_error(admin) -> None:
    res = await admin.get("/api/customers/companies", params={"search": "a" * 50010})
    from tests.conftest import BACKEND

    if BACKEND == "postgres":
        assert res.status_code == 200 and res.json()["items"] == []
    else:  # SQLite refuses LIKE patterns over 50,000 characters
        assert res.status_code == 400 and res.json() == {"error": "Invalid input"}
