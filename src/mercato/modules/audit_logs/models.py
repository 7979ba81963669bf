"""Tables `action_logs` (written by the command bus) and `access_logs` (written on reads of sensitive resources)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.db import Base, IdMixin, JSONType, utcnow

TextArray = JSON().with_variant(ARRAY(Text), "postgresql")


class ActionLog(IdMixin, Base):
    __tablename__ = "action_logs"
    __table_args__ = (
        Index("action_logs_tenant_idx", "tenant_id", "created_at"),
        Index("action_logs_actor_idx", "actor_user_id", "created_at"),
        Index("action_logs_resource_idx", "tenant_id", "resource_kind", "resource_id", "created_at"),
        Index("action_logs_parent_resource_idx", "tenant_id", "parent_resource_kind", "parent_resource_id", "created_at"),
        Index("action_logs_related_resource_idx", "tenant_id", "related_resource_kind", "related_resource_id", "created_at"),
        Index("action_logs_action_type_idx", "tenant_id", "organization_id", "action_type", "created_at"),
        Index("action_logs_source_key_idx", "tenant_id", "organization_id", "source_key", "created_at"),
        Index("action_logs_primary_changed_field_idx", "tenant_id", "organization_id", "primary_changed_field", "created_at"),
        Index("action_logs_undo_token_idx", "undo_token"),
    )

    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    command_id: Mapped[str] = mapped_column(Text)
    action_label: Mapped[str | None] = mapped_column(Text, default=None)
    action_type: Mapped[str | None] = mapped_column(Text, default=None)
    resource_kind: Mapped[str | None] = mapped_column(Text, default=None)
    resource_id: Mapped[str | None] = mapped_column(Text, default=None)
    parent_resource_kind: Mapped[str | None] = mapped_column(Text, default=None)
    parent_resource_id: Mapped[str | None] = mapped_column(Text, default=None)
    related_resource_kind: Mapped[str | None] = mapped_column(Text, default=None)
    related_resource_id: Mapped[str | None] = mapped_column(Text, default=None)
    execution_state: Mapped[str] = mapped_column(Text, default="done")
    undo_token: Mapped[str | None] = mapped_column(Text, default=None)
    command_payload: Mapped[dict | None] = mapped_column(default=None)
    snapshot_before: Mapped[Any | None] = mapped_column(JSONType, default=None)
    snapshot_after: Mapped[Any | None] = mapped_column(JSONType, default=None)
    changes_json: Mapped[dict | None] = mapped_column(default=None)
    changed_fields: Mapped[list[str] | None] = mapped_column(TextArray, default=None)
    primary_changed_field: Mapped[str | None] = mapped_column(Text, default=None)
    context_json: Mapped[dict | None] = mapped_column(default=None)
    source_key: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class AccessLog(IdMixin, Base):
    __tablename__ = "access_logs"
    __table_args__ = (
        Index("access_logs_tenant_idx", "tenant_id", "created_at"),
        Index("access_logs_actor_idx", "actor_user_id", "created_at"),
        Index("access_logs_created_at_idx", "created_at"),
    )

    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    resource_kind: Mapped[str] = mapped_column(Text)
    resource_id: Mapped[str] = mapped_column(Text)
    access_type: Mapped[str] = mapped_column(Text)
    fields_json: Mapped[list | None] = mapped_column(default=None)
    context_json: Mapped[dict | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
