#!/usr/bin/env python3
"""CRM list benchmark (issue 5): N companies in PostgreSQL, API list latency vs raw SQL, concurrent throughput.

    PYTHONPATH=src python bench/crm_list.py --companies 10000 --port 3107

1. creates a fresh database (dropped at the end unless --keep), initialises it with the demo tenant and bulk-loads
   N companies (entity + profile rows) with asyncpg COPY;
2. starts `mercato serve` on --port against it;
3. measures the median latency of `GET /api/customers/companies` (default page, a search and a sort) and of the
   equivalent raw SQL (page query + count) through asyncpg;
4. measures throughput with --concurrency clients (asyncio + httpx) for --seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
SCENARIOS = {
    "page": ({"page": 1, "pageSize": 50},
             "SELECT e.*, c.* FROM customer_entities e LEFT JOIN customer_companies c ON c.entity_id = e.id "
             "WHERE e.kind = 'company' AND e.tenant_id = $1 AND e.organization_id = ANY($2::uuid[]) AND e.deleted_at IS NULL "
             "ORDER BY e.id LIMIT 50 OFFSET 0"),
    "page 50": ({"page": 50, "pageSize": 50},
                "SELECT e.*, c.* FROM customer_entities e LEFT JOIN customer_companies c ON c.entity_id = e.id "
                "WHERE e.kind = 'company' AND e.tenant_id = $1 AND e.organization_id = ANY($2::uuid[]) "
                "AND e.deleted_at IS NULL ORDER BY e.id LIMIT 50 OFFSET 2450"),
    "sort by name desc": ({"sortField": "name", "sortDir": "desc", "pageSize": 50},
                          "SELECT e.*, c.* FROM customer_entities e LEFT JOIN customer_companies c ON c.entity_id = e.id "
                          "WHERE e.kind = 'company' AND e.tenant_id = $1 AND e.organization_id = ANY($2::uuid[]) "
                          "AND e.deleted_at IS NULL ORDER BY e.display_name DESC, e.id LIMIT 50"),
    "search": ({"search": "bench 42", "pageSize": 50},
               "SELECT e.*, c.* FROM customer_entities e LEFT JOIN customer_companies c ON c.entity_id = e.id "
               "WHERE e.kind = 'company' AND e.tenant_id = $1 AND e.organization_id = ANY($2::uuid[]) "
               "AND e.deleted_at IS NULL AND e.display_name ILIKE '%bench 42%' ORDER BY e.id LIMIT 50"),
}
COUNT_SQL = ("SELECT count(*) FROM customer_entities e WHERE e.kind = 'company' AND e.tenant_id = $1 "
             "AND e.organization_id = ANY($2::uuid[]) AND e.deleted_at IS NULL")


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


async def prepare(url: str, companies: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    sys.path.insert(0, str(ROOT / "src"))
    from mercato.bootstrap import initialise
    from mercato.kernel.module import Registry
    from mercato.kernel.settings import Settings

    settings = Settings(DATABASE_URL=url, JWT_SECRET="bench-secret")
    seeded = await initialise(settings, Registry.load(settings.module_ids), demo=True, echo=lambda *_: None)
    tenant, org = uuid.UUID(seeded["tenantId"]), uuid.UUID(seeded["organizationId"])
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        now = datetime.now(UTC)
        entities, profiles = [], []
        for i in range(companies):
            eid = uuid.uuid4()
            stamp = now - timedelta(seconds=i)
            entities.append((eid, org, tenant, "company", f"Bench {i} Holdings", f"bench{i}@example.com", "active",
                             "customer", True, stamp, stamp))
            profiles.append((uuid.uuid4(), org, tenant, eid, f"bench{i}.example", "Manufacturing", stamp, stamp))
        await conn.copy_records_to_table("customer_entities", records=entities, columns=[
            "id", "organization_id", "tenant_id", "kind", "display_name", "primary_email", "status", "lifecycle_stage",
            "is_active", "created_at", "updated_at"])
        await conn.copy_records_to_table("customer_companies", records=profiles, columns=[
            "id", "organization_id", "tenant_id", "entity_id", "domain", "industry", "created_at", "updated_at"])
        await conn.execute("ANALYZE")
        orgs = [r["id"] for r in await conn.fetch("SELECT id FROM organizations WHERE tenant_id = $1", tenant)]
    finally:
        await conn.close()
    return tenant, orgs


async def wait_ready(base: str, seconds: float = 60) -> None:
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


async def measure(base: str, url: str, tenant: uuid.UUID, orgs: list[uuid.UUID], runs: int, concurrency: int,
                  seconds: float) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        login = await client.post("/api/auth/login", data={"email": "admin@acme.com", "password": "secret"})
        headers = {"authorization": f"Bearer {login.json()['token']}"}
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        print(f"{'scenario':<20} {'API median ms':>14} {'SQL median ms':>14} {'overhead':>9}")
        try:
            for name, (params, sql) in SCENARIOS.items():
                api, raw = [], []
                for i in range(runs + 3):
                    t = time.perf_counter()
                    res = await client.get("/api/customers/companies", params=params, headers=headers)
                    elapsed = time.perf_counter() - t
                    res.raise_for_status()
                    t = time.perf_counter()
                    await conn.fetch(sql, tenant, orgs)
                    await conn.fetchval(COUNT_SQL, tenant, orgs)
                    sql_elapsed = time.perf_counter() - t
                    if i >= 3:  # warm-up
                        api.append(elapsed)
                        raw.append(sql_elapsed)
                a, s = median_ms(api), median_ms(raw)
                print(f"{name:<20} {a:>14} {s:>14} {round(a / s, 1) if s else '-':>8}x")
        finally:
            await conn.close()

        latencies: list[float] = []
        stop = time.monotonic() + seconds

        async def worker() -> None:
            async with httpx.AsyncClient(base_url=base, timeout=30) as own:
                while time.monotonic() < stop:
                    t = time.perf_counter()
                    res = await own.get("/api/customers/companies", params={"pageSize": 50}, headers=headers)
                    res.raise_for_status()
                    latencies.append(time.perf_counter() - t)

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.monotonic() - started
        latencies.sort()
        p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else 0
        print(f"throughput: {len(latencies) / wall:.1f} req/s with {concurrency} clients over {wall:.1f}s "
              f"(p50 {median_ms(latencies)} ms, p95 {round(p95 * 1000, 2)} ms, {len(latencies)} requests)")


async def admin_sql(base_url: str, sql: str) -> None:
    conn = await asyncpg.connect(base_url.replace("postgresql+asyncpg://", "postgresql://") + "/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--companies", type=int, default=10000)
    ap.add_argument("--pg", default=os.environ.get("MERCATO_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432"))
    ap.add_argument("--port", type=int, default=3107)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of the server")
    ap.add_argument("--keep", action="store_true", help="keep the benchmark database")
    a = ap.parse_args()
    name = f"mercato_bench_{uuid.uuid4().hex[:8]}"
    url = f"{a.pg}/{name}"
    asyncio.run(admin_sql(a.pg, f'CREATE DATABASE "{name}"'))
    server = None
    try:
        print(f"loading {a.companies} companies into {name} ...")
        tenant, orgs = asyncio.run(prepare(url, a.companies))
        env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": "bench-secret", "PYTHONPATH": str(ROOT / "src"),
               "RATE_LIMIT_ENABLED": "false"}
        server = subprocess.Popen([sys.executable, "-m", "mercato.cli", "serve", "--port", str(a.port), "--workers", str(a.workers)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{a.port}"
        asyncio.run(wait_ready(base))
        asyncio.run(measure(base, url, tenant, orgs, a.runs, a.concurrency, a.seconds))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        if not a.keep:
            asyncio.run(admin_sql(a.pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
