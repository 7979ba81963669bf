#!/usr/bin/env python3
"""CRM list benchmark (issue 5): N companies in PostgreSQL, API list latency vs raw SQL, concurrent throughput.

    PYTHONPATH=src python bench/crm_list.py                       # 100k companies, port 3107
    PYTHONPATH=src python bench/crm_list.py --companies 10000 --port 3110 --keep

1. creates a fresh database (dropped at the end unless --keep), initialises it with the demo tenant, defines a
   company custom field `tier` and bulk-loads N companies (entity + profile + custom value rows) with COPY;
2. starts ONE `mercato serve` process against it;
3. per scenario (plain page, `search`, a `cf_*` filter, both) measures the median latency of
   `GET /api/customers/companies?page=1&pageSize=50&...` and of the same page + count SQL issued directly
   through asyncpg (the predicates are compiled from the API's own query builder), printing both and the ratio;
4. measures throughput of the plain page request with `wrk` (8 connections, one thread per core) against the
   process, falling back to asyncio + httpx clients when wrk is not installed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

PROFILE_ENTITY = "customers:customer_company_profile"
SEARCH = "Bench 4242"


def scenario_sql(tenant: uuid.UUID, orgs: list[uuid.UUID]) -> dict[str, tuple[dict, str, str]]:
    """Each scenario's query string and its page + count SQL, compiled from the API's own predicate builders."""
    from sqlalchemy import and_, func, select
    from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg

    from mercato.modules.customers.models import CustomerCompany as P
    from mercato.modules.customers.models import CustomerEntity as E
    from mercato.modules.customers.service.lists import COMPANIES, _search
    from mercato.modules.entities.values import CustomFieldsProvider

    def sql(stmt: object) -> str:
        return str(stmt.compile(dialect=pg_asyncpg.dialect(), compile_kwargs={"literal_binds": True}))

    base = select(E, P).outerjoin(P, P.entity_id == E.id).where(
        E.kind == "company", E.tenant_id == tenant, E.organization_id.in_(orgs), E.deleted_at.is_(None))
    search = _search(COMPANIES, SEARCH, P)
    cf = CustomFieldsProvider().filter_clause(PROFILE_ENTITY, tenant, "tier", "eq", "gold", P.id)
    page = {"page": 1, "pageSize": 50}
    out = {}
    for name, params, conds in (("page", page, []), ("search", {**page, "search": SEARCH}, [search]),
                                ("cf_tier=gold", {**page, "cf_tier": "gold"}, [cf]),
                                ("search + cf", {**page, "search": SEARCH, "cf_tier": "gold"}, [search, cf])):
        stmt = base.where(and_(*conds)) if conds else base
        count = select(func.count()).select_from(stmt.with_only_columns(E.id).subquery())
        out[name] = (params, sql(stmt.order_by(E.id.asc()).limit(50).offset(0)), sql(count))
    return out


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def prepare(url: str, companies: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    from mercato.bootstrap import initialise
    from mercato.kernel.module import Registry
    from mercato.kernel.settings import Settings

    settings = Settings(DATABASE_URL=url, JWT_SECRET="bench-secret")
    seeded = await initialise(settings, Registry.load(settings.module_ids), demo=True, echo=lambda *_: None)
    tenant, org = uuid.UUID(seeded["tenantId"]), uuid.UUID(seeded["organizationId"])
    conn = await asyncpg.connect(pg_dsn(url))
    try:
        now = datetime.now(UTC)
        await conn.execute(
            "INSERT INTO custom_field_defs (id, entity_id, tenant_id, key, kind, config_json, is_active, created_at, "
            "updated_at) VALUES ($1, $2, $3, 'tier', 'text', '{\"label\": \"Tier\"}'::jsonb, true, $4, $4)",
            uuid.uuid4(), PROFILE_ENTITY, tenant, now)
        entities, profiles, values = [], [], []
        for i in range(companies):
            eid, pid = uuid.uuid4(), uuid.uuid4()
            stamp = now - timedelta(seconds=i)
            entities.append((eid, org, tenant, "company", f"Bench {i} Holdings", f"bench{i}@example.com", "active",
                             "customer", True, stamp, stamp))
            profiles.append((pid, org, tenant, eid, f"bench{i}.example", "Manufacturing", stamp, stamp))
            values.append((uuid.uuid4(), PROFILE_ENTITY, str(pid), org, tenant, "tier",
                           "gold" if i % 10 == 0 else "silver", stamp))
        await conn.copy_records_to_table("customer_entities", records=entities, columns=[
            "id", "organization_id", "tenant_id", "kind", "display_name", "primary_email", "status", "lifecycle_stage",
            "is_active", "created_at", "updated_at"])
        await conn.copy_records_to_table("customer_companies", records=profiles, columns=[
            "id", "organization_id", "tenant_id", "entity_id", "domain", "industry", "created_at", "updated_at"])
        await conn.copy_records_to_table("custom_field_values", records=values, columns=[
            "id", "entity_id", "record_id", "organization_id", "tenant_id", "field_key", "value_text", "created_at"])
        await conn.execute("ANALYZE")
        orgs = [r["id"] for r in await conn.fetch("SELECT id FROM organizations WHERE tenant_id = $1", tenant)]
    finally:
        await conn.close()
    return tenant, orgs


async def wait_ready(base: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(base + "/api/version")).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    raise SystemExit("server did not start")


async def token(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        login = await client.post("/api/auth/login", data={"email": "admin@acme.com", "password": "secret"})
        login.raise_for_status()
        return login.json()["token"]


async def latencies(base: str, url: str, tenant: uuid.UUID, orgs: list[uuid.UUID], bearer: str, runs: int) -> None:
    headers = {"authorization": f"Bearer {bearer}"}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        conn = await asyncpg.connect(pg_dsn(url))
        print(f"{'scenario':<16} {'total':>7} {'API median ms':>14} {'SQL median ms':>14} {'ratio':>7}")
        try:
            for name, (params, page_sql, count_sql) in scenario_sql(tenant, orgs).items():
                api, raw, total = [], [], None
                budget = time.monotonic() + 60  # slow scenarios stop early (at least 5 samples)
                for i in range(runs + 3):
                    if i >= 8 and time.monotonic() > budget:
                        break
                    t = time.perf_counter()
                    res = await client.get("/api/customers/companies", params=params, headers=headers)
                    elapsed = time.perf_counter() - t
                    res.raise_for_status()
                    total = res.json()["total"]
                    t = time.perf_counter()
                    await conn.fetch(page_sql)
                    sql_total = await conn.fetchval(count_sql)
                    sql_elapsed = time.perf_counter() - t
                    if i >= 3:  # warm-up
                        api.append(elapsed)
                        raw.append(sql_elapsed)
                if sql_total != total:
                    print(f"  warning: {name}: API total {total} != SQL total {sql_total}")
                a, s = median_ms(api), median_ms(raw)
                print(f"{name:<16} {total:>7} {a:>14} {s:>14} {round(a / s, 2) if s else '-':>6}x")
        finally:
            await conn.close()


def wrk_throughput(base: str, bearer: str, concurrency: int, seconds: float) -> None:
    target = f"{base}/api/customers/companies?page=1&pageSize=50"
    threads = max(1, min(concurrency, os.cpu_count() or 1))
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{int(seconds)}s", "--latency",
                          "-H", f"Authorization: Bearer {bearer}", target], capture_output=True, text=True, check=True)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    print(out.stdout.rstrip())
    print(f"throughput (wrk): {rps.group(1) if rps else '?'} req/s with {concurrency} connections"
          + (f" — {errors.group(1)} non-2xx responses!" if errors else ""))


async def httpx_throughput(base: str, bearer: str, concurrency: int, seconds: float) -> None:
    headers = {"authorization": f"Bearer {bearer}"}
    samples: list[float] = []
    stop = time.monotonic() + seconds

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as own:
            while time.monotonic() < stop:
                t = time.perf_counter()
                res = await own.get("/api/customers/companies", params={"page": 1, "pageSize": 50}, headers=headers)
                res.raise_for_status()
                samples.append(time.perf_counter() - t)

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.monotonic() - started
    print(f"throughput (httpx): {len(samples) / wall:.1f} req/s with {concurrency} clients over {wall:.1f}s "
          f"(p50 {median_ms(samples)} ms)")


async def admin_sql(base_url: str, sql: str) -> None:
    conn = await asyncpg.connect(pg_dsn(base_url) + "/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--companies", type=int, default=100_000)
    ap.add_argument("--pg", default=os.environ.get("MERCATO_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432"))
    ap.add_argument("--port", type=int, default=3107)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--database", help="reuse an existing benchmark database (from --keep) instead of loading")
    ap.add_argument("--keep", action="store_true", help="keep the benchmark database")
    a = ap.parse_args()
    name = a.database or f"mercato_bench_{uuid.uuid4().hex[:8]}"
    url = f"{a.pg}/{name}"
    server = None
    try:
        if a.database:
            tenant, orgs = asyncio.run(_existing(url))
        else:
            asyncio.run(admin_sql(a.pg, f'CREATE DATABASE "{name}"'))
            started = time.monotonic()
            print(f"loading {a.companies} companies into {name} ...")
            tenant, orgs = asyncio.run(prepare(url, a.companies))
            print(f"loaded in {time.monotonic() - started:.1f}s")
        env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": "bench-secret", "PYTHONPATH": str(ROOT / "src"),
               "RATE_LIMIT_ENABLED": "false"}
        server = subprocess.Popen([sys.executable, "-m", "mercato.cli", "serve", "--port", str(a.port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{a.port}"
        asyncio.run(wait_ready(base))
        bearer = asyncio.run(token(base))
        asyncio.run(latencies(base, url, tenant, orgs, bearer, a.runs))
        if shutil.which("wrk"):
            wrk_throughput(base, bearer, a.concurrency, a.seconds)
        else:
            asyncio.run(httpx_throughput(base, bearer, a.concurrency, a.seconds))
        if server.poll() is None:
            print(f"server pid {server.pid} (one process)")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        if not a.keep and not a.database:
            asyncio.run(admin_sql(a.pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        elif a.keep:
            print(f"kept database {name} (rerun with --database {name})")


async def _existing(url: str) -> tuple[uuid.UUID, list[uuid.UUID]]:
    conn = await asyncpg.connect(pg_dsn(url))
    try:
        tenant = await conn.fetchval("SELECT tenant_id FROM organizations WHERE name = 'Acme Corp' LIMIT 1")
        orgs = [r["id"] for r in await conn.fetch("SELECT id FROM organizations WHERE tenant_id = $1", tenant)]
    finally:
        await conn.close()
    return tenant, orgs


if __name__ == "__main__":
    main()
