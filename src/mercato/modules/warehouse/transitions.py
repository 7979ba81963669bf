"""Order status lifecycle: one transition with its side effects (§5), and its exact undo (§8)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from mercato.kernel.commands import Command, CommandRuntime, LoggedAction, LogMeta, register_command
from mercato.kernel.db import utcnow
from mercato.kernel.errors import ApiError
from mercato.kernel.serialize import iso
from mercato.modules.warehouse import domain
from mercato.modules.warehouse.dto import history_dto, order_dto
from mercato.modules.warehouse.models import (
    Order,
    OrderPackaging,
    OrderStatusHistory,
    PackingTask,
    ProductPackaging,
)
from mercato.modules.warehouse.orders import FUTURE_SLACK, load_order, order_lines, scope_payload
from mercato.modules.warehouse.stock import StockLedger
from mercato.modules.warehouse.validation import MISSING, Issues, parse_datetime

ORDER_STATE = ("status", "confirmed_at", "packed_at", "shipped_at", "delivered_at", "cancelled_at", "returned_at",
               "carrier", "tracking_number", "status_reason", "package_count", "measured_weight_grams")
TASK_STATE = ("status", "assignee_user_id", "started_at", "completed_at", "package_count", "measured_weight_grams")
STAMP = {"confirmed": "confirmed_at", "packed": "packed_at", "shipped": "shipped_at", "delivered": "delivered_at",
         "cancelled": "cancelled_at", "returned": "returned_at"}


def _dump(row: Any, cols: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for c in cols:
        v = getattr(row, c)
        out[c] = iso(v) if isinstance(v, datetime) else (str(v) if isinstance(v, uuid.UUID) else v)
    return out


def _load(row: Any, state: dict[str, Any]) -> None:
    for c, v in state.items():
        if c.endswith("_at") and isinstance(v, str):
            v = parse_datetime(v)
        elif c == "assignee_user_id" and isinstance(v, str):
            v = uuid.UUID(v)
        setattr(row, c, v)


def _shape(body: dict) -> dict[str, Any]:
    """Body types of §9.11 (400 before any lookup)."""
    issues = Issues()
    out = {
        "status": issues.enum(body, "status", domain.STATUSES, required=True),
        "fromStatus": issues.enum(body, "fromStatus", domain.STATUSES),
        "occurredAt": issues.moment(body, "occurredAt"),
        "reason": issues.text(body, "reason", nullable=True, min_len=1, max_len=500),
        "note": issues.text(body, "note", nullable=True, max_len=1000, trim=False),
        "assigneeUserId": issues.uuid(body, "assigneeUserId", nullable=True),
        "packageCount": issues.number(body, "packageCount", minimum=1, maximum=999, integer=True),
        "measuredWeightGrams": issues.number(body, "measuredWeightGrams", minimum=1, maximum=10_000_000, integer=True),
        "carrier": issues.enum(body, "carrier", domain.CARRIERS, nullable=True),
        "trackingNumber": issues.text(body, "trackingNumber", nullable=True, max_len=64),
    }
    if isinstance(out["trackingNumber"], str) and not domain.TRACKING_RE.match(out["trackingNumber"]):
        issues.add(["trackingNumber"], "invalid_string", "Invalid tracking number")
    packaging = []
    raw = body.get("shippingPackaging", MISSING)
    if raw is not MISSING and raw is not None:
        if not isinstance(raw, list):
            issues.add(["shippingPackaging"], "invalid_type", "Expected array")
        elif len(raw) > 20:
            issues.add(["shippingPackaging"], "too_big", "Array must contain at most 20 element(s)")
        else:
            for i, item in enumerate(raw):
                prefix = ["shippingPackaging", i]
                if not isinstance(item, dict):
                    issues.add(prefix, "invalid_type", "Expected object")
                    continue
                packaging.append({
                    "material": issues.enum(item, "material", domain.MATERIALS, prefix, required=True),
                    "massGrams": issues.number(item, "massGrams", prefix, required=True, positive=True,
                                               maximum=10_000_000, decimals=3),
                    "reusable": issues.boolean(item, "reusable", prefix),
                    "description": issues.text(item, "description", prefix, nullable=True, max_len=200),
                })
    out["shippingPackaging"] = packaging
    issues.raise_if_any()
    return out


class ChangeStatus(Command):
    id = "magazyn.orders.change_status"

    async def execute(self, rt: CommandRuntime, input: dict) -> dict:  # noqa: A002, C901
        body = {k: v for k, v in input.items() if k != "id"}
        data = _shape(body)
        order = await load_order(rt, uuid.UUID(str(input["id"])), lock=True)
        if order is None:
            raise ApiError(404, "Order not found")
        current, target = order.status, data["status"]
        if isinstance(data["fromStatus"], str) and data["fromStatus"] != current:
            raise ApiError(409, "status_conflict", expected=data["fromStatus"], actual=current)
        allowed = list(domain.TRANSITIONS[current])
        if target not in allowed:
            raise ApiError(409, "invalid_status_transition", **{"from": current, "to": target, "allowed": allowed})
        issues = Issues()
        if target in domain.REASON_REQUIRED and not isinstance(data["reason"], str):
            issues.custom(["reason"], f"reason is required for status {target}")
        if target == "shipped" and order.shipping_method != "pickup" and not isinstance(data["carrier"], str):
            issues.custom(["carrier"], "carrier is required for status shipped")
        now = utcnow()
        occurred = data["occurredAt"] if data["occurredAt"] is not MISSING else now
        last = await rt.session.scalar(select(OrderStatusHistory).where(
            OrderStatusHistory.order_id == order.id, OrderStatusHistory.deleted_at.is_(None))
            .order_by(OrderStatusHistory.occurred_at.desc(), OrderStatusHistory.created_at.desc()).limit(1))
        if data["occurredAt"] is not MISSING:
            if occurred > now + FUTURE_SLACK:
                issues.custom(["occurredAt"], "occurredAt cannot be in the future")
            elif last is not None and occurred < last.occurred_at:
                issues.custom(["occurredAt"], "occurredAt cannot be earlier than the previous status change")
        elif last is not None and occurred < last.occurred_at:
            occurred = last.occurred_at  # a back-dated history must stay ordered
        issues.raise_if_any()

        undo: dict[str, Any] = {"order": _dump(order, ORDER_STATE), "task": None, "taskCreated": None,
                                "movementIds": [], "packagingAdded": [], "packagingRemoved": [], "snapshotLines": []}
        task = await rt.session.scalar(select(PackingTask).where(PackingTask.order_id == order.id,
                                                                 PackingTask.deleted_at.is_(None)))
        if task is not None:
            undo["task"] = {"id": str(task.id), **_dump(task, TASK_STATE)}
        reason = data["reason"] if isinstance(data["reason"], str) else None
        details: dict[str, Any] = {}
        ledger = StockLedger(rt)
        task_events: list[tuple[str, dict[str, Any]]] = []
        lines = await order_lines(rt.session, order.id)

        if target == "confirmed":
            if task is None:
                task = PackingTask(id=uuid.uuid4(), tenant_id=rt.tenant_id, organization_id=rt.organization_id,
                                   order_id=order.id, status="pending", created_at=now, updated_at=now)
                rt.session.add(task)
                undo["taskCreated"] = str(task.id)
                task_events.append(("magazyn.packing_task.created", {"id": str(task.id), "orderId": str(order.id)}))
            else:
                task.status, task.assignee_user_id, task.started_at = "pending", None, None
        elif target == "picking":
            assignee = data["assigneeUserId"] if isinstance(data["assigneeUserId"], uuid.UUID) else rt.actor_user_id
            if task is None:  # defensive: every picking order was confirmed first
                task = PackingTask(id=uuid.uuid4(), tenant_id=rt.tenant_id, organization_id=rt.organization_id,
                                   order_id=order.id, created_at=now, updated_at=now)
                rt.session.add(task)
                undo["taskCreated"] = str(task.id)
            task.status, task.assignee_user_id, task.started_at = "in_progress", assignee, occurred
            details["assigneeUserId"] = str(assignee) if assignee else None
            if current == "packed":
                task.completed_at = task.package_count = task.measured_weight_grams = None
                order.packed_at = order.package_count = order.measured_weight_grams = None
                for row in (await rt.session.execute(select(OrderPackaging).where(
                        OrderPackaging.order_id == order.id, OrderPackaging.deleted_at.is_(None)))).scalars():
                    row.deleted_at = now
                    undo["packagingRemoved"].append(str(row.id))
        elif target == "packed":
            count = data["packageCount"] if isinstance(data["packageCount"], int) else 1
            weight = data["measuredWeightGrams"] if isinstance(data["measuredWeightGrams"], int) else None
            order.package_count, order.measured_weight_grams = count, weight
            if task is not None:
                task.status, task.completed_at = "packed", occurred
                task.package_count, task.measured_weight_grams = count, weight
                task_events.append(("magazyn.packing_task.completed", {
                    "id": str(task.id), "orderId": str(order.id),
                    "assigneeUserId": str(task.assignee_user_id) if task.assignee_user_id else None,
                    "packageCount": count, "measuredWeightGrams": weight}))
            for item in data["shippingPackaging"]:
                row = OrderPackaging(id=uuid.uuid4(), tenant_id=rt.tenant_id, organization_id=rt.organization_id,
                                     order_id=order.id, material=item["material"], mass_grams=item["massGrams"],
                                     reusable=item["reusable"] is True,
                                     description=item["description"] if isinstance(item["description"], str) else None,
                                     created_at=now, updated_at=now)
                rt.session.add(row)
                undo["packagingAdded"].append(str(row.id))
            details.update({"packageCount": count, "measuredWeightGrams": weight})
        elif target == "shipped":
            order.carrier = data["carrier"] if isinstance(data["carrier"], str) else None
            order.tracking_number = data["trackingNumber"] if isinstance(data["trackingNumber"], str) else None
            locked = await ledger.lock([ln.product_id for ln in lines])
            comps: dict[uuid.UUID, list[dict[str, Any]]] = {}
            for c in (await rt.session.execute(select(ProductPackaging).where(
                    ProductPackaging.product_id.in_([ln.product_id for ln in lines]),
                    ProductPackaging.deleted_at.is_(None)).order_by(ProductPackaging.position))).scalars():
                comps.setdefault(c.product_id, []).append(
                    {"material": c.material, "massGrams": domain.num(c.mass_grams), "reusable": c.reusable})
            for ln in lines:
                q = Decimal(ln.quantity)
                m = await ledger.move(locked[ln.product_id], "shipment", -q, -q, order_id=order.id, line_id=ln.id,
                                occurred_at=occurred)
                undo["movementIds"].append(str(m.id))
                ln.packaging_snapshot = comps.get(ln.product_id, [])
                undo["snapshotLines"].append(str(ln.id))
            details.update({"carrier": order.carrier, "trackingNumber": order.tracking_number})
        elif target in ("returned", "cancelled"):
            order.status_reason = reason
            locked = await ledger.lock([ln.product_id for ln in lines])
            for ln in lines:
                q = Decimal(ln.quantity)
                if target == "returned":
                    m = await ledger.move(locked[ln.product_id], "return", q, order_id=order.id, line_id=ln.id,
                                    occurred_at=occurred)
                else:
                    m = await ledger.move(locked[ln.product_id], "release", reserved=-q, order_id=order.id, line_id=ln.id,
                                    occurred_at=occurred)
                undo["movementIds"].append(str(m.id))
            if target == "cancelled" and task is not None:
                task.status = "cancelled"
        elif target == "on_hold":
            order.status_reason = reason
        if target in STAMP:
            setattr(order, STAMP[target], occurred)
        if task is not None:
            task.updated_at = now
        order.status = target
        order.updated_at = now
        entry = OrderStatusHistory(id=uuid.uuid4(), tenant_id=rt.tenant_id, organization_id=rt.organization_id,
                                   order_id=order.id, from_status=current, to_status=target, occurred_at=occurred,
                                   actor_user_id=rt.actor_user_id, reason=reason,
                                   note=data["note"] if isinstance(data["note"], str) else None,
                                   details=details or None, created_at=now, updated_at=now)
        rt.session.add(entry)
        undo["historyId"] = str(entry.id)
        await rt.session.flush()
        self._queue(rt, ledger, task_events, order, current, target, entry, reason, undo=False)
        return {"order": order, "entry": entry, "task": task, "undo": undo}

    @staticmethod
    def _queue(rt: CommandRuntime, ledger: StockLedger, task_events: list, order: Order, src: str, dst: str,
               entry: OrderStatusHistory, reason: str | None, *, undo: bool) -> None:
        scope = scope_payload(rt)
        for name, payload in ledger.events():
            rt.queue_event(name, payload)
        for name, payload in task_events:
            rt.queue_event(name, {**payload, **scope})
        base = {"id": str(order.id), "orderNumber": order.order_number}
        rt.queue_event("magazyn.order.status_changed", {
            **base, "fromStatus": src, "toStatus": dst, "historyId": str(entry.id),
            "actorUserId": str(rt.actor_user_id) if rt.actor_user_id else None,
            "occurredAt": iso(entry.occurred_at) if not undo else iso(utcnow()), "undo": undo, **scope})
        if undo:
            return
        if dst == "confirmed":
            rt.queue_event("magazyn.order.confirmed", {**base, **scope})
        elif dst == "shipped":
            rt.queue_event("magazyn.order.shipped", {**base, "carrier": order.carrier,
                                                     "trackingNumber": order.tracking_number,
                                                     "shippedAt": iso(order.shipped_at), **scope})
        elif dst in ("cancelled", "returned"):
            rt.queue_event(f"magazyn.order.{dst}", {**base, "reason": reason, **scope})

    async def capture_after(self, rt: CommandRuntime, input: Any, result: dict) -> Any:  # noqa: A002
        return {"order": order_dto(result["order"]), "historyEntry": history_dto(result["entry"])}

    def build_log(self, rt: CommandRuntime, input: Any, result: dict, before: Any, after: Any) -> LogMeta:  # noqa: A002
        return LogMeta(action_label="Change order status", resource_kind="magazyn.order",
                       resource_id=str(result["order"].id), payload={"undo": result["undo"]},
                       snapshot_before={"status": result["undo"]["order"]["status"]},
                       snapshot_after={"status": result["order"].status})

    async def undo(self, rt: CommandRuntime, entry: LoggedAction) -> None:
        data = entry.undo_payload or {}
        order = await load_order(rt, uuid.UUID(entry.resource_id), lock=True)
        history = await rt.session.get(OrderStatusHistory, uuid.UUID(data["historyId"])) if data.get("historyId") \
            else None
        if order is None or history is None or history.deleted_at is not None or order.status != history.to_status:
            raise ApiError(400, "Undo failed")
        latest = await rt.session.scalar(select(OrderStatusHistory).where(
            OrderStatusHistory.order_id == order.id, OrderStatusHistory.deleted_at.is_(None))
            .order_by(OrderStatusHistory.occurred_at.desc(), OrderStatusHistory.created_at.desc()).limit(1))
        if latest is None or latest.id != history.id:
            raise ApiError(400, "Undo failed")
        ledger = StockLedger(rt)
        await ledger.reverse(list(data.get("movementIds") or []), note="undo")
        for p in ledger.products.values():
            if Decimal(p.stock_on_hand) < 0 or Decimal(p.stock_reserved) < 0 or \
                    Decimal(p.stock_reserved) > Decimal(p.stock_on_hand):
                raise ApiError(400, "Undo failed")
        now = utcnow()
        _load(order, data["order"])
        order.updated_at = now
        if data.get("taskCreated"):
            created = await rt.session.get(PackingTask, uuid.UUID(data["taskCreated"]))
            if created is not None:
                created.deleted_at = now
        if data.get("task"):
            task = await rt.session.get(PackingTask, uuid.UUID(data["task"]["id"]))
            if task is not None:
                _load(task, {k: v for k, v in data["task"].items() if k != "id"})
                task.updated_at = now
        for pid in data.get("packagingAdded") or []:
            row = await rt.session.get(OrderPackaging, uuid.UUID(pid))
            if row is not None:
                row.deleted_at = now
        for pid in data.get("packagingRemoved") or []:
            row = await rt.session.get(OrderPackaging, uuid.UUID(pid))
            if row is not None:
                row.deleted_at = None
        if data.get("snapshotLines"):
            for ln in await order_lines(rt.session, order.id):
                if str(ln.id) in data["snapshotLines"]:
                    ln.packaging_snapshot = None
        history.deleted_at = now
        await rt.session.flush()
        self._queue(rt, ledger, [], order, history.to_status, order.status, history, None, undo=True)


register_command(ChangeStatus())
