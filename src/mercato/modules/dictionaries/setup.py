"""Tenant defaults: the protected `currency` dictionary.

In the reference the customers module seeds it; clients (and the currency protection of B.6) expect it in
every organization set up by `mercato init`, so it is ensured here, idempotently.
"""

from __future__ import annotations

from mercato.kernel.module import SetupContext
from mercato.modules.dictionaries.service import ensure_dictionary

CURRENCIES: tuple[tuple[str, str], ...] = (
    ("USD", "US Dollar"), ("EUR", "Euro"), ("GBP", "British Pound"), ("PLN", "Polish Zloty"), ("CHF", "Swiss Franc"),
    ("JPY", "Japanese Yen"), ("CNY", "Chinese Yuan"), ("CAD", "Canadian Dollar"), ("AUD", "Australian Dollar"),
    ("SEK", "Swedish Krona"), ("NOK", "Norwegian Krone"), ("DKK", "Danish Krone"), ("CZK", "Czech Koruna"),
    ("INR", "Indian Rupee"), ("BRL", "Brazilian Real"),
)


async def seed_defaults(ctx: SetupContext) -> None:
    if ctx.tenant_id is None or ctx.organization_id is None:
        return
    await ensure_dictionary(ctx.session, ctx.tenant_id, ctx.organization_id, "currency", "Currencies", CURRENCIES,
                            description="ISO 4217 currency codes")
