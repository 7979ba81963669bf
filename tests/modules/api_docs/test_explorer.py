"""/docs/api: the server-rendered OpenAPI Explorer (platform contract §5.8), also checked in headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

import httpx
import pytest

from mercato.kernel.openapi import module_tag
from tests.conftest import Api
from tests.modules.api_docs.explorer_page import ExplorerPage
from tests.modules.api_docs.live import live_server, serve_factory
from tests.modules.api_docs.sample_app import BULK_COUNT, build_sample_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium binary not found (install with `apt-get install -y chromium`)")


def expected_sections(doc: dict) -> list[tuple[str, list[tuple[str, str]]]]:
    """Sections by first tag: document tag order, then other tags by first appearance over sorted paths."""
    order = [t["name"] for t in doc["tags"]]
    groups: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(doc["paths"]):
        for method in ("get", "post", "put", "patch", "delete"):
            op = doc["paths"][path].get(method)
            if op is None:
                continue
            tag = (op.get("tags") or ["General"])[0]
            if tag not in order:
                order.append(tag)
            groups.setdefault(tag, []).append((method.upper(), path))
    return [(name, groups[name]) for name in order if name in groups]


def assert_page_matches_document(page: ExplorerPage, doc: dict, browser: bool) -> None:
    sections = expected_sections(doc)
    assert [s.name for s in page.sections] == [name for name, _ in sections]
    for section, (name, operations) in zip(page.sections, sections, strict=True):
        assert [(c.method, c.path) for c in section.cards] == operations, name
        shown = min(20, len(operations))
        assert section.count == f"Showing {shown} of {len(operations)} endpoints"
        assert [(c.method, c.path) for c in section.visible_cards] == operations[:shown]
        assert not section.hidden
        if len(operations) > 20:
            assert not section.more_hidden
            assert section.more == f"Show {min(20, len(operations) - 20)} more endpoints"
        else:
            assert section.more_hidden
        for card in section.cards:
            op = doc["paths"][card.path][card.method.lower()]
            assert ("Auth required" in card.badges) == bool(op.get("x-require-auth")), card.path
            assert [b for b in card.badges if b != "Auth required"] == op.get("x-require-features", [])
            assert op["summary"] in card.content
    if browser:
        assert page.ready, "the explorer script did not run"


# the seed explorer's sections, in its order: module titles (document tags) first, then the other route tags
SEED_SECTIONS = [
    "Authentication & Accounts", "Directory (Tenants & Organizations)", "API Documentation", "Audit & Action Logs",
    "Notifications", "Events", "Customer Relationship Management", "Feature Toggles", "Magazyn", "Auth", "Configs",
    "Customers", "Dashboards", "Dictionaries", "Directory", "Entities", "Query Index",
]
SEED_MODULE_TITLES = {
    "auth": "Authentication & Accounts", "directory": "Directory (Tenants & Organizations)",
    "api_docs": "API Documentation", "audit_logs": "Audit & Action Logs", "notifications": "Notifications",
    "events": "Events", "customers": "Customer Relationship Management", "feature_toggles": "Feature Toggles",
    "warehouse": "Magazyn",
}


# ------------------------------------------------------------------------------------------- server HTML


@pytest.fixture(scope="module")
async def sample_page() -> tuple[ExplorerPage, dict, str]:
    app = build_sample_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        doc = (await client.get("/api/docs/openapi")).json()
        res = await client.get("/docs/api")
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/html")
    return ExplorerPage(res.text), doc, res.text


async def test_explorer_lists_every_registered_endpoint(anon: Api) -> None:
    doc = (await anon.get("/api/docs/openapi")).json()
    res = await anon.get("/docs/api")
    assert res.status_code == 200
    page = ExplorerPage(res.text)
    listed = {(c.method, c.path) for s in page.sections for c in s.cards}
    assert listed == {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert_page_matches_document(page, doc, browser=False)


async def test_sections_carry_the_seed_titles_in_the_seed_order(app, anon: Api) -> None:
    for module in app.state.registry.modules:
        if module.id in SEED_MODULE_TITLES:
            assert module_tag(module) == SEED_MODULE_TITLES[module.id], module.id
    page = ExplorerPage((await anon.get("/docs/api")).text)
    names = [s.name for s in page.sections]
    assert "API Documentation" in names and "Authentication & Accounts" in names
    seeded = [name for name in names if name in SEED_SECTIONS]
    assert seeded == sorted(seeded, key=SEED_SECTIONS.index)


async def test_explorer_header_and_local_assets(anon: Api) -> None:
    res = await anon.get("/docs/api")
    html = res.text
    for text in ("OpenAPI Explorer", "Auto-generated OpenAPI definition for all enabled modules.",
                 "Default server: <code>http://testserver/api</code>", "Try Endpoint", "OpenAPI JSON",
                 "Markdown Docs", "View full docs", 'href="/api/docs/openapi"', 'href="/api/docs/markdown"',
                 'placeholder="Search by path or summary"'):
        assert text in html
    page = ExplorerPage(html)
    assert sorted(page.links) == [("link", "/docs/api/assets/explorer.css"), ("script", "/docs/api/assets/explorer.js")]
    for _, url in page.links:
        asset = await anon.get(url)
        assert asset.status_code == 200
        assert len(asset.content) > 500
    assert (await anon.get("/docs/api/assets/missing.js")).status_code == 404


async def test_sample_sections_order_and_paging(sample_page) -> None:  # noqa: ANN001
    page, doc, _ = sample_page
    assert_page_matches_document(page, doc, browser=False)
    names = [s.name for s in page.sections]
    # module tags first, then the remaining tags in order of first appearance over the sorted paths
    assert names == ["Sample Things", "Other Stuff", "API Documentation", "Zeta", "Alpha"]
    things = page.sections[0]
    total = BULK_COUNT + 7
    assert len(things.cards) == total
    assert things.count == f"Showing 20 of {total} endpoints"
    assert len(things.visible_cards) == 20
    assert things.more == f"Show {total - 20} more endpoints"


async def test_sample_cards_show_the_operation_details(sample_page) -> None:  # noqa: ANN001
    page, _, _ = sample_page
    cards = {(c.method, c.path): c for s in page.sections for c in s.cards}
    create = cards[("POST", "/sample/things")]
    assert create.badges == ["Auth required", "sample.manage"]
    content = create.content
    assert "Create thing" in content
    assert "Request body (application/json)" in content
    assert '"name": "string"' in content
    assert "201 Success response" in content and "409 Duplicate name" in content
    # automatic responses are hidden
    assert "Unauthorized" not in content and "Forbidden – missing required features" not in content
    assert 'curl -X POST "https://erp.example.com/api/sample/things"' in content
    listing = cards[("GET", "/sample/things")].content
    assert "Name In Required Schema Description" in listing
    assert "pageSize query No integer" in listing
    assert cards[("GET", "/sample/public")].badges == []


# ------------------------------------------------------------------------------------------- headless Chromium


def dump_dom(url: str) -> str:
    with tempfile.TemporaryDirectory(prefix="mercato-chromium-") as profile:
        done = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--virtual-time-budget=5000", "--dump-dom", url],
            capture_output=True, text=True, timeout=90,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
async def demo_server():  # noqa: ANN201
    async with live_server() as server:
        yield server


@needs_chromium
async def test_explorer_renders_in_chromium(demo_server) -> None:  # noqa: ANN001
    doc = httpx.get(f"{demo_server.url}/api/docs/openapi", timeout=10).json()
    page = ExplorerPage(dump_dom(f"{demo_server.url}/docs/api"))
    assert page.sections, "no sections rendered"
    assert_page_matches_document(page, doc, browser=True)
    listed = {(c.method, c.path) for s in page.sections for c in s.cards}
    assert listed == {(m.upper(), p) for p, item in doc["paths"].items() for m in item}


@needs_chromium
def test_explorer_paging_in_chromium() -> None:
    with serve_factory("tests.modules.api_docs.sample_app:build_sample_app") as server:
        doc = httpx.get(f"{server.url}/api/docs/openapi", timeout=10).json()
        page = ExplorerPage(dump_dom(f"{server.url}/docs/api"))
    assert_page_matches_document(page, doc, browser=True)
    things = page.sections[0]
    assert things.name == "Sample Things"
    assert len(things.visible_cards) == 20
    assert things.more == f"Show {BULK_COUNT + 7 - 20} more endpoints"
