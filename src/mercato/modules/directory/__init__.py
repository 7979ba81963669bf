"""Module `directory`: tenants, organization trees, the organization switcher."""

from mercato.kernel.module import EventDecl, Feature, Module


def _routers():  # noqa: ANN202
    from mercato.modules.directory.routes import lookup_router, router

    return [router, lookup_router]


def _demo(ctx):  # noqa: ANN001, ANN202
    from mercato.modules.directory.setup import seed_demo

    return seed_demo(ctx)


def _setup(ctx):  # noqa: ANN001, ANN202
    from mercato.modules.directory.setup import seed_defaults

    return seed_defaults(ctx)


def _providers() -> dict:
    from mercato.kernel.extensions import IndexableEntity
    from mercato.modules.directory.commands import ORG_ENTITY, org_doc  # also registers the directory commands
    from mercato.modules.directory.models import Organization
    from mercato.modules.directory.scope import resolve_org_scope
    from mercato.modules.directory.setup import bootstrap_tenant

    return {
        "org_scope": resolve_org_scope, "bootstrap_tenant": bootstrap_tenant,
        "indexable": [IndexableEntity(ORG_ENTITY, Organization, org_doc)],
    }


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
        EventDecl("directory.tenant.created", "Tenant Created", entity="tenant", category="crud"),
        EventDecl("directory.tenant.updated", "Tenant Updated", entity="tenant", category="crud"),
        EventDecl("directory.tenant.deleted", "Tenant Deleted", entity="tenant", category="crud"),
        EventDecl("directory.organization.created", "Organization Created", entity="organization", category="crud"),
        EventDecl("directory.organization.updated", "Organization Updated", entity="organization", category="crud"),
        EventDecl("directory.organization.deleted", "Organization Deleted", entity="organization", category="crud"),
    ],
    default_grants={
        "superadmin": ["directory.tenants.*"],
        "admin": ["directory.organizations.view", "directory.organizations.manage"],
    },
    routers=_routers,
    models="mercato.modules.directory.models",
    setup=_setup,
    demo=_demo,
    providers=_providers(),
    order=10,
)
