"""Tables of the customers timeline (names and columns per customers-timeline contract §2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.db import Base, JSONType, utcnow
from mercato.modules.customers.models import CustomerSettings

ACTIVE = text("deleted_at IS NULL")
HAS_MESSAGE = text("external_message_id IS NOT NULL")
HAS_MESSAGE_ACTIVE = text("external_message_id IS NOT NULL AND deleted_at IS NULL")
ENTITY_FK = "customer_entities.id"


def _entity_fk() -> ForeignKey:
    return ForeignKey(ENTITY_FK, onupdate="CASCADE")


class _Scoped:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID]
    tenant_id: Mapped[uuid.UUID]


class _Stamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerInteraction(_Scoped, _Stamped, Base):
    __tablename__ = "customer_interactions"
    __table_args__ = (
        Index("customer_interactions_entity_status_scheduled_idx", "entity_id", "status", "scheduled_at", "created_at"),
        Index("customer_interactions_org_tenant_status_idx", "organization_id", "tenant_id", "status", "scheduled_at"),
        Index("customer_interactions_type_idx", "tenant_id", "organization_id", "interaction_type"),
        Index("customer_interactions_external_msg_idx", "external_message_id", postgresql_where=HAS_MESSAGE,
              sqlite_where=HAS_MESSAGE),
        Index("customer_interactions_email_dedupe_uq", "entity_id", "external_message_id", unique=True,
              postgresql_where=HAS_MESSAGE_ACTIVE, sqlite_where=HAS_MESSAGE_ACTIVE),
    )

    entity_id: Mapped[uuid.UUID] = mapped_column(_entity_fk())
    interaction_type: Mapped[str]
    title: Mapped[str | None] = mapped_column(default=None)
    body: Mapped[str | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(default="planned", server_default=text("'planned'"))
    scheduled_at: Mapped[datetime | None] = mapped_column(default=None)
    occurred_at: Mapped[datetime | None] = mapped_column(default=None)
    priority: Mapped[int | None] = mapped_column(default=None)
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    appearance_icon: Mapped[str | None] = mapped_column(default=None)
    appearance_color: Mapped[str | None] = mapped_column(default=None)
    source: Mapped[str | None] = mapped_column(default=None)
    deal_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    duration_minutes: Mapped[int | None] = mapped_column(default=None)
    location: Mapped[str | None] = mapped_column(default=None)
    all_day: Mapped[bool | None] = mapped_column(default=None)
    recurrence_rule: Mapped[str | None] = mapped_column(default=None)
    recurrence_end: Mapped[datetime | None] = mapped_column(default=None)
    participants: Mapped[list | None] = mapped_column(default=None)
    reminder_minutes: Mapped[int | None] = mapped_column(default=None)
    visibility: Mapped[str | None] = mapped_column(default=None)
    linked_entities: Mapped[list | None] = mapped_column(default=None)
    guest_permissions: Mapped[dict | None] = mapped_column(default=None)
    pinned: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    external_message_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    channel_provider_key: Mapped[str | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class CustomerActivity(_Scoped, _Stamped, Base):
    """Legacy activities: read-only, bridged into interactions (same id) when written."""

    __tablename__ = "customer_activities"
    __table_args__ = (
        Index("customer_activities_org_tenant_idx", "organization_id", "tenant_id"),
        Index("customer_activities_entity_occurred_created_idx", "entity_id", "occurred_at", "created_at"),
    )

    activity_type: Mapped[str]
    subject: Mapped[str | None] = mapped_column(default=None)
    body: Mapped[str | None] = mapped_column(default=None)
    occurred_at: Mapped[datetime | None] = mapped_column(default=None)
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    appearance_icon: Mapped[str | None] = mapped_column(default=None)
    appearance_color: Mapped[str | None] = mapped_column(default=None)
    entity_id: Mapped[uuid.UUID] = mapped_column(_entity_fk(), index=True)
    deal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customer_deals.id", onupdate="CASCADE", ondelete="SET NULL"), default=None)


class CustomerComment(_Scoped, _Stamped, Base):
    __tablename__ = "customer_comments"
    __table_args__ = (Index("customer_comments_entity_created_idx", "entity_id", "created_at"),)

    body: Mapped[str]
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    appearance_icon: Mapped[str | None] = mapped_column(default=None)
    appearance_color: Mapped[str | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    entity_id: Mapped[uuid.UUID] = mapped_column(_entity_fk(), index=True)
    deal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customer_deals.id", onupdate="CASCADE", ondelete="SET NULL"), default=None)


class CustomerAddress(_Scoped, _Stamped, Base):
    __tablename__ = "customer_addresses"

    name: Mapped[str | None] = mapped_column(default=None)
    purpose: Mapped[str | None] = mapped_column(default=None)
    company_name: Mapped[str | None] = mapped_column(default=None)
    address_line1: Mapped[str]
    address_line2: Mapped[str | None] = mapped_column(default=None)
    city: Mapped[str | None] = mapped_column(default=None)
    region: Mapped[str | None] = mapped_column(default=None)
    postal_code: Mapped[str | None] = mapped_column(default=None)
    country: Mapped[str | None] = mapped_column(default=None)
    building_number: Mapped[str | None] = mapped_column(default=None)
    flat_number: Mapped[str | None] = mapped_column(default=None)
    latitude: Mapped[float | None] = mapped_column(default=None)
    longitude: Mapped[float | None] = mapped_column(default=None)
    is_primary: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    entity_id: Mapped[uuid.UUID] = mapped_column(_entity_fk(), index=True)


class CustomerLabel(_Scoped, _Stamped, Base):
    __tablename__ = "customer_labels"
    __table_args__ = (
        Index("customer_labels_scope_idx", "organization_id", "tenant_id", "user_id"),
        UniqueConstraint("user_id", "tenant_id", "organization_id", "slug", name="customer_labels_unique"),
    )

    user_id: Mapped[uuid.UUID]
    slug: Mapped[str]
    label: Mapped[str]


class CustomerLabelAssignment(_Scoped, Base):
    __tablename__ = "customer_label_assignments"
    __table_args__ = (UniqueConstraint("label_id", "entity_id", name="customer_label_assignments_unique"),)

    user_id: Mapped[uuid.UUID]
    label_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer_labels.id", onupdate="CASCADE"))
    entity_id: Mapped[uuid.UUID] = mapped_column(_entity_fk(), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerTodoLink(_Scoped, Base):
    __tablename__ = "customer_todo_links"
    __table_args__ = (
        Index("customer_todo_links_entity_created_idx", "entity_id", "created_at"),
        UniqueConstraint("entity_id", "todo_id", "todo_source", name="customer_todo_links_unique"),
    )

    todo_id: Mapped[uuid.UUID]
    todo_source: Mapped[str] = mapped_column(default="customers:interaction",
                                             server_default=text("'customers:interaction'"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    entity_id: Mapped[uuid.UUID] = mapped_column(_entity_fk(), index=True)


class CustomerEntityRole(_Scoped, _Stamped, Base):
    __tablename__ = "customer_entity_roles"
    __table_args__ = (
        Index("customer_entity_roles_entity_idx", "entity_type", "entity_id"),
        Index("customer_entity_roles_scope_idx", "organization_id", "tenant_id"),
        Index("customer_entity_roles_active_unique", "entity_type", "entity_id", "role_type", unique=True,
              postgresql_where=ACTIVE, sqlite_where=ACTIVE),
    )

    entity_type: Mapped[str]
    entity_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    role_type: Mapped[str]
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class CustomerDictionaryKindSetting(_Scoped, _Stamped, Base):
    __tablename__ = "customer_dictionary_kind_settings"
    __table_args__ = (
        Index("customer_dict_kind_settings_scope_idx", "organization_id", "tenant_id"),
        UniqueConstraint("organization_id", "tenant_id", "kind", name="customer_dict_kind_settings_unique"),
    )

    kind: Mapped[str]
    selection_mode: Mapped[str] = mapped_column(default="single", server_default=text("'single'"))
    visible_in_tags: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    sort_order: Mapped[int] = mapped_column(default=0, server_default=text("0"))


# customer_settings belongs to part 1's models; the two org preferences this part owns are declared on it here
# (declarative classes accept new mapped columns before the tables are created) until the lead folds them in.
if "address_format" not in CustomerSettings.__table__.c:
    CustomerSettings.address_format = mapped_column(  # type: ignore[attr-defined]
        "address_format", String, nullable=False, default="line_first", server_default=text("'line_first'"))
if "dictionary_sort_modes" not in CustomerSettings.__table__.c:
    CustomerSettings.dictionary_sort_modes = mapped_column(  # type: ignore[attr-defined]
        "dictionary_sort_modes", JSONType, default=None, nullable=True)
