"""Tables of the notifications module (names per the contract's data model)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.db import Base, IdMixin, JSONType, utcnow


class Notification(IdMixin, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("notifications_recipient_status_idx", "recipient_user_id", "status", text("created_at DESC")),
        Index("notifications_source_idx", "source_entity_type", "source_entity_id",
              postgresql_where=text("source_entity_id IS NOT NULL"), sqlite_where=text("source_entity_id IS NOT NULL")),
        Index("notifications_tenant_idx", "tenant_id", "organization_id"),
        Index("notifications_expires_idx", "expires_at",
              postgresql_where=text("expires_at IS NOT NULL AND status NOT IN ('actioned','dismissed')"),
              sqlite_where=text("expires_at IS NOT NULL AND status NOT IN ('actioned','dismissed')")),
        Index("notifications_group_idx", "group_key", "recipient_user_id",
              postgresql_where=text("group_key IS NOT NULL"), sqlite_where=text("group_key IS NOT NULL")),
    )

    recipient_user_id: Mapped[uuid.UUID]
    type: Mapped[str]
    title_key: Mapped[str | None] = mapped_column(default=None)
    body_key: Mapped[str | None] = mapped_column(default=None)
    title_variables: Mapped[dict | None] = mapped_column(default=None)
    body_variables: Mapped[dict | None] = mapped_column(default=None)
    title: Mapped[str] = mapped_column(default="")
    body: Mapped[str | None] = mapped_column(default=None)
    icon: Mapped[str | None] = mapped_column(default=None)
    severity: Mapped[str] = mapped_column(default="info", server_default="info")
    status: Mapped[str] = mapped_column(default="unread", server_default="unread")
    action_data: Mapped[dict | None] = mapped_column(default=None)
    action_result: Mapped[dict | None] = mapped_column(JSONType, default=None)
    action_taken: Mapped[str | None] = mapped_column(default=None)
    source_module: Mapped[str | None] = mapped_column(default=None)
    source_entity_type: Mapped[str | None] = mapped_column(default=None)
    source_entity_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    link_href: Mapped[str | None] = mapped_column(default=None)
    group_key: Mapped[str | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    actioned_at: Mapped[datetime | None] = mapped_column(default=None)
    dismissed_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    tenant_id: Mapped[uuid.UUID]
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)


# The delivery settings live in the configs module's `module_configs` key/value table.
from mercato.modules.configs.models import module_configs  # noqa: E402, F401
