"""Field-level encryption: AES-256-GCM with one data key (DEK) per tenant, wrapped by a master key.

Ciphertext format (reference compatible): `base64(iv):base64(ciphertext):base64(tag):v1`.
The master key comes from settings `OM_ENCRYPTION_KEY`; outside production a fixed development key is derived
when it is unset, in production without a key encryption is off (values are stored as given, like the reference
without a KMS). Wrapped DEKs live in `tenant_data_keys`; unwrapped keys are cached per process.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.db import Base, utcnow

log = logging.getLogger("mercato.crypto")

DEV_MASTER_SECRET = "mercato-dev-only-encryption-key"
VERSION = "v1"


class TenantDataKey(Base):
    """A tenant's data-encryption key, wrapped (AES-GCM) by the master key."""

    __tablename__ = "tenant_data_keys"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    wrapped_key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass
class _Config:
    master: bytes | None  # 32 bytes, None = encryption disabled
    pepper: bytes | None


_config: _Config | None = None
_dek_cache: dict[tuple[str, uuid.UUID], bytes] = {}


def configure(secret: str | None, production: bool = False) -> None:
    """Set the master secret (called once when the app is built)."""
    global _config
    if not secret and production:
        log.warning("OM_ENCRYPTION_KEY is not set: field encryption is disabled")
        _config = _Config(None, None)
        return
    raw = (secret or DEV_MASTER_SECRET).encode()
    master = hashlib.sha256(b"mercato-kek:" + raw).digest()
    pepper = hashlib.sha256(b"mercato-lookup:" + raw).digest()
    _config = _Config(master, pepper)
    _dek_cache.clear()


def _cfg() -> _Config:
    if _config is None:
        from mercato.kernel.settings import get_settings

        s = get_settings()
        configure(s.encryption_master_key, s.is_production)
    assert _config is not None
    return _config


def enabled() -> bool:
    flag = os.environ.get("TENANT_DATA_ENCRYPTION", "").strip().lower()
    if flag in ("0", "false", "no", "off", "disabled"):
        return False
    return _cfg().master is not None


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _seal(key: bytes, plaintext: bytes) -> str:
    iv = os.urandom(12)
    sealed = AESGCM(key).encrypt(iv, plaintext, None)
    return f"{_b64(iv)}:{_b64(sealed[:-16])}:{_b64(sealed[-16:])}:{VERSION}"


def _open(key: bytes, payload: str) -> bytes | None:
    parts = payload.split(":")
    if len(parts) != 4 or parts[3] != VERSION:
        return None
    try:
        iv, ct, tag = (base64.b64decode(p, validate=True) for p in parts[:3])
        return AESGCM(key).decrypt(iv, ct + tag, None)
    except (ValueError, InvalidTag):
        return None


def looks_encrypted(value: Any) -> bool:
    return isinstance(value, str) and value.endswith(":" + VERSION) and value.count(":") == 3


class FieldCipher:
    """Encrypts/decrypts values with one tenant's data key."""

    def __init__(self, dek: bytes) -> None:
        self._dek = dek

    def encrypt(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            if self.decrypt(value) is not None:  # already ciphertext under this key
                return value
            text = value
        else:
            text = json.dumps(value, separators=(",", ":"))
        return _seal(self._dek, text.encode())

    def decrypt(self, value: Any) -> str | None:
        """Plaintext, or None when the value is not ciphertext under this key."""
        if not looks_encrypted(value):
            return None
        raw = _open(self._dek, value)
        return raw.decode() if raw is not None else None

    def reveal(self, value: Any) -> Any:
        """Plaintext when decryptable, else the stored value untouched."""
        plain = self.decrypt(value)
        return value if plain is None else plain


async def tenant_cipher(session: AsyncSession, tenant_id: uuid.UUID | None) -> FieldCipher | None:
    """The tenant's cipher (creating its data key on first use); None when encryption is off or no tenant."""
    if tenant_id is None or not enabled():
        return None
    cfg = _cfg()
    assert cfg.master is not None
    cache_key = (str(session.bind.url) if session.bind is not None else "", tenant_id)
    dek = _dek_cache.get(cache_key)
    if dek is None:
        row = await session.get(TenantDataKey, tenant_id)
        if row is None:
            dek = AESGCM.generate_key(bit_length=256)
            session.add(TenantDataKey(tenant_id=tenant_id, wrapped_key=_seal(cfg.master, dek)))
            await session.flush()
        else:
            opened = _open(cfg.master, row.wrapped_key)
            if opened is None:
                raise RuntimeError("Tenant data key cannot be unwrapped with the configured OM_ENCRYPTION_KEY")
            dek = opened
        _dek_cache[cache_key] = dek
    return FieldCipher(dek)


async def stored_key(session: AsyncSession, tenant_id: uuid.UUID) -> str | None:
    return (await session.execute(select(TenantDataKey.wrapped_key).where(TenantDataKey.tenant_id == tenant_id))).scalar()


def lookup_hash(value: Any, context: str | None = None) -> str | None:
    """Deterministic hash for equality lookups on encrypted values: `v2:` + HMAC-SHA256 of the normalised text."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if context:
        text = f"{context}:{text}"
    pepper = _cfg().pepper
    if pepper is None:
        return hashlib.sha256(text.encode()).hexdigest()
    return "v2:" + hmac.new(pepper, text.encode(), hashlib.sha256).hexdigest()
