"""Module `directory`: tenants, organization trees, the organization switcher."""

from mercato.kernel.module import EventDecl, Feature, Module


def _routers():  # noqa: ANN202
    from mercato.modules.directory.routes import router

    return [router]


def _demo(ctx):  # noqa: ANN001, ANN202
    from mercato.modules.directory.setup import seed_demo

    return seed_demo(ctx)


def _providers() -> dict:
    from mercato.modules.directory.scope import resolve_org_scope
    from mercato.modules.directory.setup import bootstrap_tenant

    return {"org_scope": resolve_org_scope, "bootstrap_tenant": bootstrap_tenant}


module = Module(
    id="directory",
    title="Directory (Tenants & Organizations)",
    description="Tenants, organization hierarchies and the organization switcher.",
    features=[
        Feature("directory.tenants.view", "View tenants"),
        Feature("directory.tenants.manage", "Manage tenants"),
        Feature("directory.organizations.view", "View organizations"),
        Feature("directory.organizations.manage", "Manage organizations"),
    ],
    events=[
        EventDecl("directory.tenant.created", "Tenant created", entity="tenant"),
        EventDecl("directory.tenant.updated", "Tenant updated", entity="tenant"),
        EventDecl("directory.tenant.deleted", "Tenant deleted", entity="tenant"),
        EventDecl("directory.organization.created", "Organization created", entity="organization"),
        EventDecl("directory.organization.updated", "Organization updated", entity="organization"),
        EventDecl("directory.organization.deleted", "Organization deleted", entity="organization"),
    ],
    default_grants={
        "superadmin": ["directory.tenants.*"],
        "admin": ["directory.organizations.view", "directory.organizations.manage"],
    },
    routers=_routers,
    models="mercato.modules.directory.models",
    demo=_demo,
    providers=_providers(),
    order=10,
)
