"""Table `progress_jobs` (framework contract §2.1). No soft delete: terminal statuses end a job."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, SmallInteger, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.db import Base, IdMixin, TimestampMixin

ACTIVE = ("pending", "running")
TERMINAL = ("completed", "failed", "cancelled")


class ProgressJob(IdMixin, TimestampMixin, Base):
    __tablename__ = "progress_jobs"
    __table_args__ = (
        Index("progress_jobs_status_tenant_idx", "status", "tenant_id"),
        Index("progress_jobs_type_tenant_idx", "job_type", "tenant_id"),
        Index("progress_jobs_parent_idx", "parent_job_id"),
    )

    job_type: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="pending", server_default="pending")
    progress_percent: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    processed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total_count: Mapped[int | None] = mapped_column(Integer)
    eta_seconds: Mapped[int | None] = mapped_column(Integer)
    started_by_user_id: Mapped[uuid.UUID | None]
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    result_summary: Mapped[dict | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    error_stack: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict | None]
    cancellable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    cancelled_by_user_id: Mapped[uuid.UUID | None]
    cancel_requested_at: Mapped[datetime | None]
    parent_job_id: Mapped[uuid.UUID | None]
    partition_index: Mapped[int | None] = mapped_column(Integer)
    partition_count: Mapped[int | None] = mapped_column(Integer)
    tenant_id: Mapped[uuid.UUID] = mapped_column(index=False)
    organization_id: Mapped[uuid.UUID | None]
