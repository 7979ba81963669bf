"""Credentials: password hashes (argon2id, bcrypt verified too), staff JWTs, opaque tokens, email hashes."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
import uuid
from typing import Any

import bcrypt
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mercato.kernel.settings import Settings

JWT_TTL_SECONDS = 8 * 3600
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = _hasher.hash("dummy-password-for-timing")
DEV_TOKEN_KEY = "mercato-dev-only-token-key"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    """Always does the work of one verification, so timing does not reveal whether an account exists."""
    if not stored:
        try:
            _hasher.verify(_DUMMY_HASH, password + "x")
        except (VerificationError, InvalidHashError):
            pass
        return False
    if stored.startswith("$2"):
        try:
            return bcrypt.checkpw(password.encode(), stored.encode())
        except ValueError:
            return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def email_hash(email: str) -> str:
    normalized = email.strip().lower()
    pepper = os.environ.get("LOOKUP_HASH_PEPPER") or os.environ.get("TENANT_DATA_ENCRYPTION_KEY")
    if pepper:
        return "v2:" + hmac.new(pepper.strip("\"'").encode(), normalized.encode(), hashlib.sha256).hexdigest()
    return hashlib.sha256(normalized.encode()).hexdigest()


def email_hash_candidates(email: str) -> list[str]:
    normalized = email.strip().lower()
    out = [email_hash(email), hashlib.sha256(normalized.encode()).hexdigest()]
    return list(dict.fromkeys(out))


def _token_key(settings: Settings) -> bytes:
    key = (
        settings.auth_token_secret
        or os.environ.get("AUTH_SECRET")
        or os.environ.get("NEXTAUTH_SECRET")
        or settings.jwt_secret
        or DEV_TOKEN_KEY
    )
    return key.encode()


def new_opaque_token() -> str:
    return secrets.token_hex(32)


def hash_opaque_token(raw: str, settings: Settings) -> str:
    return hmac.new(_token_key(settings), raw.encode(), hashlib.sha256).hexdigest()


def staff_signing_key(settings: Settings) -> str:
    if settings.jwt_staff_secret:
        return settings.jwt_staff_secret
    return hmac.new(settings.effective_jwt_secret.encode(), b"open-mercato:jwt:v1:staff", hashlib.sha256).hexdigest()


def issue_staff_jwt(
    settings: Settings,
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
    org_id: uuid.UUID | None,
    email: str,
    roles: list[str],
) -> str:
    now = int(time.time())
    payload = {
        "iat": now,
        "exp": now + JWT_TTL_SECONDS,
        "sub": str(user_id),
        "sid": str(session_id),
        "tenantId": str(tenant_id) if tenant_id else None,
        "orgId": str(org_id) if org_id else None,
        "email": email,
        "roles": roles,
        "iss": "open-mercato",
        "aud": "staff",
    }
    return jwt.encode(payload, staff_signing_key(settings), algorithm="HS256")


def decode_staff_jwt(token: str, settings: Settings) -> tuple[dict[str, Any] | None, bool]:
    """Returns (claims, legacy). Claims are None when the token does not verify."""
    if token.count(".") != 2:
        return None, False
    try:
        claims = jwt.decode(
            token, staff_signing_key(settings), algorithms=["HS256"], audience="staff", issuer="open-mercato",
            options={"require": ["sub"]}, leeway=0,
        )
        legacy = False
    except jwt.PyJWTError:
        grace = os.environ.get("JWT_LEGACY_GRACE_MINUTES", "").strip().lower()
        if grace in ("0", "false", "off"):
            return None, False
        try:
            claims = jwt.decode(
                token, settings.effective_jwt_secret, algorithms=["HS256"],
                options={"verify_aud": False, "verify_iss": False, "require": ["sub"]},
            )
            legacy = True
        except jwt.PyJWTError:
            return None, False
    if claims.get("type") == "customer":
        return None, False
    return claims, legacy


# -- password policy (contract 6.10) -------------------------------------------------------------------
PASSWORD_POLICY_MESSAGE = "Password does not meet the requirements."
_TRUE_TOKENS = {"1", "true", "yes", "y", "on", "enable", "enabled"}
_FALSE_TOKENS = {"0", "false", "no", "n", "off", "disable", "disabled"}


def _policy_env(name: str) -> str | None:
    for key in (name, f"NEXT_PUBLIC_{name}"):
        value = os.environ.get(key)
        if value is not None and value.strip():
            return value.strip().lower()
    return None


def _policy_flag(name: str, default: bool) -> bool:
    value = _policy_env(name)
    if value in _TRUE_TOKENS:
        return True
    if value in _FALSE_TOKENS:
        return False
    return default


def password_policy() -> dict[str, Any]:
    raw = _policy_env("OM_PASSWORD_MIN_LENGTH")
    min_length = int(raw) if raw and raw.isdigit() and int(raw) >= 1 else 6
    return {
        "minLength": min_length,
        "requireDigit": _policy_flag("OM_PASSWORD_REQUIRE_DIGIT", True),
        "requireUppercase": _policy_flag("OM_PASSWORD_REQUIRE_UPPERCASE", True),
        "requireSpecial": _policy_flag("OM_PASSWORD_REQUIRE_SPECIAL", True),
    }


def password_meets_policy(password: str) -> bool:
    policy = password_policy()
    if len(password) < policy["minLength"]:
        return False
    if policy["requireDigit"] and not any(c.isascii() and c.isdigit() for c in password):
        return False
    if policy["requireUppercase"] and not any("A" <= c <= "Z" for c in password):
        return False
    if policy["requireSpecial"] and all(c.isascii() and c.isalnum() for c in password):
        return False
    return True


# -- consent integrity (contract 6.15) -----------------------------------------------------------------
def consent_integrity_hash(
    settings: Settings, *, user_id: str, consent_type: str, is_granted: bool, granted_at: str | None,
    withdrawn_at: str | None, ip_address: str | None, source: str | None,
) -> str:
    key = (
        os.environ.get("CONSENT_INTEGRITY_SECRET") or os.environ.get("AUTH_SECRET") or os.environ.get("NEXTAUTH_SECRET")
        or settings.effective_jwt_secret
    )
    message = "|".join(
        [user_id, consent_type, "true" if is_granted else "false", granted_at or "", withdrawn_at or "", ip_address or "", source or ""]
    )
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()
