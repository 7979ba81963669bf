"""Tables of the Magazyn module (contract §3); names are the contract's, prefixed `magazyn_`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index, Numeric, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.db import Base, IdMixin, utcnow

LIVE = text("deleted_at IS NULL")


def _live_unique(name: str, *columns: object, where: str | None = None) -> Index:
    """Partial unique index over live rows (contract §3: "unique ... where deleted_at is null")."""
    cond = text(f"deleted_at IS NULL AND {where}") if where else LIVE
    return Index(name, *columns, unique=True, postgresql_where=cond, sqlite_where=cond)


class _Row(IdMixin):
    tenant_id: Mapped[uuid.UUID]
    organization_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class Product(_Row, Base):
    __tablename__ = "magazyn_products"
    __table_args__ = (
        Index("magazyn_products_scope_idx", "organization_id", "tenant_id", "is_active"),
        _live_unique("magazyn_products_sku_uniq", "organization_id", func.lower(text("sku"))),
        _live_unique("magazyn_products_ean_uniq", "organization_id", "ean", where="ean IS NOT NULL"),
    )

    sku: Mapped[str]
    ean: Mapped[str | None] = mapped_column(default=None)
    name: Mapped[str]
    description: Mapped[str | None] = mapped_column(default=None)
    unit: Mapped[str] = mapped_column(default="szt")
    stock_on_hand: Mapped[Decimal] = mapped_column(Numeric(14, 3), default=Decimal(0))
    stock_reserved: Mapped[Decimal] = mapped_column(Numeric(14, 3), default=Decimal(0))
    reorder_point: Mapped[Decimal] = mapped_column(Numeric(14, 3), default=Decimal(0))
    lead_time_days: Mapped[int] = mapped_column(default=7)
    unit_price_net: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    vat_rate: Mapped[str] = mapped_column(default="23")
    weight_grams: Mapped[int] = mapped_column(default=0)
    location: Mapped[str | None] = mapped_column(default=None)
    is_active: Mapped[bool] = mapped_column(default=True)


class ProductPackaging(_Row, Base):
    __tablename__ = "magazyn_product_packaging"

    product_id: Mapped[uuid.UUID] = mapped_column(index=True)
    material: Mapped[str]
    mass_grams: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    reusable: Mapped[bool] = mapped_column(default=False)
    packaging_type: Mapped[str] = mapped_column(default="unit")
    description: Mapped[str | None] = mapped_column(default=None)
    position: Mapped[int] = mapped_column(default=0)


class CustomerProfile(_Row, Base):
    __tablename__ = "magazyn_customer_profiles"
    __table_args__ = (
        Index("magazyn_customer_profiles_scope_idx", "organization_id", "tenant_id", "kind"),
        Index("magazyn_customer_profiles_company_idx", "organization_id", "company_id"),
        Index("magazyn_customer_profiles_person_idx", "organization_id", "person_id"),
        _live_unique("magazyn_customer_profiles_nip_uniq", "organization_id", "nip", where="nip IS NOT NULL"),
    )

    kind: Mapped[str]
    display_name: Mapped[str]
    company_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    person_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    nip: Mapped[str | None] = mapped_column(default=None)
    email: Mapped[str | None] = mapped_column(default=None)
    phone: Mapped[str | None] = mapped_column(default=None)
    default_shipping_address: Mapped[dict | None] = mapped_column(default=None)
    billing_address: Mapped[dict | None] = mapped_column(default=None)
    payment_terms: Mapped[str]
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(0))
    notes: Mapped[str | None] = mapped_column(default=None)
    is_active: Mapped[bool] = mapped_column(default=True)


class Order(_Row, Base):
    __tablename__ = "magazyn_orders"
    __table_args__ = (
        UniqueConstraint("organization_id", "order_number", name="magazyn_orders_number_uniq"),
        Index("magazyn_orders_status_idx", "organization_id", "tenant_id", "status"),
        Index("magazyn_orders_profile_idx", "organization_id", "customer_profile_id"),
        Index("magazyn_orders_placed_idx", "organization_id", "placed_at"),
        Index("magazyn_orders_shipped_idx", "organization_id", "shipped_at"),
        _live_unique("magazyn_orders_external_reference_uniq", "organization_id", "external_reference",
                     where="external_reference IS NOT NULL"),
    )

    order_number: Mapped[str]
    customer_profile_id: Mapped[uuid.UUID]
    customer_snapshot: Mapped[dict]
    status: Mapped[str] = mapped_column(default="new")
    channel: Mapped[str] = mapped_column(default="manual")
    external_reference: Mapped[str | None] = mapped_column(default=None)
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_ship_date: Mapped[date | None] = mapped_column(default=None)
    priority: Mapped[str] = mapped_column(default="normal")
    shipping_method: Mapped[str] = mapped_column(default="courier")
    parcel_locker_code: Mapped[str | None] = mapped_column(default=None)
    shipping_address: Mapped[dict | None] = mapped_column(default=None)
    payment_terms: Mapped[str]
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    currency: Mapped[str] = mapped_column(default="PLN")
    subtotal_net: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    discount_total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    total_net: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    total_vat: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    total_gross: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    total_weight_grams: Mapped[int] = mapped_column(default=0)
    line_count: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str | None] = mapped_column(default=None)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    packed_at: Mapped[datetime | None] = mapped_column(default=None)
    shipped_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)
    returned_at: Mapped[datetime | None] = mapped_column(default=None)
    carrier: Mapped[str | None] = mapped_column(default=None)
    tracking_number: Mapped[str | None] = mapped_column(default=None)
    status_reason: Mapped[str | None] = mapped_column(default=None)
    package_count: Mapped[int | None] = mapped_column(default=None)
    measured_weight_grams: Mapped[int | None] = mapped_column(default=None)


class OrderLine(_Row, Base):
    __tablename__ = "magazyn_order_lines"
    __table_args__ = (Index("magazyn_order_lines_product_idx", "organization_id", "product_id"),)

    order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    line_number: Mapped[int]
    product_id: Mapped[uuid.UUID]
    sku: Mapped[str]
    name: Mapped[str]
    unit: Mapped[str]
    ean: Mapped[str | None] = mapped_column(default=None)
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    unit_price_net: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    vat_rate: Mapped[str]
    net_before_discount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    discount_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    net_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    vat_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    gross_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    unit_weight_grams: Mapped[int]
    line_weight_grams: Mapped[int]
    packaging_snapshot: Mapped[list | None] = mapped_column(default=None)


class OrderStatusHistory(_Row, Base):
    __tablename__ = "magazyn_order_status_history"
    __table_args__ = (Index("magazyn_order_status_history_order_idx", "order_id", "occurred_at"),)

    order_id: Mapped[uuid.UUID]
    from_status: Mapped[str | None] = mapped_column(default=None)
    to_status: Mapped[str]
    occurred_at: Mapped[datetime]
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    reason: Mapped[str | None] = mapped_column(default=None)
    note: Mapped[str | None] = mapped_column(default=None)
    details: Mapped[dict | None] = mapped_column(default=None)


class OrderPackaging(_Row, Base):
    __tablename__ = "magazyn_order_packaging"

    order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    material: Mapped[str]
    mass_grams: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    reusable: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str | None] = mapped_column(default=None)


class PackingTask(_Row, Base):
    __tablename__ = "magazyn_packing_tasks"
    __table_args__ = (_live_unique("magazyn_packing_tasks_order_uniq", "organization_id", "order_id"),)

    order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(default="pending")
    assignee_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    package_count: Mapped[int | None] = mapped_column(default=None)
    measured_weight_grams: Mapped[int | None] = mapped_column(default=None)


class StockMovement(_Row, Base):
    __tablename__ = "magazyn_stock_movements"
    __table_args__ = (
        Index("magazyn_stock_movements_product_idx", "organization_id", "product_id", "occurred_at"),
        Index("magazyn_stock_movements_order_idx", "organization_id", "order_id"),
    )

    product_id: Mapped[uuid.UUID]
    type: Mapped[str]
    on_hand_delta: Mapped[Decimal] = mapped_column(Numeric(14, 3), default=Decimal(0))
    reserved_delta: Mapped[Decimal] = mapped_column(Numeric(14, 3), default=Decimal(0))
    on_hand_after: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    reserved_after: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    reason: Mapped[str | None] = mapped_column(default=None)
    order_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    order_line_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    reverses_movement_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    note: Mapped[str | None] = mapped_column(default=None)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class OrderSequence(_Row, Base):
    __tablename__ = "magazyn_order_sequences"
    __table_args__ = (UniqueConstraint("organization_id", "year", name="magazyn_order_sequences_uniq"),)

    year: Mapped[int]
    last_value: Mapped[int] = mapped_column(default=0)


class BdoLevel(IdMixin, Base):
    __tablename__ = "magazyn_bdo_levels"

    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    year: Mapped[int]
    material: Mapped[str]
    recycling_level_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), default=None)
    fee_rate_pln_per_kg: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), default=None)
    source: Mapped[str | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
