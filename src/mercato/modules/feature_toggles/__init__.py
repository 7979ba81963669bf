"""Module `feature_toggles`: global typed feature flags with per-tenant overrides and typed checks."""

from mercato.kernel.module import Feature, Module


def _routers():  # noqa: ANN202
    from mercato.modules.feature_toggles.routes import router

    return [router]


def _setup(ctx):  # noqa: ANN001, ANN202
    from mercato.modules.feature_toggles.setup import seed_defaults

    return seed_defaults(ctx)


def _flag_value(session, identifier, tenant_id):  # noqa: ANN001, ANN202
    from mercato.modules.feature_toggles.service import flag_value

    return flag_value(session, identifier, tenant_id)


module = Module(
    id="feature_toggles",
    title="Feature Toggles",
    description="Platform-wide typed feature flags with tenant overrides.",
    features=[
        Feature("feature_toggles.view", "View feature toggles"),
        Feature("feature_toggles.manage", "Manage tenant overrides of feature toggles"),
        Feature("feature_toggles.global.manage", "Manage global feature toggles"),
    ],
    # admins deliberately get view + manage only: global definitions are super-admin territory
    default_grants={
        "superadmin": ["feature_toggles.global.manage"],
        "admin": ["feature_toggles.view", "feature_toggles.manage"],
    },
    routers=_routers,
    models="mercato.modules.feature_toggles.models",
    setup=_setup,
    providers={"feature_flags": _flag_value},
    order=60,
)
