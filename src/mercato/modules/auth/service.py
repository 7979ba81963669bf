"""Auth domain logic: login, sessions, password reset and invitation tokens."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import utcnow
from mercato.kernel.mail import send_mail
from mercato.kernel.settings import Settings
from mercato.modules.auth.identity import user_roles
from mercato.modules.auth.models import AuthSession, PasswordReset, User
from mercato.modules.auth.security import (
    JWT_TTL_SECONDS,
    email_hash_candidates,
    hash_opaque_token,
    hash_password,
    issue_staff_jwt,
    new_opaque_token,
    verify_password,
)

log = logging.getLogger("mercato.auth")


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
    """Session row (refresh token stored hashed) + access JWT; also marks the login on the user."""
    raw = new_opaque_token()
    ttl = settings.remember_me_days * 86400 if remember else JWT_TTL_SECONDS
    # last_login_at must not bump updated_at (the optimistic-lock version)
    await session.execute(update(User).where(User.id == user.id).values(last_login_at=utcnow(), updated_at=user.updated_at))
    row = AuthSession(user_id=user.id, token=hash_opaque_token(raw, settings), expires_at=utcnow() + timedelta(seconds=ttl))
    session.add(row)
    await session.flush()
    roles = [r.name for r in await user_roles(session, user.id, tenant_id)]
    token = issue_staff_jwt(
        settings, user_id=user.id, session_id=row.id, tenant_id=tenant_id, org_id=user.organization_id,
        email=user.email, roles=roles,
    )
    return LoginResult(user=user, token=token, refresh_token=raw, session_expires_in=ttl, roles=roles)


# -- sessions ---------------------------------------------------------------------------------------------
async def session_by_refresh_token(session: AsyncSession, settings: Settings, raw: str) -> tuple[AuthSession, User] | None:
    """The live, unexpired session of a raw refresh token with its live user."""
    row = (
        await session.execute(
            select(AuthSession).where(AuthSession.token == hash_opaque_token(raw, settings), AuthSession.deleted_at.is_(None))
        )
    ).scalar_one_or_none()
    if row is None or row.expires_at <= utcnow():
        return None
    user = await session.get(User, row.user_id)
    if user is None or user.deleted_at is not None:
        return None
    return row, user


async def token_for_session(session: AsyncSession, settings: Settings, user: User, session_id: uuid.UUID) -> str:
    """A fresh access JWT from the user's current tenant, organization and roles."""
    roles = [r.name for r in await user_roles(session, user.id, user.tenant_id)]
    return issue_staff_jwt(
        settings, user_id=user.id, session_id=session_id, tenant_id=user.tenant_id, org_id=user.organization_id,
        email=user.email, roles=roles,
    )


async def revoke_session(session: AsyncSession, settings: Settings, *, session_id: uuid.UUID | None = None,
                         raw_token: str | None = None) -> None:
    if session_id is not None:
        await session.execute(delete(AuthSession).where(AuthSession.id == session_id))
    if raw_token:
        await session.execute(delete(AuthSession).where(AuthSession.token == hash_opaque_token(raw_token, settings)))


async def revoke_all_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(delete(AuthSession).where(AuthSession.user_id == user_id))


# -- reset and invitation tokens ------------------------------------------------------------------------------
RESET_TTL = timedelta(minutes=60)
INVITE_TTL = timedelta(hours=48)


async def issue_password_token(session: AsyncSession, settings: Settings, user_id: uuid.UUID, ttl: timedelta) -> str:
    raw = new_opaque_token()
    session.add(PasswordReset(user_id=user_id, token=hash_opaque_token(raw, settings), expires_at=utcnow() + ttl))
    await session.flush()
    return raw


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    """First live user matching the e-mail in any tenant (exact or lookup-hash match)."""
    q = select(User).where(
        User.deleted_at.is_(None), or_(User.email == email, User.email_hash.in_(email_hash_candidates(email)))
    ).order_by(User.created_at).limit(1)
    return (await session.execute(q)).scalar_one_or_none()


async def consume_password_token(session: AsyncSession, settings: Settings, raw: str, password: str) -> User | None:
    """Single use: an atomic compare-and-set of `used_at`; sets the password and revokes every session."""
    now = utcnow()
    result = await session.execute(
        update(PasswordReset)
        .where(PasswordReset.token == hash_opaque_token(raw, settings), PasswordReset.used_at.is_(None),
               PasswordReset.deleted_at.is_(None), PasswordReset.expires_at > now)
        .values(used_at=now)
        .returning(PasswordReset.user_id)
    )
    found = result.first()
    if found is None:
        return None
    user = await session.get(User, found[0])
    if user is None or user.deleted_at is not None:
        return None
    user.password_hash = hash_password(password)
    user.updated_at = now
    await revoke_all_sessions(session, user.id)
    await session.flush()
    return user


async def send_reset_email(app: Any, to: str, link: str) -> None:
    await send_mail(
        app, to, "Reset your password",
        f"We received a request to reset your password.\n\nOpen this link to choose a new password: {link}\n\n"
        "The link expires in 60 minutes. If you did not ask for this, ignore this e-mail.",
    )


async def send_invite_email(app: Any, to: str, link: str) -> None:
    await send_mail(
        app, to, "You have been invited",
        f"An account has been created for you.\n\nOpen this link to set your password: {link}\n\n"
        "The link expires in 48 hours.",
    )
