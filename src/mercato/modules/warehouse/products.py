"""Products: validation, create/update commands with undo, and the list query (§9.2–9.4, §8)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from mercato.kernel.commands import Command, CommandRuntime, LoggedAction, LogMeta, register_command
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.modules.warehouse import domain
from mercato.modules.warehouse.dto import movement_dto, product_dto
from mercato.modules.warehouse.models import OrderLine, Product, ProductPackaging, StockMovement
from mercato.modules.warehouse.stock import StockConflict, StockLedger
from mercato.modules.warehouse.validation import MISSING, Issues, is_whole, whole_message

PRODUCT_FIELDS = {
    "sku": "sku", "ean": "ean", "name": "name", "description": "description", "unit": "unit",
    "unitPriceNet": "unit_price_net", "vatRate": "vat_rate", "weightGrams": "weight_grams",
    "reorderPoint": "reorder_point", "leadTimeDays": "lead_time_days", "location": "location", "isActive": "is_active",
}


def _packaging(issues: Issues, body: dict) -> Any:
    raw = body.get("packaging", MISSING)
    if raw is MISSING:
        return MISSING
    if not isinstance(raw, list):
        issues.add(["packaging"], "invalid_type", "Expected array")
        return MISSING
    if len(raw) > 20:
        issues.add(["packaging"], "too_big", "Array must contain at most 20 element(s)")
        return MISSING
    out = []
    for i, item in enumerate(raw):
        prefix = ["packaging", i]
        if not isinstance(item, dict):
            issues.add(prefix, "invalid_type", "Expected object")
            continue
        out.append({
            "material": issues.enum(item, "material", domain.MATERIALS, prefix, required=True),
            "massGrams": issues.number(item, "massGrams", prefix, required=True, positive=True, maximum=1_000_000,
                                       decimals=3),
            "reusable": issues.boolean(item, "reusable", prefix),
            "packagingType": issues.enum(item, "packagingType", domain.PACKAGING_TYPES, prefix),
            "description": issues.text(item, "description", prefix, nullable=True, max_len=200),
        })
    return out


def validate_product(body: dict, *, update: bool) -> tuple[dict[str, Any], Any, dict[str, Any]]:
    """-> (column values present in the body, packaging list or MISSING, stock change fields)."""
    issues = Issues()
    req = not update
    values: dict[str, Any] = {}
    sku = issues.text(body, "sku", required=req, min_len=1, max_len=64)
    if isinstance(sku, str) and not domain.SKU_RE.match(sku):
        issues.custom(["sku"], "Invalid SKU")
    values["sku"] = sku
    ean = issues.text(body, "ean", nullable=True)
    if isinstance(ean, str) and not domain.ean_valid(ean):
        issues.custom(["ean"], "Invalid EAN")
    values["ean"] = ean
    values["name"] = issues.text(body, "name", required=req, min_len=1, max_len=200)
    values["description"] = issues.text(body, "description", nullable=True, max_len=2000, trim=False)
    values["unit"] = issues.enum(body, "unit", domain.UNITS)
    values["unit_price_net"] = issues.number(body, "unitPriceNet", required=req, minimum=0, maximum=1_000_000,
                                             decimals=2)
    values["vat_rate"] = issues.enum(body, "vatRate", tuple(domain.VAT_RATES))
    values["weight_grams"] = issues.number(body, "weightGrams", minimum=0, maximum=10_000_000, integer=True)
    values["reorder_point"] = issues.number(body, "reorderPoint", minimum=0, maximum=10_000_000, decimals=3)
    values["lead_time_days"] = issues.number(body, "leadTimeDays", minimum=0, maximum=365, integer=True)
    loc = issues.text(body, "location", nullable=True)
    if isinstance(loc, str):
        loc = loc.upper()
        if not domain.LOCATION_RE.match(loc):
            issues.custom(["location"], "Invalid location code")
    values["location"] = loc
    values["is_active"] = issues.boolean(body, "isActive")
    packaging = _packaging(issues, body)
    stock: dict[str, Any] = {}
    if update:
        stock["onHand"] = issues.number(body, "stockOnHand", minimum=0, maximum=10_000_000, decimals=3)
        stock["delta"] = issues.number(body, "stockDelta", minimum=-10_000_000, maximum=10_000_000, decimals=3)
        stock["reason"] = issues.enum(body, "stockReason", domain.STOCK_REASONS)
        stock["note"] = issues.text(body, "stockNote", nullable=True, max_len=500)
        if "stockOnHand" in body and "stockDelta" in body and body["stockOnHand"] is not None \
                and body["stockDelta"] is not None:
            issues.custom(["stockOnHand"], "Provide either stockOnHand or stockDelta, not both")
        if isinstance(stock["delta"], Decimal) and stock["delta"] == 0:
            issues.custom(["stockDelta"], "stockDelta must not be zero")
        changing = stock["onHand"] not in (MISSING, None) or stock["delta"] not in (MISSING, None)
        if changing and stock["reason"] in (MISSING, None) and not issues.has(["stockReason"]):
            issues.custom(["stockReason"], "stockReason is required when changing stock")
    else:
        stock["initial"] = issues.number(body, "initialStock", minimum=0, maximum=10_000_000, decimals=3)
    issues.raise_if_any()
    return {k: v for k, v in values.items() if v is not MISSING}, packaging, stock


def _whole_checks(unit: str, checks: list[tuple[list[Any], Any]]) -> None:
    if not domain.is_count_unit(unit):
        return
    issues = Issues()
    for path, value in checks:
        if isinstance(value, Decimal) and not is_whole(value):
            issues.custom(path, whole_message(unit))
    issues.raise_if_any()


def _scoped(rt: CommandRuntime, model: Any) -> list[ColumnElement[bool]]:
    return [model.tenant_id == rt.tenant_id, model.organization_id == rt.organization_id, model.deleted_at.is_(None)]


async def _check_unique(rt: CommandRuntime, sku: str | None, ean: str | None, exclude: uuid.UUID | None) -> None:
    base = _scoped(rt, Product)
    if exclude is not None:
        base.append(Product.id != exclude)
    if sku is not None:
        hit = await rt.session.scalar(select(Product.id).where(*base, func.lower(Product.sku) == sku.lower()).limit(1))
        if hit is not None:
            raise ApiError(409, "duplicate_sku")
    if ean is not None:
        hit = await rt.session.scalar(select(Product.id).where(*base, Product.ean == ean).limit(1))
        if hit is not None:
            raise ApiError(409, "duplicate_ean")


async def components_of(session: Any, product_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ProductPackaging]]:
    out: dict[uuid.UUID, list[ProductPackaging]] = {pid: [] for pid in product_ids}
    if not product_ids:
        return out
    rows = await session.execute(select(ProductPackaging).where(
        ProductPackaging.product_id.in_(product_ids), ProductPackaging.deleted_at.is_(None)
    ).order_by(ProductPackaging.position))
    for c in rows.scalars():
        out.setdefault(c.product_id, []).append(c)
    return out


async def load_product(rt: CommandRuntime, product_id: uuid.UUID, *, lock: bool = False) -> Product | None:
    stmt = select(Product).where(Product.id == product_id, *_scoped(rt, Product))
    if lock:
        stmt = stmt.with_for_update()
    return await rt.session.scalar(stmt)


async def product_snapshot(rt: CommandRuntime, p: Product) -> dict[str, Any]:
    comps = await components_of(rt.session, [p.id])
    return product_dto(p, comps[p.id])


def _add_components(rt: CommandRuntime, p: Product, items: list[dict[str, Any]]) -> None:
    for pos, c in enumerate(items):
        rt.session.add(ProductPackaging(
            id=uuid.uuid4(), tenant_id=p.tenant_id, organization_id=p.organization_id, product_id=p.id,
            material=c["material"], mass_grams=Decimal(str(c["massGrams"])),
            reusable=bool(c.get("reusable") or False) if c.get("reusable") is not MISSING else False,
            packaging_type=c.get("packagingType") if c.get("packagingType") not in (MISSING, None) else "unit",
            description=c.get("description") if c.get("description") is not MISSING else None, position=pos,
        ))


async def _drop_components(rt: CommandRuntime, p: Product) -> None:
    now = utcnow()
    for c in (await components_of(rt.session, [p.id]))[p.id]:
        c.deleted_at = now


def _scope_events(rt: CommandRuntime) -> dict[str, str]:
    return {"tenantId": str(rt.tenant_id), "organizationId": str(rt.organization_id)}


class CreateProduct(Command):
    id = "magazyn.products.create"

    async def execute(self, rt: CommandRuntime, input: dict) -> dict:  # noqa: A002
        values, packaging, stock = validate_product(input, update=False)
        unit = values.get("unit", "szt")
        _whole_checks(unit, [(["initialStock"], stock["initial"]), (["reorderPoint"], values.get("reorder_point"))])
        await _check_unique(rt, values["sku"], values.get("ean"), None)
        now = utcnow()
        p = Product(id=uuid.uuid4(), tenant_id=rt.tenant_id, organization_id=rt.organization_id, created_at=now,
                    updated_at=now, stock_on_hand=Decimal(0), stock_reserved=Decimal(0),
                    **{"unit": "szt", "vat_rate": "23", "weight_grams": 0, "reorder_point": Decimal(0),
                       "lead_time_days": 7, "is_active": True, **values})
        rt.session.add(p)
        await rt.session.flush()
        _add_components(rt, p, packaging if packaging is not MISSING else [])
        ledger = StockLedger(rt)
        movement = None
        initial = stock["initial"]
        if isinstance(initial, Decimal) and initial > 0:
            movement = await ledger.move(p, "receipt", initial, reason="receipt", note="initial stock")
        await rt.session.flush()
        for name, payload in ledger.events():
            rt.queue_event(name, payload)
        rt.queue_event("magazyn.product.created", {"id": str(p.id), "sku": p.sku, **_scope_events(rt)})
        return {"product": p, "movementId": str(movement.id) if movement else None}

    async def capture_after(self, rt: CommandRuntime, input: Any, result: dict) -> Any:  # noqa: A002
        result["dto"] = await product_snapshot(rt, result["product"])
        return result["dto"]

    def build_log(self, rt: CommandRuntime, input: Any, result: dict, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Create product", resource_kind="magazyn.product",
                       resource_id=str(result["product"].id), payload={"undo": {"movementId": result["movementId"]}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        p = await load_product(rt, uuid.UUID(entry.resource_id), lock=True)
        if p is None:
            raise ApiError(400, "Undo failed")
        opening = (entry.undo_payload or {}).get("movementId")
        used = await rt.session.scalar(select(exists().where(OrderLine.product_id == p.id,
                                                             OrderLine.deleted_at.is_(None))))
        others = await rt.session.scalar(select(exists().where(
            StockMovement.product_id == p.id, StockMovement.deleted_at.is_(None),
            *([StockMovement.id != uuid.UUID(opening)] if opening else []))))
        if used or others:
            raise ApiError(400, "Undo failed")
        ledger = StockLedger(rt)
        await ledger.reverse([opening] if opening else [], note="undo")
        now = utcnow()
        await _drop_components(rt, p)
        p.deleted_at = now
        await rt.session.flush()
        for name, payload in ledger.events():
            rt.queue_event(name, payload)
        rt.queue_event("magazyn.product.deleted", {"id": str(p.id), "sku": p.sku, **_scope_events(rt)})


class UpdateProduct(Command):
    id = "magazyn.products.update"

    async def prepare(self, rt: CommandRuntime, input: Any) -> Any:  # noqa: A002
        issues = Issues()
        pid = issues.uuid(input if isinstance(input, dict) else {}, "id", required=True)
        issues.raise_if_any()
        p = await load_product(rt, pid, lock=True)
        if p is None:
            raise ApiError(404, "Product not found")
        return await product_snapshot(rt, p)

    async def execute(self, rt: CommandRuntime, input: dict) -> dict:  # noqa: A002
        values, packaging, stock = validate_product(input, update=True)
        p = await load_product(rt, uuid.UUID(str(input["id"])))
        if p is None:
            raise ApiError(404, "Product not found")
        unit = values.get("unit", p.unit)
        if "unit" in values and values["unit"] != p.unit and domain.is_count_unit(values["unit"]):
            rp = values.get("reorder_point", Decimal(p.reorder_point))
            if not is_whole(Decimal(p.stock_on_hand)) or not is_whole(Decimal(p.stock_reserved)) or not is_whole(rp):
                issues = Issues()
                issues.custom(["unit"], whole_message(unit))
                issues.raise_if_any()
        _whole_checks(unit, [(["stockOnHand"], stock["onHand"]), (["stockDelta"], stock["delta"]),
                             (["reorderPoint"], values.get("reorder_point"))])
        await _check_unique(rt, values.get("sku"), values.get("ean"), p.id)
        ledger = StockLedger(rt)
        await ledger.lock([p.id])
        ledger.track(p)
        changed: list[str] = []
        reverse_names = {v: k for k, v in PRODUCT_FIELDS.items()}
        for col, value in values.items():
            current = getattr(p, col)
            if isinstance(current, Decimal) or isinstance(value, Decimal):
                same = current is not None and value is not None and Decimal(current) == Decimal(value)
            else:
                same = current == value
            if not same:
                setattr(p, col, value)
                changed.append(reverse_names[col])
        if packaging is not MISSING:
            await _drop_components(rt, p)
            _add_components(rt, p, packaging)
            changed.append("packaging")
        movement = None
        delta: Decimal | None = None
        if isinstance(stock["onHand"], Decimal):
            delta = stock["onHand"] - Decimal(p.stock_on_hand)
            requested = stock["onHand"]
        elif isinstance(stock["delta"], Decimal):
            delta = stock["delta"]
            requested = Decimal(p.stock_on_hand) + delta
        if delta is not None:
            if requested < Decimal(p.stock_reserved):
                raise ApiError(409, "stock_below_reserved", stockReserved=domain.num(p.stock_reserved),
                               requestedStockOnHand=domain.num(requested))
            if delta != 0:
                kind = "receipt" if stock["reason"] == "receipt" else "adjustment"
                note = stock["note"] if isinstance(stock["note"], str) else None
                try:
                    movement = await ledger.move(p, kind, delta, reason=stock["reason"], note=note)
                except StockConflict:
                    await rt.session.refresh(p)
                    raise ApiError(409, "stock_below_reserved", stockReserved=domain.num(p.stock_reserved),
                                   requestedStockOnHand=domain.num(requested)) from None
                changed.append("stockOnHand")
        p.updated_at = utcnow()
        await rt.session.flush()
        for name, payload in ledger.events():
            if name == "magazyn.product.low_stock":
                continue
            rt.queue_event(name, payload)
        scope = _scope_events(rt)
        if movement is not None:
            avail = Decimal(p.stock_on_hand) - Decimal(p.stock_reserved)
            rt.queue_event("magazyn.product.stock_adjusted", {
                "productId": str(p.id), "sku": p.sku, "movementId": str(movement.id), "movementType": movement.type,
                "reason": movement.reason, "onHandDelta": domain.num(movement.on_hand_delta),
                "stockOnHand": domain.num(p.stock_on_hand), "stockReserved": domain.num(p.stock_reserved),
                "stockAvailable": domain.num(avail), **scope})
        for name, payload in ledger.events():
            if name == "magazyn.product.low_stock":
                rt.queue_event(name, payload)
        rt.queue_event("magazyn.product.updated", {"id": str(p.id), "sku": p.sku, "changedFields": changed, **scope})
        return {"product": p, "movementId": str(movement.id) if movement else None}

    async def capture_after(self, rt: CommandRuntime, input: Any, result: dict) -> Any:  # noqa: A002
        result["dto"] = await product_snapshot(rt, result["product"])
        return result["dto"]

    def build_log(self, rt: CommandRuntime, input: Any, result: dict, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Update product", resource_kind="magazyn.product",
                       resource_id=str(result["product"].id), payload={"undo": {"movementId": result["movementId"]}})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        before = entry.snapshot_before or {}
        p = await load_product(rt, uuid.UUID(entry.resource_id), lock=True)
        if p is None or not before:
            raise ApiError(400, "Undo failed")
        try:
            await _check_unique(rt, before.get("sku"), before.get("ean"), p.id)
        except ApiError:
            raise ApiError(400, "Undo failed") from None
        ledger = StockLedger(rt)
        movement_id = (entry.undo_payload or {}).get("movementId")
        if movement_id:
            await ledger.lock([p.id])
            reversed_ = await ledger.reverse([movement_id], note="undo")
            if Decimal(p.stock_on_hand) < 0 or Decimal(p.stock_on_hand) < Decimal(p.stock_reserved) or not reversed_:
                raise ApiError(400, "Undo failed")
        changed = []
        for key, col in PRODUCT_FIELDS.items():
            if key not in before:
                continue
            value = before[key]
            if col in ("unit_price_net", "reorder_point") and value is not None:
                value = Decimal(str(value))
            if getattr(p, col) != value:
                setattr(p, col, value)
                changed.append(key)
        current = await product_snapshot(rt, p)
        if current["packaging"] != before.get("packaging"):
            await _drop_components(rt, p)
            _add_components(rt, p, before.get("packaging") or [])
            changed.append("packaging")
        if movement_id:
            changed.append("stockOnHand")
        p.updated_at = utcnow()
        await rt.session.flush()
        for name, payload in ledger.events():
            rt.queue_event(name, payload)
        rt.queue_event("magazyn.product.updated", {"id": str(p.id), "sku": p.sku, "changedFields": changed,
                                                   **_scope_events(rt)})


register_command(CreateProduct())
register_command(UpdateProduct())


PRODUCT_SORT = {"sku": Product.sku, "name": Product.name, "stockOnHand": Product.stock_on_hand,
                "stockAvailable": Product.stock_on_hand - Product.stock_reserved,
                "unitPriceNet": Product.unit_price_net, "location": Product.location,
                "createdAt": Product.created_at, "updatedAt": Product.updated_at}


async def list_products(rt: CommandRuntime, q: Any) -> dict[str, Any]:
    from mercato.modules.warehouse.common import envelope, like

    page, size = q.paging()
    search, sku, ean = q.text("search"), q.text("sku"), q.text("ean")
    ids = q.ids()
    is_active, low = q.boolean("isActive"), q.boolean("lowStock")
    location = q.text("location")
    material = q.enum("material", domain.MATERIALS)
    with_moves = q.boolean("includeMovements", False)
    moves_limit = q.integer("movementsLimit", 20, 1, 100) or 20
    field, direction = q.sort(tuple(PRODUCT_SORT), "sku", "asc")
    q.done()
    where = _scoped(rt, Product)
    if search:
        pat = like(search.lower())
        where.append(or_(func.lower(Product.sku).like(pat, escape="\\"), func.lower(Product.name).like(pat, escape="\\"),
                         func.lower(func.coalesce(Product.ean, "")).like(pat, escape="\\")))
    if sku:
        where.append(func.lower(Product.sku) == sku.lower())
    if ean:
        where.append(Product.ean == ean)
    if ids is not None:
        where.append(Product.id.in_(ids))
    if is_active is not None:
        where.append(Product.is_active.is_(is_active))
    avail = Product.stock_on_hand - Product.stock_reserved
    low_expr = and_(Product.reorder_point > 0, avail <= Product.reorder_point)
    if low is True:
        where.append(low_expr)
    elif low is False:
        where.append(~low_expr)
    if location:
        where.append(func.upper(Product.location).like(location.upper().replace("\\", "\\\\").replace("%", "\\%")
                                                        .replace("_", "\\_") + "%", escape="\\"))
    if material:
        where.append(exists().where(ProductPackaging.product_id == Product.id, ProductPackaging.deleted_at.is_(None),
                                    ProductPackaging.material == material))
    total = await rt.session.scalar(select(func.count()).select_from(Product).where(*where)) or 0
    col = PRODUCT_SORT[field or "sku"]
    order = [col.is_(None).asc() if field == "location" else None, col.desc() if direction == "desc" else col.asc(),
             Product.id.asc()]
    rows = list((await rt.session.execute(select(Product).where(*where).order_by(*[o for o in order if o is not None])
                                          .offset((page - 1) * size).limit(size))).scalars())
    comps = await components_of(rt.session, [p.id for p in rows])
    items = [product_dto(p, comps.get(p.id, [])) for p in rows]
    if with_moves and rows:
        ranked = select(StockMovement, func.row_number().over(
            partition_by=StockMovement.product_id,
            order_by=(StockMovement.occurred_at.desc(), StockMovement.created_at.desc())).label("rn")
        ).where(StockMovement.product_id.in_([p.id for p in rows]), StockMovement.deleted_at.is_(None)).subquery()
        from sqlalchemy.orm import aliased

        alias = aliased(StockMovement, ranked)
        moves = await rt.session.execute(select(alias).where(ranked.c.rn <= moves_limit)
                                         .order_by(ranked.c.occurred_at.desc(), ranked.c.created_at.desc()))
        by_product: dict[str, list[dict[str, Any]]] = {}
        for m in moves.scalars():
            by_product.setdefault(str(m.product_id), []).append(movement_dto(m))
        for item in items:
            item["movements"] = by_product.get(item["id"], [])
    return envelope(items, total, page, size)
