"""Tables of the dashboards module (names per the contract's data model: A.2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.db import Base, IdMixin, SoftDeleteMixin, utcnow


class _Stamped(IdMixin, SoftDeleteMixin):
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(default=None, onupdate=utcnow)


class DashboardLayout(_Stamped, Base):
    """One saved layout per user and token scope (tenant, organization)."""

    __tablename__ = "dashboard_layouts"
    __table_args__ = (
        UniqueConstraint("user_id", "tenant_id", "organization_id",
                         name="dashboard_layouts_user_id_tenant_id_organization_id_unique"),
    )

    user_id: Mapped[uuid.UUID]
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    layout_json: Mapped[list] = mapped_column(default=list)


class DashboardRoleWidgets(_Stamped, Base):
    __tablename__ = "dashboard_role_widgets"
    __table_args__ = (
        UniqueConstraint("role_id", "tenant_id", "organization_id",
                         name="dashboard_role_widgets_role_id_tenant_id_organization_id_unique"),
    )

    role_id: Mapped[uuid.UUID]
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    widget_ids_json: Mapped[list] = mapped_column(default=list)


class DashboardUserWidgets(_Stamped, Base):
    __tablename__ = "dashboard_user_widgets"
    __table_args__ = (
        UniqueConstraint("user_id", "tenant_id", "organization_id",
                         name="dashboard_user_widgets_user_id_tenant_id_organization_id_unique"),
    )

    user_id: Mapped[uuid.UUID]
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    mode: Mapped[str] = mapped_column(default="inherit")
    widget_ids_json: Mapped[list] = mapped_column(default=list)
