"""Annual BDO packaging report (§9.15, §10.5) and its reference data (§11)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from mercato.kernel.commands import CommandRuntime
from mercato.kernel.db import utcnow
from mercato.kernel.serialize import iso
from mercato.modules.warehouse import domain
from mercato.modules.warehouse.common import Query
from mercato.modules.warehouse.models import BdoLevel, Order, OrderLine, OrderPackaging

LEVELS = {  # year -> levels in the material order of §4.3 plus overall (None = not seeded)
    2022: (30, 51, 55, 66, 62, 19, 47, 59),
    2023: (40, 51, 60, 70, 64, 21, 53, 61),
    2024: (45, 51, 65, 73, 67, 23, None, 63),
    2025: (50, 51, 70, 75, 70, 25, None, 65),
    2026: (51, 53, 72, 77, 71, 26, None, 66),
    2027: (52, 55, 74, 79, 72, 27, None, 67),
    2028: (53, 57, 76, 81, 73, 28, None, 68),
    2029: (54, 59, 78, 83, 74, 29, 70, 69),
}
FEE_RATES = ("2.70", "1.40", "0.80", "0.70", "0.30", "0.30", "1.70")
SOURCE = "Dz.U. 2021 poz. 2375 (levels 2024-2028 to be verified against the official text)"
KG, MG = Decimal("0.001"), Decimal("0.000001")
ZERO = Decimal(0)


async def seed_levels(session: Any) -> None:
    """Global reference rows (tenant/org null); idempotent."""
    existing = set((await session.execute(select(BdoLevel.year, BdoLevel.material).where(
        BdoLevel.organization_id.is_(None), BdoLevel.deleted_at.is_(None)))).all())
    for year, levels in LEVELS.items():
        for i, material in enumerate((*domain.MATERIALS, "overall")):
            if (year, material) in existing:
                continue
            level = levels[i]
            session.add(BdoLevel(year=year, material=material,
                                 recycling_level_percent=Decimal(level) if level is not None else None,
                                 fee_rate_pln_per_kg=Decimal(FEE_RATES[i]) if material != "overall" else None,
                                 source=SOURCE))
    await session.flush()


def parse_recycled(q: Query) -> dict[str, Decimal]:
    raw = q.raw("recycled")
    out: dict[str, Decimal] = {}
    if raw is None or raw.strip() == "":
        return out
    for part in raw.split(","):
        m = re.fullmatch(r"\s*([a-z_]+)\s*:\s*([0-9]+(?:\.[0-9]{1,3})?)\s*", part)
        if not m or m.group(1) not in domain.MATERIALS or m.group(1) in out:
            q.issues.custom(["recycled"], "Invalid recycled value")
            return {}
        out[m.group(1)] = Decimal(m.group(2))
    return out


async def bdo_report(rt: CommandRuntime, q: Query) -> tuple[dict[str, Any], int]:
    current = domain.today_warsaw().year
    raw_year = q.text("year")
    year = current - 1
    if raw_year is not None:
        try:
            year = int(raw_year)
        except ValueError:
            year = -1
        if not 2000 <= year <= current:
            q.issues.custom(["year"], "year must be between 2000 and the current year")
    fmt = q.enum("format", ("json", "csv"), "json") or "json"
    recycled = parse_recycled(q)
    q.done()
    lo, hi = domain.warsaw_start(date(year, 1, 1)), domain.warsaw_start(date(year + 1, 1, 1))
    orders = list((await rt.session.execute(select(Order).where(
        Order.tenant_id == rt.tenant_id, Order.organization_id == rt.organization_id, Order.deleted_at.is_(None),
        Order.status.in_(("shipped", "delivered")), Order.shipped_at >= lo, Order.shipped_at < hi))).scalars())
    export = {o.id for o in orders if o.shipping_address and o.shipping_address.get("country", "PL") != "PL"}
    ids = [o.id for o in orders]
    grams = {m: {"non": ZERO, "reu": ZERO, "exn": ZERO, "exr": ZERO} for m in domain.MATERIALS}
    no_packaging: dict[str, str] = {}
    line_count = pack_count = 0

    def add(order_id: Any, material: str, mass: Decimal, reusable: bool) -> None:
        g = grams[material]
        g["reu" if reusable else "non"] += mass
        if order_id in export:
            g["exr" if reusable else "exn"] += mass

    if ids:
        for ln in (await rt.session.execute(select(OrderLine).where(OrderLine.order_id.in_(ids),
                                                                    OrderLine.deleted_at.is_(None)))).scalars():
            line_count += 1
            if not ln.packaging_snapshot:
                no_packaging[str(ln.product_id)] = ln.sku
            for c in ln.packaging_snapshot or []:
                add(ln.order_id, c["material"], Decimal(ln.quantity) * Decimal(str(c["massGrams"])),
                    bool(c.get("reusable")))
        for row in (await rt.session.execute(select(OrderPackaging).where(OrderPackaging.order_id.in_(ids),
                                                                          OrderPackaging.deleted_at.is_(None)))).scalars():
            pack_count += 1
            add(row.order_id, row.material, Decimal(row.mass_grams), row.reusable)
    levels = await _levels(rt, year)
    rows, warnings = [], []
    totals = {k: ZERO for k in ("non", "reu", "exn", "exr", "base", "req", "rec", "short", "fee")}
    missing_level, missing_rate = [], []
    for m in domain.MATERIALS:
        g = grams[m]
        non, reu, exn, exr = (g[k] / 1000 for k in ("non", "reu", "exn", "exr"))
        base = non - exn
        level, rate = levels.get(m, (None, None))
        rec = recycled.get(m, ZERO)
        req = base * level / 100 if level is not None else None
        short = max(ZERO, req - rec) if req is not None else None
        fee = domain.round2(short * rate) if short is not None and rate is not None else None
        if base > 0 and level is None:
            missing_level.append(m)
        if base > 0 and rate is None:
            missing_rate.append(m)
        for k, v in (("non", non), ("reu", reu), ("exn", exn), ("exr", exr), ("base", base), ("rec", rec),
                     ("req", req), ("short", short), ("fee", fee)):
            if v is not None:
                totals[k] += v
        rows.append({"material": m, "label": domain.MATERIAL_LABELS[m], "_raw": (non, reu, exn, exr, base, level, req,
                                                                                 rec, short, rate, fee)})
    warnings += [{"code": "product_without_packaging", "productId": pid, "sku": sku}
                 for pid, sku in sorted(no_packaging.items(), key=lambda kv: kv[1])]
    warnings += [{"code": "missing_recycling_level", "material": m} for m in missing_level]
    warnings += [{"code": "missing_fee_rate", "material": m} for m in missing_rate]
    overall = levels.get("overall", (None, None))[0]
    if fmt == "csv":
        return {"csv": _csv(rows, totals)}, year
    materials = []
    for r in rows:
        non, reu, exn, exr, base, level, req, rec, short, rate, fee = r["_raw"]
        materials.append({
            "material": r["material"], "label": r["label"], "nonReusableKg": _kg(non), "reusableKg": _kg(reu),
            "totalKg": _kg(non + reu), "nonReusableMg": _mg(non), "reusableMg": _mg(reu), "totalMg": _mg(non + reu),
            "exportNonReusableKg": _kg(exn), "exportReusableKg": _kg(exr), "obligationBaseKg": _kg(base),
            "recyclingLevelPercent": domain.num(level) if level is not None else None,
            "requiredRecyclingKg": _kg(req) if req is not None else None, "recycledKg": _kg(rec),
            "shortfallKg": _kg(short) if short is not None else None,
            "feeRatePlnPerKg": domain.num(rate) if rate is not None else None,
            "productFeePln": domain.num(fee) if fee is not None else None,
        })
    t = totals
    return {
        "year": year, "organizationId": str(rt.organization_id), "timezone": "Europe/Warsaw",
        "period": {"from": f"{year:04d}-01-01", "to": f"{year:04d}-12-31"}, "filingDeadline": f"{year + 1:04d}-03-15",
        "generatedAt": iso(utcnow()),
        "source": {"orderCount": len(orders), "lineCount": line_count, "shippingPackagingEntries": pack_count},
        "overallRecyclingLevelPercent": domain.num(overall) if overall is not None else None,
        "materials": materials,
        "totals": {"nonReusableKg": _kg(t["non"]), "reusableKg": _kg(t["reu"]), "totalKg": _kg(t["non"] + t["reu"]),
                   "nonReusableMg": _mg(t["non"]), "reusableMg": _mg(t["reu"]), "totalMg": _mg(t["non"] + t["reu"]),
                   "exportNonReusableKg": _kg(t["exn"]), "exportReusableKg": _kg(t["exr"]),
                   "obligationBaseKg": _kg(t["base"]), "requiredRecyclingKg": _kg(t["req"]),
                   "recycledKg": _kg(t["rec"]), "shortfallKg": _kg(t["short"]), "productFeePln": domain.num(t["fee"])},
        "warnings": warnings,
    }, year


def _kg(v: Decimal) -> int | float:
    return domain.num(domain.round_to(v, KG))  # type: ignore[return-value]


def _mg(v: Decimal) -> int | float:
    return domain.num(domain.round_to(v / 1000, MG))  # type: ignore[return-value]


async def _levels(rt: CommandRuntime, year: int) -> dict[str, tuple[Decimal | None, Decimal | None]]:
    rows = (await rt.session.execute(select(BdoLevel).where(
        BdoLevel.year == year, BdoLevel.deleted_at.is_(None),
        ((BdoLevel.organization_id.is_(None)) & (BdoLevel.tenant_id.is_(None)))
        | ((BdoLevel.organization_id == rt.organization_id) & (BdoLevel.tenant_id == rt.tenant_id))))).scalars()
    out: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    for r in sorted(rows, key=lambda r: r.organization_id is not None):  # organization rows override global ones
        out[r.material] = (r.recycling_level_percent, r.fee_rate_pln_per_kg)
    return out


def _fixed(v: Decimal | None, places: int) -> str:
    if v is None:
        return ""
    return f"{domain.round_to(v, Decimal(1).scaleb(-places)):.{places}f}".replace(".", ",")


def _field(text: str) -> str:
    if any(ch in text for ch in ';"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


HEADER = ("material;label;nonReusableKg;reusableKg;totalKg;nonReusableMg;reusableMg;totalMg;exportNonReusableKg;"
          "exportReusableKg;obligationBaseKg;recyclingLevelPercent;requiredRecyclingKg;recycledKg;shortfallKg;"
          "feeRatePlnPerKg;productFeePln")


def _csv(rows: list[dict[str, Any]], t: dict[str, Decimal]) -> str:
    lines = [HEADER]
    for r in rows:
        non, reu, exn, exr, base, level, req, rec, short, rate, fee = r["_raw"]
        lines.append(";".join([_field(r["material"]), _field(r["label"]), _fixed(non, 3), _fixed(reu, 3),
                               _fixed(non + reu, 3), _fixed(non / 1000, 6), _fixed(reu / 1000, 6),
                               _fixed((non + reu) / 1000, 6), _fixed(exn, 3), _fixed(exr, 3), _fixed(base, 3),
                               _fixed(level, 2), _fixed(req, 3), _fixed(rec, 3), _fixed(short, 3), _fixed(rate, 2),
                               _fixed(fee, 2)]))
    lines.append(";".join(["TOTAL", "Razem", _fixed(t["non"], 3), _fixed(t["reu"], 3), _fixed(t["non"] + t["reu"], 3),
                           _fixed(t["non"] / 1000, 6), _fixed(t["reu"] / 1000, 6),
                           _fixed((t["non"] + t["reu"]) / 1000, 6), _fixed(t["exn"], 3), _fixed(t["exr"], 3),
                           _fixed(t["base"], 3), "", _fixed(t["req"], 3), _fixed(t["rec"], 3), _fixed(t["short"], 3),
                           "", _fixed(t["fee"], 2)]))
    return "\r\n".join(lines) + "\r\n"
