"""Tables of the directory module: tenants and organization trees."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.db import Base, IdMixin, SoftDeleteMixin, utcnow


class Tenant(IdMixin, SoftDeleteMixin, Base):
    __tablename__ = "tenants"

    name: Mapped[str]
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Organization(IdMixin, SoftDeleteMixin, Base):
    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("tenant_id", "slug", name="organizations_tenant_slug_uniq"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", onupdate="CASCADE"), index=True)
    name: Mapped[str]
    slug: Mapped[str | None] = mapped_column(default=None)
    logo_url: Mapped[str | None] = mapped_column(default=None)
    is_active: Mapped[bool] = mapped_column(default=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    root_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    tree_path: Mapped[str | None] = mapped_column(default=None)
    depth: Mapped[int] = mapped_column(default=0)
    ancestor_ids: Mapped[list] = mapped_column(default=list)
    child_ids: Mapped[list] = mapped_column(default=list)
    descendant_ids: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
