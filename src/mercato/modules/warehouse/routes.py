"""HTTP surface of the Magazyn module: 14 endpoints under /api/warehouse (thin: parse -> service -> shape)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from mercato.kernel.commands import execute_command, operation_header
from mercato.kernel.context import Ctx
from mercato.kernel.errors import ApiError
from mercato.kernel.routing import ModuleRouter
from mercato.kernel.serialize import jsonable
from mercato.modules.warehouse import domain
from mercato.modules.warehouse.bdo import bdo_report
from mercato.modules.warehouse.common import TARGET_FORBIDDEN, Query, json_body, runtime_for
from mercato.modules.warehouse.dto import history_dto, movement_dto, order_dto, shipping_packaging_dto, task_dto
from mercato.modules.warehouse.forecast import demand_forecast
from mercato.modules.warehouse.models import Order, OrderPackaging, OrderStatusHistory, PackingTask
from mercato.modules.warehouse.orders import lines_with_locations, load_order, movements_of_order, order_lines
from mercato.modules.warehouse.products import list_products
from mercato.modules.warehouse.profiles import list_profiles
from mercato.modules.warehouse.reports import analytics, packing_queue
from mercato.modules.warehouse.validation import parse_uuid_text

router = ModuleRouter("Magazyn", tenant_error=TARGET_FORBIDDEN)

PRODUCTS, PROFILES, ORDERS, DETAIL = ("magazyn.products", "magazyn.customer_profiles", "magazyn.orders",
                                      "magazyn.orders.detail")


def _json(body: Any, status: int = 200, log: Any = None) -> JSONResponse:
    return JSONResponse(jsonable(body), status_code=status, headers=operation_header(log))


async def _write(ctx: Ctx, request: Request, command: str, extra: dict | None = None) -> tuple[Any, Any]:
    body = await json_body(request)
    rt = await runtime_for(ctx, body)
    outcome = await execute_command(rt, command, {**body, **(extra or {})})
    return outcome.result, outcome.log


@router.get("/warehouse/products", features=[PRODUCTS], summary="List warehouse products with stock levels")
async def get_products(request: Request, ctx: Ctx) -> JSONResponse:
    return _json(await list_products(await runtime_for(ctx), Query(request)))


@router.post("/warehouse/products", features=[PRODUCTS], status_code=201, summary="Create a warehouse product")
async def post_product(request: Request, ctx: Ctx) -> JSONResponse:
    result, log = await _write(ctx, request, "magazyn.products.create")
    return _json({"id": result["dto"]["id"], "product": result["dto"]}, 201, log)


@router.put("/warehouse/products", features=[PRODUCTS], summary="Update a product, its packaging or its stock")
async def put_product(request: Request, ctx: Ctx) -> JSONResponse:
    result, log = await _write(ctx, request, "magazyn.products.update")
    return _json({"ok": True, "product": result["dto"]}, 200, log)


@router.get("/warehouse/customer-profiles", features=[PROFILES], summary="List buyer profiles")
async def get_profiles(request: Request, ctx: Ctx) -> JSONResponse:
    return _json(await list_profiles(await runtime_for(ctx), Query(request)))


@router.post("/warehouse/customer-profiles", features=[PROFILES], status_code=201, summary="Create a buyer profile")
async def post_profile(request: Request, ctx: Ctx) -> JSONResponse:
    from mercato.modules.warehouse.dto import profile_dto

    result, log = await _write(ctx, request, "magazyn.customer_profiles.create")
    return _json({"id": str(result.id), "profile": profile_dto(result)}, 201, log)


@router.put("/warehouse/customer-profiles", features=[PROFILES], summary="Update a buyer profile")
async def put_profile(request: Request, ctx: Ctx) -> JSONResponse:
    from mercato.modules.warehouse.dto import profile_dto

    result, log = await _write(ctx, request, "magazyn.customer_profiles.update")
    return _json({"ok": True, "profile": profile_dto(result)}, 200, log)


ORDER_SORT = {"placedAt": Order.placed_at, "orderNumber": Order.order_number, "totalGross": Order.total_gross,
              "status": Order.status, "requestedShipDate": Order.requested_ship_date, "updatedAt": Order.updated_at}


@router.get("/warehouse/orders", features=[ORDERS], summary="List warehouse orders")
async def get_orders(request: Request, ctx: Ctx) -> JSONResponse:
    from sqlalchemy import func, or_

    from mercato.modules.warehouse.common import envelope, like
    from mercato.modules.warehouse.validation import parse_date

    rt = await runtime_for(ctx)
    q = Query(request)
    page, size = q.paging()
    search = q.text("search")
    statuses = q.enum_list("status", domain.STATUSES)
    profile = q.uuid("customerProfileId")
    channel = q.enum("channel", domain.CHANNELS)
    priority = q.enum("priority", domain.PRIORITIES)
    method = q.enum("shippingMethod", domain.SHIPPING_METHODS)
    ids = q.ids()
    bounds = {}
    for name in ("placedFrom", "placedTo"):
        raw = q.text(name)
        if raw is not None:
            bounds[name] = parse_date(raw)
            if bounds[name] is None:
                q.issues.add([name], "invalid_string", "Invalid date")
    field, direction = q.sort(tuple(ORDER_SORT), "placedAt", "desc")
    q.done()
    where = [Order.tenant_id == rt.tenant_id, Order.organization_id == rt.organization_id, Order.deleted_at.is_(None)]
    if search:
        pat = like(search.lower())
        where.append(or_(func.lower(Order.order_number).like(pat, escape="\\"),
                         func.lower(func.coalesce(Order.external_reference, "")).like(pat, escape="\\"),
                         func.lower(Order.customer_snapshot["displayName"].as_string()).like(pat, escape="\\"),
                         func.lower(Order.customer_snapshot["nip"].as_string()).like(pat, escape="\\")))
    if statuses:
        where.append(Order.status.in_(statuses))
    if profile:
        where.append(Order.customer_profile_id == profile)
    if channel:
        where.append(Order.channel == channel)
    if priority:
        where.append(Order.priority == priority)
    if method:
        where.append(Order.shipping_method == method)
    if ids is not None:
        where.append(Order.id.in_(ids))
    if bounds.get("placedFrom"):
        where.append(Order.placed_at >= domain.warsaw_start(bounds["placedFrom"]))
    if bounds.get("placedTo"):
        from datetime import timedelta

        where.append(Order.placed_at < domain.warsaw_start(bounds["placedTo"] + timedelta(days=1)))
    total = await rt.session.scalar(select(func.count()).select_from(Order).where(*where)) or 0
    col = ORDER_SORT[field or "placedAt"]
    rows = (await rt.session.execute(select(Order).where(*where).order_by(
        col.desc() if direction == "desc" else col.asc(), Order.id.asc()).offset((page - 1) * size).limit(size))).scalars()
    return _json(envelope([order_dto(o, detail=False) for o in rows], total, page, size))


@router.post("/warehouse/orders", features=[ORDERS], status_code=201, summary="Create an order and reserve its stock")
async def post_order(request: Request, ctx: Ctx) -> JSONResponse:
    result, log = await _write(ctx, request, "magazyn.orders.create")
    return _json({"id": result["dto"]["order"]["id"], **result["dto"]}, 201, log)


def _order_id(raw: str) -> Any:
    parsed = parse_uuid_text(raw)
    if parsed is None:
        raise ApiError(400, "Invalid identifier")
    return parsed


@router.get("/warehouse/orders/{id}", features=[DETAIL], summary="Order with lines, history and packing task")
async def get_order(id: str, ctx: Ctx) -> JSONResponse:  # noqa: A002
    oid = _order_id(id)
    rt = await runtime_for(ctx)
    order = await load_order(rt, oid)
    if order is None:
        raise ApiError(404, "Order not found")
    history = (await rt.session.execute(select(OrderStatusHistory).where(
        OrderStatusHistory.order_id == oid, OrderStatusHistory.deleted_at.is_(None))
        .order_by(OrderStatusHistory.occurred_at, OrderStatusHistory.created_at))).scalars()
    task = await rt.session.scalar(select(PackingTask).where(PackingTask.order_id == oid,
                                                             PackingTask.deleted_at.is_(None)))
    packaging = (await rt.session.execute(select(OrderPackaging).where(
        OrderPackaging.order_id == oid, OrderPackaging.deleted_at.is_(None)).order_by(OrderPackaging.created_at))).scalars()
    return _json({
        "order": order_dto(order),
        "lines": await lines_with_locations(rt.session, await order_lines(rt.session, oid)),
        "statusHistory": [history_dto(h) for h in history],
        "packingTask": task_dto(task),
        "shippingPackaging": [shipping_packaging_dto(p) for p in packaging],
        "stockMovements": [movement_dto(m) for m in await movements_of_order(rt.session, oid)],
        "allowedTransitions": list(domain.TRANSITIONS[order.status]),
    })


@router.patch("/warehouse/orders/{id}/status", features=[DETAIL], summary="Move an order through its lifecycle")
async def patch_status(id: str, request: Request, ctx: Ctx) -> JSONResponse:  # noqa: A002
    oid = _order_id(id)
    result, log = await _write(ctx, request, "magazyn.orders.change_status", {"id": str(oid)})
    order = result["order"]
    return _json({"ok": True, "order": order_dto(order), "historyEntry": history_dto(result["entry"]),
                  "packingTask": task_dto(result["task"]), "allowedTransitions": list(domain.TRANSITIONS[order.status])},
                 200, log)


@router.get("/warehouse/packing", features=["magazyn.packing"], summary="Packing queue")
async def get_packing(request: Request, ctx: Ctx) -> JSONResponse:
    return _json(await packing_queue(await runtime_for(ctx), Query(request)))


@router.get("/warehouse/analytics", features=["magazyn.analytics"], summary="Sales and stock KPIs")
async def get_analytics(request: Request, ctx: Ctx) -> JSONResponse:
    return _json(await analytics(await runtime_for(ctx), Query(request)))


@router.get("/warehouse/forecast", features=["magazyn.forecast"], summary="Demand forecast and reorder advice")
async def get_forecast(request: Request, ctx: Ctx) -> JSONResponse:
    return _json(await demand_forecast(await runtime_for(ctx), Query(request)))


@router.get("/warehouse/bdo", features=["magazyn.bdo_report"], summary="Annual BDO packaging report (JSON or CSV)")
async def get_bdo(request: Request, ctx: Ctx) -> Response:
    report, year = await bdo_report(await runtime_for(ctx), Query(request))
    if "csv" in report:
        return Response(report["csv"].encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="bdo-{year}.csv"'})
    return _json(report)
