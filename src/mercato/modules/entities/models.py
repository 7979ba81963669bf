"""Tables of the entities module (names and columns per the contract's data model)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

import mercato.kernel.crypto  # noqa: F401  (registers tenant_data_keys)
from mercato.kernel.db import Base, JSONType, utcnow


class CustomFieldDef(Base):
    __tablename__ = "custom_field_defs"
    __table_args__ = (
        Index("cf_defs_entity_key_idx", "key"),
        Index("cf_defs_active_entity_key_scope_idx", "entity_id", "key", "tenant_id", "organization_id"),
        Index("cf_defs_active_entity_global_idx", "entity_id"),
        Index("cf_defs_active_entity_org_idx", "entity_id", "organization_id"),
        Index("cf_defs_active_entity_tenant_idx", "entity_id", "tenant_id"),
        Index("cf_defs_active_entity_tenant_org_idx", "entity_id", "tenant_id", "organization_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    entity_id: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    key: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    config_json: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class CustomFieldEntityConfig(Base):
    __tablename__ = "custom_field_entity_configs"
    __table_args__ = (
        Index("cf_entity_cfgs_entity_org_idx", "entity_id", "organization_id"),
        Index("cf_entity_cfgs_entity_tenant_idx", "entity_id", "tenant_id"),
        Index("cf_entity_cfgs_entity_scope_idx", "entity_id", "tenant_id", "organization_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    entity_id: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    config_json: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class CustomEntity(Base):
    __tablename__ = "custom_entities"
    __table_args__ = (Index("custom_entities_unique_idx", "entity_id", "organization_id", "tenant_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    entity_id: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    label_field: Mapped[str | None] = mapped_column(Text, default=None)
    default_editor: Mapped[str | None] = mapped_column(Text, default=None)
    show_in_sidebar: Mapped[bool] = mapped_column(Boolean, default=False)
    access_restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class CustomEntityStorage(Base):
    __tablename__ = "custom_entities_storage"
    __table_args__ = (Index("custom_entities_storage_unique_idx", "entity_type", "entity_id", "organization_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    entity_type: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    doc: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class CustomFieldValue(Base):
    __tablename__ = "custom_field_values"
    __table_args__ = (
        Index("cf_values_entity_record_field_idx", "field_key"),
        Index("cf_values_entity_record_tenant_idx", "entity_id", "record_id", "tenant_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    entity_id: Mapped[str] = mapped_column(Text)
    record_id: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    field_key: Mapped[str] = mapped_column(Text)
    value_text: Mapped[str | None] = mapped_column(Text, default=None)
    value_multiline: Mapped[str | None] = mapped_column(Text, default=None)
    value_int: Mapped[int | None] = mapped_column(Integer, default=None)
    value_float: Mapped[float | None] = mapped_column(Float, default=None)
    value_bool: Mapped[bool | None] = mapped_column(Boolean, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class EncryptionMap(Base):
    __tablename__ = "encryption_maps"
    __table_args__ = (Index("encryption_maps_entity_scope_idx", "entity_id", "tenant_id", "organization_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    entity_id: Mapped[str] = mapped_column(Text)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    fields_json: Mapped[list[Any] | None] = mapped_column(JSONType, default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class EntitiesTenantSettings(Base):
    """Tenant-scoped module config of `entities` (the reference keeps it in its generic module config store)."""

    __tablename__ = "entities_tenant_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    new_entities_restricted_by_default: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
