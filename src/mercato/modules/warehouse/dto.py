"""Response objects of §9.1, built from rows (camelCase, numbers already rounded)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mercato.kernel.serialize import iso
from mercato.modules.warehouse import domain
from mercato.modules.warehouse.models import (
    CustomerProfile,
    Order,
    OrderLine,
    OrderPackaging,
    OrderStatusHistory,
    PackingTask,
    Product,
    ProductPackaging,
    StockMovement,
)

n = domain.num


def _s(value: Any) -> str | None:
    return str(value) if value is not None else None


def packaging_dto(c: ProductPackaging) -> dict[str, Any]:
    return {"id": str(c.id), "material": c.material, "massGrams": n(c.mass_grams), "reusable": c.reusable,
            "packagingType": c.packaging_type, "description": c.description}


def product_dto(p: Product, components: list[ProductPackaging]) -> dict[str, Any]:
    available = Decimal(p.stock_on_hand) - Decimal(p.stock_reserved)
    reorder = Decimal(p.reorder_point)
    comps = sorted(components, key=lambda c: c.position)
    return {
        "id": str(p.id), "sku": p.sku, "ean": p.ean, "name": p.name, "description": p.description, "unit": p.unit,
        "stockOnHand": n(p.stock_on_hand), "stockReserved": n(p.stock_reserved), "stockAvailable": n(available),
        "reorderPoint": n(reorder), "leadTimeDays": p.lead_time_days, "isLowStock": bool(reorder > 0 and available <= reorder),
        "unitPriceNet": n(p.unit_price_net), "vatRate": p.vat_rate,
        "unitPriceGross": n(domain.gross_price(Decimal(p.unit_price_net), p.vat_rate)),
        "weightGrams": p.weight_grams, "location": p.location, "isActive": p.is_active,
        "packaging": [packaging_dto(c) for c in comps],
        "packagingMassGrams": n(domain.round_to(sum((Decimal(c.mass_grams) for c in comps), Decimal(0)), domain.MILLI)),
        "organizationId": str(p.organization_id), "tenantId": str(p.tenant_id),
        "createdAt": iso(p.created_at), "updatedAt": iso(p.updated_at),
    }


def profile_dto(p: CustomerProfile) -> dict[str, Any]:
    return {
        "id": str(p.id), "kind": p.kind, "displayName": p.display_name, "companyId": _s(p.company_id),
        "personId": _s(p.person_id), "nip": p.nip, "email": p.email, "phone": p.phone,
        "defaultShippingAddress": p.default_shipping_address, "billingAddress": p.billing_address,
        "paymentTerms": p.payment_terms, "discountPercent": n(p.discount_percent), "notes": p.notes,
        "isActive": p.is_active, "organizationId": str(p.organization_id), "tenantId": str(p.tenant_id),
        "createdAt": iso(p.created_at), "updatedAt": iso(p.updated_at),
    }


def order_dto(o: Order, detail: bool = True) -> dict[str, Any]:
    out = {
        "id": str(o.id), "orderNumber": o.order_number, "status": o.status,
        "customerProfileId": str(o.customer_profile_id), "customer": o.customer_snapshot, "channel": o.channel,
        "externalReference": o.external_reference, "placedAt": iso(o.placed_at),
        "requestedShipDate": o.requested_ship_date.isoformat() if o.requested_ship_date else None,
        "priority": o.priority, "shippingMethod": o.shipping_method, "parcelLockerCode": o.parcel_locker_code,
        "paymentTerms": o.payment_terms, "currency": o.currency, "discountPercent": n(o.discount_percent),
        "subtotalNet": n(o.subtotal_net), "discountTotal": n(o.discount_total), "totalNet": n(o.total_net),
        "totalVat": n(o.total_vat), "totalGross": n(o.total_gross), "totalWeightGrams": o.total_weight_grams,
        "lineCount": o.line_count,
        "confirmedAt": iso(o.confirmed_at), "packedAt": iso(o.packed_at), "shippedAt": iso(o.shipped_at),
        "deliveredAt": iso(o.delivered_at), "cancelledAt": iso(o.cancelled_at), "returnedAt": iso(o.returned_at),
        "carrier": o.carrier, "trackingNumber": o.tracking_number, "statusReason": o.status_reason,
        "packageCount": o.package_count, "measuredWeightGrams": o.measured_weight_grams,
    }
    if detail:
        out["shippingAddress"] = o.shipping_address
        out["notes"] = o.notes
    out.update({"organizationId": str(o.organization_id), "tenantId": str(o.tenant_id),
                "createdAt": iso(o.created_at), "updatedAt": iso(o.updated_at)})
    return out


def line_dto(line: OrderLine, location: str | None) -> dict[str, Any]:
    return {
        "id": str(line.id), "lineNumber": line.line_number, "productId": str(line.product_id), "sku": line.sku,
        "ean": line.ean, "name": line.name, "unit": line.unit, "quantity": n(line.quantity),
        "unitPriceNet": n(line.unit_price_net), "vatRate": line.vat_rate,
        "netBeforeDiscount": n(line.net_before_discount), "discountAmount": n(line.discount_amount),
        "netAmount": n(line.net_amount), "vatAmount": n(line.vat_amount), "grossAmount": n(line.gross_amount),
        "unitWeightGrams": line.unit_weight_grams, "lineWeightGrams": line.line_weight_grams, "location": location,
        "packagingSnapshot": line.packaging_snapshot,
    }


def history_dto(h: OrderStatusHistory) -> dict[str, Any]:
    return {"id": str(h.id), "fromStatus": h.from_status, "toStatus": h.to_status, "occurredAt": iso(h.occurred_at),
            "actorUserId": _s(h.actor_user_id), "reason": h.reason, "note": h.note, "details": h.details or {}}


def task_dto(t: PackingTask | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return {"id": str(t.id), "orderId": str(t.order_id), "status": t.status, "assigneeUserId": _s(t.assignee_user_id),
            "startedAt": iso(t.started_at), "completedAt": iso(t.completed_at), "packageCount": t.package_count,
            "measuredWeightGrams": t.measured_weight_grams, "createdAt": iso(t.created_at),
            "updatedAt": iso(t.updated_at)}


def shipping_packaging_dto(p: OrderPackaging) -> dict[str, Any]:
    return {"id": str(p.id), "material": p.material, "massGrams": n(p.mass_grams), "reusable": p.reusable,
            "description": p.description}


def movement_dto(m: StockMovement) -> dict[str, Any]:
    return {
        "id": str(m.id), "productId": str(m.product_id), "type": m.type, "onHandDelta": n(m.on_hand_delta),
        "reservedDelta": n(m.reserved_delta), "onHandAfter": n(m.on_hand_after), "reservedAfter": n(m.reserved_after),
        "reason": m.reason, "orderId": _s(m.order_id), "orderLineId": _s(m.order_line_id),
        "reversesMovementId": _s(m.reverses_movement_id), "note": m.note, "actorUserId": _s(m.actor_user_id),
        "occurredAt": iso(m.occurred_at), "createdAt": iso(m.created_at),
    }
