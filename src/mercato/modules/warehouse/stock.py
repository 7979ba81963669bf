"""Stock ledger of one command: locked product rows, movements with running figures, low-stock crossings (§10.2)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from mercato.kernel.commands import CommandRuntime
from mercato.kernel.db import utcnow
from mercato.modules.warehouse.domain import num
from mercato.modules.warehouse.models import Product, StockMovement


class StockConflict(Exception):
    """A movement would break 0 <= reserved <= on hand (another request changed the stock meanwhile)."""

    def __init__(self, product_id: uuid.UUID) -> None:
        super().__init__(str(product_id))
        self.product_id = product_id


def available(p: Product) -> Decimal:
    return Decimal(p.stock_on_hand) - Decimal(p.stock_reserved)


class StockLedger:
    """Locks products in id order, applies movements and remembers what events to emit afterwards."""

    def __init__(self, rt: CommandRuntime) -> None:
        self.rt = rt
        self.products: dict[uuid.UUID, Product] = {}
        self.available_before: dict[uuid.UUID, Decimal] = {}
        self.reorder_before: dict[uuid.UUID, Decimal] = {}
        self.movements: list[StockMovement] = []

    async def lock(self, product_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Product]:
        ids = sorted(set(product_ids) - set(self.products), key=str)
        if ids:
            stmt = (select(Product).where(Product.id.in_(ids), Product.tenant_id == self.rt.tenant_id,
                                          Product.organization_id == self.rt.organization_id)
                    .order_by(Product.id).with_for_update())
            for p in (await self.rt.session.execute(stmt)).scalars():
                await self.rt.session.refresh(p)
                self.products[p.id] = p
                self.available_before[p.id] = available(p)
                self.reorder_before[p.id] = Decimal(p.reorder_point)
        return self.products

    def track(self, p: Product) -> None:
        """Products whose reorder point changes without a movement still take part in crossing detection."""
        self.products.setdefault(p.id, p)
        self.available_before.setdefault(p.id, available(p))
        self.reorder_before.setdefault(p.id, Decimal(p.reorder_point))

    async def move(self, p: Product, kind: str, on_hand: Decimal = Decimal(0), reserved: Decimal = Decimal(0), *,
                   reason: str | None = None, order_id: uuid.UUID | None = None, line_id: uuid.UUID | None = None,
                   reverses: uuid.UUID | None = None, note: str | None = None, occurred_at: datetime | None = None,
                   ) -> StockMovement:
        """Apply the deltas as one guarded relative UPDATE, so a concurrent writer can never be overwritten
        (SQLite ignores FOR UPDATE); raises StockConflict when the invariants would break."""
        self.track(p)
        stmt = (update(Product).where(
            Product.id == p.id,
            Product.stock_reserved + reserved >= 0,
            Product.stock_on_hand + on_hand >= Product.stock_reserved + reserved,
        ).values(stock_on_hand=Product.stock_on_hand + on_hand, stock_reserved=Product.stock_reserved + reserved,
                 updated_at=utcnow())
            .returning(Product.stock_on_hand, Product.stock_reserved)
            .execution_options(synchronize_session=False))
        row = (await self.rt.session.execute(stmt)).first()
        if row is None:
            raise StockConflict(p.id)
        set_committed_value(p, "stock_on_hand", Decimal(row[0]))
        set_committed_value(p, "stock_reserved", Decimal(row[1]))
        m = StockMovement(
            id=uuid.uuid4(), tenant_id=p.tenant_id, organization_id=p.organization_id, product_id=p.id, type=kind,
            on_hand_delta=on_hand, reserved_delta=reserved, on_hand_after=p.stock_on_hand,
            reserved_after=p.stock_reserved, reason=reason, order_id=order_id, order_line_id=line_id,
            reverses_movement_id=reverses, note=note, actor_user_id=self.rt.actor_user_id,
            occurred_at=occurred_at or utcnow(), created_at=utcnow(),
        )
        self.rt.session.add(m)
        self.movements.append(m)
        return m

    async def reverse(self, movement_ids: list[str], note: str | None = None) -> list[StockMovement]:
        """Compensate earlier movements (undo): equal and opposite deltas, reason `undo`."""
        if not movement_ids:
            return []
        rows = list((await self.rt.session.execute(
            select(StockMovement).where(StockMovement.id.in_([uuid.UUID(i) for i in movement_ids]))
        )).scalars())
        await self.lock([r.product_id for r in rows])
        out = []
        for r in sorted(rows, key=lambda r: movement_ids.index(str(r.id))):
            p = self.products[r.product_id]
            out.append(await self.move(p, "reversal", -Decimal(r.on_hand_delta), -Decimal(r.reserved_delta), reason="undo",
                                 order_id=r.order_id, line_id=r.order_line_id, reverses=r.id, note=note))
        return out

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        """Movement events, then low-stock crossings (emission order of §7)."""
        scope = {"tenantId": str(self.rt.tenant_id), "organizationId": str(self.rt.organization_id)}
        out: list[tuple[str, dict[str, Any]]] = []
        for m in self.movements:
            out.append(("magazyn.stock_movement.created", {
                "id": str(m.id), "productId": str(m.product_id), "type": m.type, "onHandDelta": num(m.on_hand_delta),
                "reservedDelta": num(m.reserved_delta), "onHandAfter": num(m.on_hand_after),
                "reservedAfter": num(m.reserved_after), "orderId": str(m.order_id) if m.order_id else None, **scope}))
        for pid, p in self.products.items():
            rp = Decimal(p.reorder_point)
            if rp > 0 and self.available_before[pid] > self.reorder_before[pid] and available(p) <= rp:
                out.append(("magazyn.product.low_stock", {"productId": str(pid), "sku": p.sku,
                                                          "stockAvailable": num(available(p)),
                                                          "reorderPoint": num(rp), **scope}))
        return out
