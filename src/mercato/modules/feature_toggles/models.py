"""Tables of the feature_toggles module (names per the contract's data model)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.db import Base, IdMixin, JSONType, SoftDeleteMixin, utcnow


class FeatureToggle(IdMixin, SoftDeleteMixin, Base):
    """Global definition: no tenant/organization columns; the identifier stays reserved after soft delete."""

    __tablename__ = "feature_toggles"
    __table_args__ = (
        UniqueConstraint("identifier", name="feature_toggles_identifier_unique"),
        Index("feature_toggles_name_idx", "name"),
        Index("feature_toggles_category_idx", "category"),
    )

    identifier: Mapped[str]
    name: Mapped[str]
    description: Mapped[str | None] = mapped_column(default=None)
    category: Mapped[str | None] = mapped_column(default=None)
    type: Mapped[str]
    # the API refuses null defaults (the reference's NOT NULL jsonb column would fail with a 500)
    default_value: Mapped[Any] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FeatureToggleOverride(IdMixin, Base):
    """A tenant's value for one toggle; removal is a hard delete."""

    __tablename__ = "feature_toggle_overrides"
    __table_args__ = (
        UniqueConstraint("toggle_id", "tenant_id", name="feature_toggle_overrides_toggle_tenant_unique"),
        Index("feature_toggle_overrides_toggle_idx", "toggle_id"),
        Index("feature_toggle_overrides_tenant_idx", "tenant_id"),
    )

    toggle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("feature_toggles.id", onupdate="CASCADE"))
    tenant_id: Mapped[uuid.UUID]
    value: Mapped[Any] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
