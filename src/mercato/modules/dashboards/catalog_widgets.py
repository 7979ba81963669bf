"""The analytics widgets this module contributes to the catalog (contract A.7)."""

from __future__ import annotations

from typing import Any


def _w(id_: str, folder: str, title: str, size: str, features: list[str], icon: str, settings: dict[str, Any],
       description: str) -> dict[str, Any]:
    return {"id": f"dashboards.analytics.{id_}", "folder": folder, "title": title, "description": description,
            "defaultSize": size, "defaultEnabled": False, "defaultSettings": settings,
            "features": ["analytics.view", *features], "icon": icon, "supportsRefresh": True, "category": "analytics"}


KPI = {"dateRange": "this_month", "showComparison": True}
ORDERS = ["sales.orders.view"]

ANALYTICS_WIDGETS: list[dict[str, Any]] = [
    _w("aovKpi", "aov-kpi", "Average Order Value", "sm", ORDERS, "trending-up", KPI,
       "Average order value with period comparison"),
    _w("newCustomersKpi", "new-customers-kpi", "Customer Growth", "sm", ["customers.people.view"], "user-plus", KPI,
       "New customer count with period comparison"),
    _w("ordersByStatus", "orders-by-status", "Orders by Status", "sm", ORDERS, "pie-chart",
       {"dateRange": "this_month", "variant": "donut"}, "Distribution of orders by status"),
    _w("ordersKpi", "orders-kpi", "Orders", "sm", ORDERS, "shopping-cart", KPI, "Total order count with period comparison"),
    _w("pipelineSummary", "pipeline-summary", "Pipeline Summary", "md", ["customers.deals.view"], "git-branch",
       {"dateRange": "this_month"}, "Deal value by pipeline stage"),
    _w("revenueKpi", "revenue-kpi", "Revenue", "sm", ORDERS, "dollar-sign", KPI, "Total revenue with period comparison"),
    _w("revenueTrend", "revenue-trend", "Revenue Trend", "lg", ORDERS, "line-chart",
       {"dateRange": "last_30_days", "granularity": "day", "showArea": True},
       "Revenue over time with customizable granularity"),
    _w("salesByRegion", "sales-by-region", "Sales by Region", "md", ORDERS, "map-pin",
       {"dateRange": "this_month", "limit": 10}, "Revenue distribution by shipping region"),
    _w("topCustomers", "top-customers", "Top Customers", "md", [*ORDERS, "customers.people.view"], "users",
       {"dateRange": "this_month", "limit": 10}, "Top customers by revenue"),
    _w("topProducts", "top-products", "Top Products", "md", ORDERS, "bar-chart-2",
       {"dateRange": "this_month", "limit": 10, "layout": "horizontal"}, "Top-selling products by revenue"),
]
