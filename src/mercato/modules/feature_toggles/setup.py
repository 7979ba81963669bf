"""Seeded global toggles (skips identifiers that already exist, including soft-deleted ones)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mercato.kernel.module import SetupContext
from mercato.modules.feature_toggles.models import FeatureToggle

DEFAULT_TOGGLES: list[dict] = [
    {"identifier": "feature_toggles_ui", "name": "Feature Toggles UI", "category": "feature_toggles",
     "type": "boolean", "default_value": True},
    {"identifier": "marketing_banner_text", "name": "Marketing Banner Text", "category": "storefront",
     "type": "string", "default_value": "Free shipping on orders over $50"},
    {"identifier": "sales_channels_enabled", "name": "Sales Channels", "category": "sales",
     "type": "boolean", "default_value": True},
    {"identifier": "order_review_threshold", "name": "Order Review Threshold", "category": "sales",
     "type": "number", "default_value": 2500},
    {"identifier": "support_contact_settings", "name": "Support Contact Settings", "category": "support",
     "type": "json", "default_value": {"email": "support@example.com", "phone": "+1-555-0123", "hours": "Mon-Fri 9am-5pm"}},
    # global toggles other modules' contracts rely on
    {"identifier": "customers.interactions.unified", "name": "Unified customer interactions", "category": "customers",
     "type": "boolean", "default_value": False},
    {"identifier": "customers.interactions.legacy-adapters", "name": "Customer interactions legacy adapters",
     "category": "customers", "type": "boolean", "default_value": True},
    {"identifier": "customers.interactions.external-sync", "name": "Customer interactions external sync",
     "category": "customers", "type": "boolean", "default_value": False},
]


_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "mercato:feature_toggles")


def seeded_id(identifier: str) -> uuid.UUID:
    """Stable v4-shaped id per seeded identifier, so every installation lists the defaults in the same order."""
    return uuid.UUID(bytes=uuid.uuid5(_ID_NAMESPACE, identifier).bytes, version=4)


async def seed_defaults(ctx: SetupContext) -> None:
    existing = set((await ctx.session.execute(select(FeatureToggle.identifier))).scalars())
    for spec in DEFAULT_TOGGLES:
        if spec["identifier"] not in existing:
            ctx.session.add(FeatureToggle(id=seeded_id(spec["identifier"]), **spec))
    await ctx.session.flush()
