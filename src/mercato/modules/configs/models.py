"""Tables of the configs module (platform contract §2.2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.db import Base, IdMixin, JSONType, utcnow


class ModuleConfig(IdMixin, Base):
    """Generic key/value settings of other modules; `tenant_id` null = instance-wide value."""

    __tablename__ = "module_configs"
    __table_args__ = (
        Index("module_configs_global_unique", "module_id", "name", unique=True,
              postgresql_where=text("tenant_id IS NULL"), sqlite_where=text("tenant_id IS NULL")),
        Index("module_configs_scoped_unique", "module_id", "name", "tenant_id", unique=True,
              postgresql_where=text("tenant_id IS NOT NULL"), sqlite_where=text("tenant_id IS NOT NULL")),
        Index("module_configs_lookup_idx", "module_id", "name", "tenant_id"),
        Index("module_configs_module_idx", "module_id"),
    )

    module_id: Mapped[str]
    name: Mapped[str]
    value_json: Mapped[object | None] = mapped_column(JSONType, default=None)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


module_configs = ModuleConfig.__table__


class UpgradeActionRun(IdMixin, Base):
    """One row = the action was completed for this organization."""

    __tablename__ = "upgrade_action_runs"
    __table_args__ = (
        Index("upgrade_action_runs_scope_idx", "organization_id", "tenant_id"),
        UniqueConstraint("version", "action_id", "organization_id", "tenant_id",
                         name="upgrade_action_runs_action_scope_unique"),
    )

    version: Mapped[str]
    action_id: Mapped[str]
    organization_id: Mapped[uuid.UUID]
    tenant_id: Mapped[uuid.UUID]
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
