"""Query index tables (framework contract §2.4, platform contract §3.2).

`organization_id_coalesced` is maintained by the application (the zero uuid for tenant-level rows) instead of
being a generated column, so one model serves SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.db import Base, IdMixin, utcnow

ZERO_UUID = uuid.UUID(int=0)


class EntityIndex(IdMixin, Base):
    __tablename__ = "entity_indexes"
    __table_args__ = (
        UniqueConstraint("entity_type", "entity_id", "organization_id_coalesced",
                         name="entity_indexes_type_entity_org_coalesced_unique"),
        Index("entity_indexes_type_idx", "entity_type"),
        Index("entity_indexes_entity_idx", "entity_id"),
        Index("entity_indexes_org_idx", "organization_id"),
        Index("entity_indexes_type_tenant_idx", "entity_type", "tenant_id"),
    )

    entity_type: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[uuid.UUID | None]
    organization_id_coalesced: Mapped[uuid.UUID] = mapped_column(default=ZERO_UUID)
    tenant_id: Mapped[uuid.UUID | None]
    doc: Mapped[dict]
    embedding: Mapped[dict | None]
    index_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]


class EntityIndexJob(IdMixin, Base):
    __tablename__ = "entity_index_jobs"
    __table_args__ = (
        Index("entity_index_jobs_type_idx", "entity_type"),
        Index("entity_index_jobs_org_idx", "organization_id"),
    )

    entity_type: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[uuid.UUID | None]
    tenant_id: Mapped[uuid.UUID | None]
    partition_index: Mapped[int | None] = mapped_column(Integer)
    partition_count: Mapped[int | None] = mapped_column(Integer)
    processed_count: Mapped[int | None] = mapped_column(Integer)
    total_count: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(Text)  # reindexing | purging | failed
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class EntityIndexCoverage(IdMixin, Base):
    __tablename__ = "entity_index_coverage"
    __table_args__ = (
        UniqueConstraint("entity_type", "tenant_id", "organization_id", "with_deleted",
                         name="entity_index_coverage_scope_idx"),
    )

    entity_type: Mapped[str] = mapped_column(Text)
    tenant_id: Mapped[uuid.UUID | None]
    organization_id: Mapped[uuid.UUID | None]  # tenant-level snapshots use the zero uuid
    with_deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    base_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    indexed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    vector_indexed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


class IndexerErrorLog(IdMixin, Base):
    __tablename__ = "indexer_error_logs"
    __table_args__ = (Index("indexer_error_logs_source_idx", "source"),
                      Index("indexer_error_logs_occurred_idx", "occurred_at"))

    source: Mapped[str] = mapped_column(Text)
    handler: Mapped[str] = mapped_column(Text)
    entity_type: Mapped[str | None] = mapped_column(Text)
    record_id: Mapped[str | None] = mapped_column(Text)
    tenant_id: Mapped[uuid.UUID | None]
    organization_id: Mapped[uuid.UUID | None]
    payload: Mapped[dict | None]
    message: Mapped[str] = mapped_column(Text)
    stack: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class IndexerStatusLog(IdMixin, Base):
    __tablename__ = "indexer_status_logs"
    __table_args__ = (Index("indexer_status_logs_source_idx", "source"),
                      Index("indexer_status_logs_occurred_idx", "occurred_at"))

    source: Mapped[str] = mapped_column(Text)
    handler: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(Text, default="info", server_default="info")
    entity_type: Mapped[str | None] = mapped_column(Text)
    record_id: Mapped[str | None] = mapped_column(Text)
    tenant_id: Mapped[uuid.UUID | None]
    organization_id: Mapped[uuid.UUID | None]
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict | None]
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchToken(IdMixin, Base):
    __tablename__ = "search_tokens"
    __table_args__ = (
        Index("search_tokens_lookup_idx", "entity_type", "field", "token_hash", "tenant_id", "organization_id"),
        Index("search_tokens_entity_idx", "entity_type", "entity_id"),
        Index("search_tokens_tenant_hash_idx", "tenant_id", "token_hash"),
    )

    entity_type: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str] = mapped_column(Text)
    organization_id: Mapped[uuid.UUID | None]
    tenant_id: Mapped[uuid.UUID | None]
    field: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(Text)
    token: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
