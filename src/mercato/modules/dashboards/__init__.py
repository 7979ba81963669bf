"""Module `dashboards`: per-user widget layouts, widget availability per role/user, and the analytics
aggregation endpoint over entity types registered by other modules (contract A)."""

from mercato.kernel.module import Feature, Module


def _routers():  # noqa: ANN202
    from mercato.modules.dashboards.routes import router

    return [router]


def _setup(ctx):  # noqa: ANN001, ANN202
    from mercato.modules.dashboards.setup import seed_role_widgets

    return seed_role_widgets(ctx)


def _widgets() -> list:
    from mercato.modules.dashboards.catalog_widgets import ANALYTICS_WIDGETS

    return ANALYTICS_WIDGETS


module = Module(
    id="dashboards",
    title="Admin Dashboard",  # routes carry the seed's section tag "Dashboards"
    description="Admin dashboard layouts, widget assignment and analytics aggregation.",
    features=[
        Feature("dashboards.view", "View dashboard"),
        Feature("dashboards.configure", "Customize dashboard"),
        Feature("dashboards.admin.assign-widgets", "Manage dashboard widgets for roles and users"),
        Feature("analytics.view", "View analytics widgets"),
    ],
    default_grants={
        "admin": ["dashboards.*", "dashboards.admin.assign-widgets", "analytics.view"],
        "employee": ["dashboards.view", "dashboards.configure", "analytics.view"],
    },
    routers=_routers,
    models="mercato.modules.dashboards.models",
    setup=_setup,
    providers={"dashboard_widgets": _widgets},
    order=95,  # after auth created the roles and every module registered its widgets
)
