"""Seeding: BDO reference levels (global rows) at setup, and a small Acme Corp warehouse as demo data."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from mercato.kernel.commands import CommandRuntime, execute_command
from mercato.kernel.db import utcnow
from mercato.kernel.module import SetupContext
from mercato.kernel.serialize import iso
from mercato.modules.warehouse.bdo import seed_levels
from mercato.modules.warehouse.models import Product

ADDRESS = {"name": "Hurtownia Spożywcza Kowalski Sp. z o.o.", "street": "ul. Magazynowa", "buildingNumber": "12",
           "postalCode": "02-495", "city": "Warszawa", "country": "PL", "phone": "+48 600 100 200"}

PRODUCTS: list[dict[str, Any]] = [
    {"sku": "SOK-JAB-1L", "ean": "5900001000014", "name": "Sok jabłkowy NFC 1 l", "unitPriceNet": 4.99,
     "vatRate": "23", "weightGrams": 1450, "reorderPoint": 100, "leadTimeDays": 5, "location": "A-01-03",
     "initialStock": 1200, "packaging": [
         {"material": "glass", "massGrams": 420, "description": "butelka 1 l"},
         {"material": "aluminium", "massGrams": 3, "description": "zakrętka"},
         {"material": "paper_cardboard", "massGrams": 1.5, "description": "etykieta"}]},
    {"sku": "MIOD-SPADZ-1KG", "name": "Miód spadziowy 1 kg", "unitPriceNet": 129.0, "vatRate": "8",
     "weightGrams": 1500, "reorderPoint": 10, "location": "A-02-01", "initialStock": 60,
     "packaging": [{"material": "glass", "massGrams": 380, "description": "słoik"},
                   {"material": "steel", "massGrams": 12, "description": "wieczko"}]},
    {"sku": "ORZ-WLO-KG", "name": "Orzechy włoskie łuskane", "unit": "kg", "unitPriceNet": 18.4, "vatRate": "5",
     "weightGrams": 1020, "reorderPoint": 20, "location": "B-01-02", "initialStock": 150.5,
     "packaging": [{"material": "plastic", "massGrams": 20, "description": "worek"}]},
    {"sku": "WODA-05-12", "name": "Woda mineralna 0,5 l (zgrzewka 12 szt.)", "unitPriceNet": 9.6, "vatRate": "5",
     "weightGrams": 6400, "reorderPoint": 40, "leadTimeDays": 3, "location": "C-03-01", "initialStock": 600,
     "packaging": [{"material": "plastic", "massGrams": 192, "packagingType": "unit", "description": "butelki PET"},
                   {"material": "plastic", "massGrams": 25, "packagingType": "collective", "description": "folia"}]},
    {"sku": "JAB-SKRZ-10", "name": "Jabłka Szampion, skrzynka 10 kg", "unitPriceNet": 32.0, "vatRate": "5",
     "weightGrams": 11600, "reorderPoint": 15, "leadTimeDays": 2, "initialStock": 80,
     "packaging": [{"material": "wood", "massGrams": 1500, "reusable": True, "packagingType": "transport",
                    "description": "skrzynka drewniana"},
                   {"material": "paper_cardboard", "massGrams": 80, "description": "przekładki"}]},
]


async def seed_defaults(ctx: SetupContext) -> None:
    await seed_levels(ctx.session)


async def seed_demo(ctx: SetupContext) -> None:
    if ctx.tenant_id is None or ctx.organization_id is None:
        return
    exists = await ctx.session.scalar(select(Product.id).where(Product.organization_id == ctx.organization_id).limit(1))
    if exists is not None:
        return
    rt = CommandRuntime(session=ctx.session, tenant_id=ctx.tenant_id, organization_id=ctx.organization_id,
                        actor_user_id=None)
    for body in PRODUCTS:
        await execute_command(rt, "magazyn.products.create", body)
    b2b = (await execute_command(rt, "magazyn.customer_profiles.create", {
        "kind": "b2b", "displayName": ADDRESS["name"], "nip": "PL 111-222-33-32", "email": "zamowienia@kowalski.example",
        "phone": "+48 22 100 20 30", "defaultShippingAddress": ADDRESS, "paymentTerms": "net_14",
        "discountPercent": 5})).result
    b2c = (await execute_command(rt, "magazyn.customer_profiles.create", {
        "kind": "b2c", "displayName": "Jan Nowak", "email": "jan.nowak@example.com", "paymentTerms": "cash_on_delivery",
        "defaultShippingAddress": {"name": "Jan Nowak", "street": "ul. Polna", "buildingNumber": "7", "flatNumber": "3",
                                   "postalCode": "30-001", "city": "Kraków"}})).result
    await _history(rt, str(b2b.id), str(b2c.id))
    first = (await execute_command(rt, "magazyn.orders.create", {
        "customerProfileId": str(b2b.id), "channel": "b2b_portal",
        "lines": [{"sku": "SOK-JAB-1L", "quantity": 24}, {"sku": "MIOD-SPADZ-1KG", "quantity": 2},
                  {"sku": "ORZ-WLO-KG", "quantity": 2.5}]})).result["order"]
    for step in ({"status": "confirmed"}, {"status": "picking"},
                 {"status": "packed", "packageCount": 2, "shippingPackaging": [
                     {"material": "paper_cardboard", "massGrams": 800, "description": "karton"}]},
                 {"status": "shipped", "carrier": "dpd", "trackingNumber": "DPD0001234567"}):
        await execute_command(rt, "magazyn.orders.change_status", {"id": str(first.id), **step})
    second = (await execute_command(rt, "magazyn.orders.create", {
        "customerProfileId": str(b2c.id), "channel": "allegro", "externalReference": "ALLEGRO-DEMO-1",
        "shippingMethod": "parcel_locker", "parcelLockerCode": "KRA01M", "priority": "high",
        "lines": [{"sku": "WODA-05-12", "quantity": 2}]})).result["order"]
    await execute_command(rt, "magazyn.orders.change_status", {"id": str(second.id), "status": "confirmed"})
    await execute_command(rt, "magazyn.orders.create", {
        "customerProfileId": str(b2b.id), "lines": [{"sku": "JAB-SKRZ-10", "quantity": 10}], "notes": "Dostawa rano"})


WEEKLY_DEMAND = [(48, 20), (36, 24), (60, 18), (42, 30), (54, 26), (66, 22), (58, 34), (72, 28)]


async def _history(rt: CommandRuntime, b2b_id: str, b2c_id: str) -> None:
    """Eight weeks of delivered orders, so analytics, forecast and the BDO report show something."""
    now = utcnow()
    for weeks_ago, (juice, water) in zip(range(len(WEEKLY_DEMAND), 0, -1), WEEKLY_DEMAND, strict=True):
        placed = now - timedelta(weeks=weeks_ago)
        for profile_id, lines in ((b2b_id, [{"sku": "SOK-JAB-1L", "quantity": juice}]),
                                  (b2c_id, [{"sku": "WODA-05-12", "quantity": water}])):
            order = (await execute_command(rt, "magazyn.orders.create", {
                "customerProfileId": profile_id, "placedAt": iso(placed), "lines": lines,
                "channel": "b2b_portal" if profile_id == b2b_id else "eshop"})).result["order"]
            at = iso(placed + timedelta(hours=2))
            for step in ({"status": "confirmed"}, {"status": "picking"}, {"status": "packed"},
                         {"status": "shipped", "carrier": "inpost"}):
                await execute_command(rt, "magazyn.orders.change_status", {"id": str(order.id), "occurredAt": at,
                                                                            **step})
            await execute_command(rt, "magazyn.orders.change_status", {
                "id": str(order.id), "status": "delivered", "occurredAt": iso(placed + timedelta(days=1))})
