"""Module `auth`: authentication, accounts and feature-based RBAC."""

from mercato.kernel.module import EventDecl, Feature, Module


def _routers():  # noqa: ANN202
    from mercato.modules.auth.routes import router

    return [router]


def _providers() -> dict:
    from mercato.modules.auth.identity import load_acl, resolve_identity

    return {"identity": resolve_identity, "acl": load_acl}


def _setup(ctx):  # noqa: ANN001, ANN202
    from mercato.modules.auth.setup import setup_tenant

    return setup_tenant(ctx)


def _demo(ctx):  # noqa: ANN001, ANN202
    from mercato.modules.auth.setup import seed_demo

    return seed_demo(ctx)


module = Module(
    id="auth",
    title="Authentication & Accounts",
    description="User accounts, sessions, roles and feature-based access control.",
    features=[
        Feature("auth.users.list", "List users"),
        Feature("auth.users.create", "Create users"),
        Feature("auth.users.edit", "Edit users"),
        Feature("auth.users.delete", "Delete users"),
        Feature("auth.roles.list", "List roles"),
        Feature("auth.roles.manage", "Manage roles"),
        Feature("auth.acl.manage", "Manage access control"),
        Feature("auth.sidebar.manage", "Manage sidebar presets"),
    ],
    events=[
        EventDecl("auth.login.success", "Login succeeded"),
        EventDecl("auth.login.failed", "Login failed"),
    ],
    default_grants={"admin": ["auth.*"]},
    routers=_routers,
    models="mercato.modules.auth.models",
    setup=_setup,
    demo=_demo,
    providers=_providers(),
    order=20,
)
