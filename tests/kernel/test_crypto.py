"""Field encryption primitives (kernel/crypto.py): AES-GCM format, per-tenant keys, lookup hashes."""

from __future__ import annotations

import base64
import uuid

from mercato.kernel import crypto


async def test_ciphertext_format_and_round_trip(app, db):
    cipher = await crypto.tenant_cipher(db, uuid.UUID(app.state.seeded["tenantId"]))
    sealed = cipher.encrypt("hello")
    parts = sealed.split(":")
    assert len(parts) == 4 and parts[3] == "v1"
    assert len(base64.b64decode(parts[0])) == 12 and len(base64.b64decode(parts[2])) == 16
    assert cipher.decrypt(sealed) == "hello"
    assert cipher.encrypt("hello") != sealed  # random IV
    assert cipher.encrypt(sealed) == sealed  # already ciphertext under this key
    assert cipher.decrypt(cipher.encrypt({"a": 1})) == '{"a":1}'
    assert cipher.decrypt("not:cipher:text:v1") is None and cipher.reveal("plain") == "plain"
    assert cipher.encrypt(None) is None


async def test_each_tenant_has_its_own_wrapped_key(db):
    t1, t2 = uuid.uuid4(), uuid.uuid4()
    c1, c2 = await crypto.tenant_cipher(db, t1), await crypto.tenant_cipher(db, t2)
    await db.commit()
    assert c2.decrypt(c1.encrypt("x")) is None
    wrapped = await crypto.stored_key(db, t1)
    assert crypto.looks_encrypted(wrapped)
    crypto._dek_cache.clear()  # a fresh process unwraps the stored key
    again = await crypto.tenant_cipher(db, t1)
    assert again.decrypt(c1.encrypt("x")) == "x"
    assert await crypto.tenant_cipher(db, None) is None


def test_lookup_hash_is_deterministic_and_normalised():
    h = crypto.lookup_hash("  Jane@Example.COM ")
    assert h == crypto.lookup_hash("jane@example.com") and h.startswith("v2:") and len(h) == 3 + 64
    assert crypto.lookup_hash("jane@example.com", "auth") != h
    assert crypto.lookup_hash(None) is None


def test_master_key_changes_keys_and_dev_default():
    try:
        crypto.configure("one")
        first = crypto.lookup_hash("x")
        crypto.configure("two")
        assert crypto.lookup_hash("x") != first
        crypto.configure(None, production=True)
        assert crypto.enabled() is False
        crypto.configure(None, production=False)
        assert crypto.enabled() is True
    finally:
        crypto.configure("test-master-key-0123456789abcdef")
