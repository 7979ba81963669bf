"""Tables of the dictionaries module (names per contract B.2)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.db import Base, IdMixin, utcnow


class Dictionary(IdMixin, Base):
    __tablename__ = "dictionaries"
    # includes archived rows on purpose (contract B.6 "Key reuse")
    __table_args__ = (UniqueConstraint("organization_id", "tenant_id", "key", name="dictionaries_scope_key_unique"),)

    organization_id: Mapped[uuid.UUID]
    tenant_id: Mapped[uuid.UUID]
    key: Mapped[str]
    name: Mapped[str]
    description: Mapped[str | None] = mapped_column(default=None)
    is_system: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    manager_visibility: Mapped[str] = mapped_column(default="default", server_default="default")
    entry_sort_mode: Mapped[str] = mapped_column(default="label_asc", server_default="label_asc")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class DictionaryEntry(IdMixin, Base):
    __tablename__ = "dictionary_entries"
    __table_args__ = (
        Index("dictionary_entries_scope_idx", "dictionary_id", "organization_id", "tenant_id"),
        UniqueConstraint("dictionary_id", "organization_id", "tenant_id", "normalized_value",
                         name="dictionary_entries_unique"),
        Index("dictionary_entries_one_default_per_dict", "dictionary_id", "organization_id", "tenant_id", unique=True,
              postgresql_where=text("is_default = true"), sqlite_where=text("is_default = 1")),
    )

    dictionary_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dictionaries.id", onupdate="CASCADE"))
    organization_id: Mapped[uuid.UUID]
    tenant_id: Mapped[uuid.UUID]
    value: Mapped[str]
    normalized_value: Mapped[str]
    label: Mapped[str]
    color: Mapped[str | None] = mapped_column(default=None)
    icon: Mapped[str | None] = mapped_column(default=None)
    position: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    is_default: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
