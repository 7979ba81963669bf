"""Tables of the auth module (names and columns per the auth contract's data model)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.db import Base, IdMixin, SoftDeleteMixin, utcnow


class User(IdMixin, SoftDeleteMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        Index(
            "users_tenant_email_hash_uniq",
            "tenant_id",
            "email_hash",
            unique=True,
            postgresql_where=text("deleted_at IS NULL AND email_hash IS NOT NULL"),
            sqlite_where=text("deleted_at IS NULL AND email_hash IS NOT NULL"),
        ),
    )

    tenant_id: Mapped[uuid.UUID | None] = mapped_column(index=True, default=None)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    email: Mapped[str]
    email_hash: Mapped[str | None] = mapped_column(index=True, default=None)
    name: Mapped[str | None] = mapped_column(default=None)
    password_hash: Mapped[str | None] = mapped_column(default=None)
    is_confirmed: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)


class Role(IdMixin, SoftDeleteMixin, Base):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="roles_tenant_id_name_unique"),)

    name: Mapped[str]
    tenant_id: Mapped[uuid.UUID] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)


class UserRole(IdMixin, SoftDeleteMixin, Base):
    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class _AclColumns:
    tenant_id: Mapped[uuid.UUID] = mapped_column(index=True)
    features_json: Mapped[list | None] = mapped_column(default=None)
    is_super_admin: Mapped[bool] = mapped_column(default=False)
    organizations_json: Mapped[list | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)


class RoleAcl(IdMixin, _AclColumns, SoftDeleteMixin, Base):
    __tablename__ = "role_acls"

    role_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), index=True)


class UserAcl(IdMixin, _AclColumns, SoftDeleteMixin, Base):
    __tablename__ = "user_acls"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class AuthSession(IdMixin, SoftDeleteMixin, Base):
    __tablename__ = "sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(unique=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class PasswordReset(IdMixin, SoftDeleteMixin, Base):
    __tablename__ = "password_resets"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserSidebarPreference(IdMixin, SoftDeleteMixin, Base):
    __tablename__ = "user_sidebar_preferences"
    __table_args__ = (
        Index(
            "user_sidebar_preferences_active_unique_idx", "user_id", "tenant_id", "organization_id", unique=True,
            postgresql_where=text("deleted_at IS NULL"), sqlite_where=text("deleted_at IS NULL"),
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    locale: Mapped[str] = mapped_column(default="en")
    settings_json: Mapped[dict | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # only set on updates (the contract reports null for a row written once)
    updated_at: Mapped[datetime | None] = mapped_column(default=None, onupdate=utcnow)


class RoleSidebarPreference(IdMixin, SoftDeleteMixin, Base):
    __tablename__ = "role_sidebar_preferences"
    __table_args__ = (
        Index(
            "role_sidebar_preferences_active_unique_idx", "role_id", "tenant_id", unique=True,
            postgresql_where=text("deleted_at IS NULL"), sqlite_where=text("deleted_at IS NULL"),
        ),
    )

    role_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    locale: Mapped[str] = mapped_column(default="en")
    settings_json: Mapped[dict | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(default=None, onupdate=utcnow)


class SidebarVariant(IdMixin, SoftDeleteMixin, Base):
    __tablename__ = "sidebar_variants"
    __table_args__ = (
        Index(
            "sidebar_variants_active_name_unique_idx", "user_id", "tenant_id", "name", unique=True,
            postgresql_where=text("deleted_at IS NULL"), sqlite_where=text("deleted_at IS NULL"),
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    locale: Mapped[str] = mapped_column(default="en")
    name: Mapped[str]
    settings_json: Mapped[dict | None] = mapped_column(default=None)
    is_active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(default=None, onupdate=utcnow)


class UserConsent(IdMixin, SoftDeleteMixin, Base):
    __tablename__ = "user_consents"
    __table_args__ = (
        UniqueConstraint("user_id", "tenant_id", "consent_type", name="user_consents_user_id_tenant_id_consent_type_unique"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(index=True)  # no FK per contract
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    consent_type: Mapped[str]
    is_granted: Mapped[bool] = mapped_column(default=False)
    granted_at: Mapped[datetime | None] = mapped_column(default=None)
    withdrawn_at: Mapped[datetime | None] = mapped_column(default=None)
    source: Mapped[str | None] = mapped_column(default=None)
    ip_address: Mapped[str | None] = mapped_column(default=None)
    integrity_hash: Mapped[str | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(default=None, onupdate=utcnow)
