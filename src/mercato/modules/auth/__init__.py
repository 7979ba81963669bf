"""Module `auth`: authentication, accounts and feature-based RBAC."""

from mercato.kernel.module import EventDecl, Feature, Module


def _routers():  # noqa: ANN202
    from mercato.modules.auth import routes, routes_accounts, routes_ui

    return [routes.router, routes_accounts.router, routes_ui.router, routes_accounts.consents_router]


def _providers() -> dict:
    from mercato.kernel.extensions import IndexableEntity
    from mercato.modules.auth.commands import ROLE_ENTITY, USER_ENTITY, role_doc, user_doc  # registers the commands
    from mercato.modules.auth.identity import load_acl, resolve_identity
    from mercato.modules.auth.models import Role, User

    return {
        "identity": resolve_identity, "acl": load_acl,
        "indexable": [IndexableEntity(USER_ENTITY, User, user_doc), IndexableEntity(ROLE_ENTITY, Role, role_doc)],
        "cli": _cli,
        "configure": _configure,
    }


def _configure(app):  # noqa: ANN001, ANN202
    from mercato.modules.auth.setup import configure_indexing

    configure_indexing(app)


def _cli():  # noqa: ANN202
    from mercato.modules.auth.cli import auth_cli

    return auth_cli


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
        EventDecl("auth.user.created", "User created", entity="user", category="crud"),
        EventDecl("auth.user.updated", "User updated", entity="user", category="crud"),
        EventDecl("auth.user.deleted", "User deleted", entity="user", category="crud"),
        EventDecl("auth.role.created", "Role created", entity="role", category="crud"),
        EventDecl("auth.role.updated", "Role updated", entity="role", category="crud"),
        EventDecl("auth.role.deleted", "Role deleted", entity="role", category="crud"),
        EventDecl("auth.login.success", "Login succeeded", category="lifecycle"),
        EventDecl("auth.login.failed", "Login failed", category="lifecycle"),
        EventDecl("auth.logout", "Logged out", category="lifecycle"),
        EventDecl("auth.password.changed", "Password changed", category="lifecycle"),
        EventDecl("auth.password.reset.requested", "Password reset requested", category="lifecycle"),
        EventDecl("auth.password.reset.completed", "Password reset completed", category="lifecycle"),
    ],
    default_grants={"admin": ["auth.*"]},
    routers=_routers,
    models="mercato.modules.auth.models",
    setup=_setup,
    demo=_demo,
    providers=_providers(),
    order=20,
)
