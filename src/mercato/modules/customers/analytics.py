"""What the customers module contributes to dashboards: analytics entity types (aggregated by the dashboards
module's widget data endpoint, contract A.6) and its dashboard widgets (contract A.7). Plain data, so this
module does not depend on the dashboards module."""

from __future__ import annotations

from typing import Any


def analytics_entities() -> list[dict[str, Any]]:
    from mercato.modules.customers.models import CustomerDeal, CustomerEntity

    return [
        {
            "entityType": "customers:entities", "model": CustomerEntity, "requiredFeatures": ["customers.view"],
            "fields": {
                "id": ("id", "uuid"), "kind": ("kind", "text"), "status": ("status", "text"),
                "lifecycleStage": ("lifecycle_stage", "text"), "createdAt": ("created_at", "timestamp"),
                "displayName": ("display_name", "text"),
            },
            "defaultDateField": "createdAt",
        },
        {
            "entityType": "customers:deals", "model": CustomerDeal, "requiredFeatures": ["customers.deals.view"],
            "fields": {
                "id": ("id", "uuid"), "valueAmount": ("value_amount", "numeric"), "status": ("status", "text"),
                "pipelineStage": ("pipeline_stage", "text"), "probability": ("probability", "numeric"),
                "createdAt": ("created_at", "timestamp"), "expectedCloseAt": ("expected_close_at", "timestamp"),
            },
            # declared as in the reference; no field maps to it, so grouping never reaches it
            "labelResolvers": {"customerEntityId": (CustomerEntity, "display_name")},
            "defaultDateField": "createdAt",
        },
    ]


def _widget(id_: str, folder: str, title: str, size: str, feature: str, icon: str, settings: dict[str, Any],
            description: str) -> dict[str, Any]:
    return {"id": f"customers.dashboard.{id_}", "folder": folder, "title": title, "description": description,
            "defaultSize": size, "defaultEnabled": True, "defaultSettings": settings,
            "features": ["dashboards.view", f"customers.widgets.{feature}"], "icon": icon, "supportsRefresh": True,
            "category": "customers"}


def dashboard_widgets() -> list[dict[str, Any]]:
    return [
        _widget("todos", "customer-todos", "Customer Todos", "md", "todos", "check-square", {"pageSize": 5},
                "Review the latest tasks linked to customers and jump directly to their records."),
        _widget("newCustomers", "new-customers", "New Customers", "sm", "new-customers", "user-plus",
                {"pageSize": 5, "kind": "all"}, "Track the most recently added customers to follow up quickly."),
        _widget("newDeals", "new-deals", "New Deals", "sm", "new-deals", "handshake", {"pageSize": 5},
                "Track the most recently created customer deals to follow up quickly."),
        _widget("nextInteractions", "next-interactions", "Next Customer Interactions", "md", "next-interactions",
                "calendar", {"pageSize": 5, "includePast": False},
                "See the customers with the next interactions scheduled to stay proactive."),
    ]
