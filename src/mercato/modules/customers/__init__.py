"""Module `customers`: the CRM core — people, companies, deals, pipelines and stages."""

from mercato.kernel.module import EventDecl, Feature, Module
from mercato.modules.customers import analytics


def _routers():  # noqa: ANN202
    from mercato.modules.customers.routes import routers
    from mercato.modules.customers.timeline import manifest as timeline  # local wiring of part 2

    return timeline.routers() + routers()


def _setup(ctx):  # noqa: ANN001, ANN202
    from mercato.modules.customers.setup import setup_tenant
    from mercato.modules.customers.timeline import manifest as timeline  # local wiring of part 2

    async def both() -> None:
        await setup_tenant(ctx)
        await timeline.setup(ctx)
    return both()


def _demo(ctx):  # noqa: ANN001, ANN202
    from mercato.modules.customers.demo import seed_demo
    from mercato.modules.customers.timeline import manifest as timeline  # local wiring of part 2

    async def both() -> None:
        await seed_demo(ctx)
        await timeline.demo(ctx)
    return both()


def _configure(app) -> None:  # noqa: ANN001
    from mercato.modules.customers.service import bulk  # noqa: F401  (registers the bulk jobs)
    from mercato.modules.customers.timeline import manifest as timeline  # local wiring of part 2

    timeline.configure(app)


def _indexables() -> list:
    from mercato.kernel.extensions import IndexableEntity
    from mercato.modules.customers.models import CustomerDeal, CustomerEntity

    return [IndexableEntity("customers:customer_entity", CustomerEntity), IndexableEntity("customers:customer_deal", CustomerDeal)]


FEATURES = [
    Feature("customers.people.view", "View people"),
    Feature("customers.people.manage", "Manage people"),
    Feature("customers.companies.view", "View companies"),
    Feature("customers.companies.manage", "Manage companies"),
    Feature("customers.deals.view", "View deals"),
    Feature("customers.deals.manage", "Manage deals"),
    Feature("customers.activities.view", "View activities"),
    Feature("customers.activities.manage", "Manage activities"),
    Feature("customers.settings.manage", "Manage customer settings"),
    Feature("customers.pipelines.view", "View pipelines"),
    Feature("customers.pipelines.manage", "Manage pipelines"),
    Feature("customers.widgets.todos", "Dashboard widget: customer todos"),
    Feature("customers.widgets.next-interactions", "Dashboard widget: next interactions"),
    Feature("customers.widgets.new-customers", "Dashboard widget: new customers"),
    Feature("customers.widgets.new-deals", "Dashboard widget: new deals"),
    Feature("customers.interactions.view", "View interactions"),
    Feature("customers.interactions.manage", "Manage interactions"),
    Feature("customers.roles.view", "View customer roles"),
    Feature("customers.roles.manage", "Manage customer roles"),
    Feature("customers.email.compose", "Compose customer e-mails"),
    Feature("customers.email.view_private", "View private customer e-mails"),
]

_CRUD = ("person", "company", "deal")
EVENTS = [
    EventDecl(f"customers.{kind}.{action}", f"{kind.title()} {action}", entity=kind, category="crud")
    for kind in _CRUD for action in ("created", "updated", "deleted")
] + [
    EventDecl("customers.deal.won", "Deal won", entity="deal", category="lifecycle"),
    EventDecl("customers.deal.lost", "Deal lost", entity="deal", category="lifecycle"),
] + [
    EventDecl(f"customers.person_company_link.{action}", f"Person-company link {action}", entity="person_company_link",
              category="crud", client_broadcast=True)
    for action in ("created", "updated", "deleted")
]

from mercato.modules.customers.timeline import manifest as _timeline  # noqa: E402  local wiring of part 2
from mercato.modules.customers.timeline import models as _timeline_models  # noqa: E402, F401

FEATURES += _timeline.FEATURES
EVENTS += _timeline.EVENTS

module = Module(
    id="customers",
    title="Customer Relationship Management",
    description="CRM core: people, companies, deals, pipelines and pipeline stages.",
    features=FEATURES,
    events=EVENTS,
    default_grants={
        "admin": ["customers.*"],
        "employee": [
            "customers.people.view", "customers.people.manage", "customers.companies.view",
            "customers.companies.manage", "customers.deals.view", "customers.deals.manage",
            "customers.activities.view", "customers.activities.manage", "customers.pipelines.view",
            "customers.interactions.view", "customers.widgets.todos", "customers.widgets.next-interactions",
            "customers.widgets.new-customers", "customers.widgets.new-deals", "customers.roles.view",
            "customers.roles.manage", "customers.email.compose",
        ],
    },
    routers=_routers,
    models="mercato.modules.customers.models",
    setup=_setup,
    demo=_demo,
    providers={"configure": _configure, "indexable": _indexables(),
               "analytics_entities": analytics.analytics_entities, "dashboard_widgets": analytics.dashboard_widgets},
    order=60,
)
