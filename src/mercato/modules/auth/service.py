"""Auth domain logic: login and sessions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.kernel.settings import Settings
from mercato.modules.auth.identity import user_roles
from mercato.modules.auth.models import AuthSession, User
from mercato.modules.auth.security import (
    JWT_TTL_SECONDS,
    email_hash_candidates,
    hash_opaque_token,
    issue_staff_jwt,
    new_opaque_token,
    verify_password,
)


@dataclass
class LoginResult:
    user: User
    token: str
    refresh_token: str
    session_expires_in: int
    roles: list[str]


async def find_login_user(session: AsyncSession, email: str, tenant_id: uuid.UUID | None) -> User | None:
    q = select(User).where(
        User.deleted_at.is_(None), or_(User.email == email, User.email_hash.in_(email_hash_candidates(email)))
    )
    if tenant_id is not None:
        q = q.where(User.tenant_id == tenant_id)
    users = list((await session.execute(q.limit(2))).scalars())
    return users[0] if len(users) == 1 else None


async def authenticate(session: AsyncSession, email: str, password: str, tenant_id: uuid.UUID | None) -> User | None:
    user = await find_login_user(session, email, tenant_id)
    ok = verify_password(password, user.password_hash if user else None)
    return user if ok and user else None


async def open_session(
    session: AsyncSession, settings: Settings, user: User, tenant_id: uuid.UUID | None, remember: bool
) -> LoginResult:
    raw = new_opaque_token()
    ttl = settings.remember_me_days * 86400 if remember else JWT_TTL_SECONDS
    row = AuthSession(user_id=user.id, token=hash_opaque_token(raw, settings), expires_at=utcnow() + timedelta(seconds=ttl))
    session.add(row)
    await session.flush()
    roles = [r.name for r in await user_roles(session, user.id, tenant_id)]
    token = issue_staff_jwt(
        settings, user_id=user.id, session_id=row.id, tenant_id=tenant_id, org_id=user.organization_id,
        email=user.email, roles=roles,
    )
    return LoginResult(user=user, token=token, refresh_token=raw, session_expires_in=ttl, roles=roles)
