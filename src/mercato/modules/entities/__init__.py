"""Module `entities`: custom field definitions, custom entities and their records, encryption maps."""

from mercato.kernel.module import Feature, Module


def _routers():  # noqa: ANN202
    from mercato.modules.entities import routes_records  # noqa: F401  (registers the record routes)
    from mercato.modules.entities.routes import router

    return [router]


def _setup(ctx):  # noqa: ANN001, ANN202
    from mercato.modules.entities.setup import seed_tenant

    return seed_tenant(ctx)


def _demo(ctx):  # noqa: ANN001, ANN202
    from mercato.modules.entities.setup import seed_demo

    return seed_demo(ctx)


def _configure(app) -> None:  # noqa: ANN001
    from mercato.kernel import crypto

    crypto.configure(app.state.settings.encryption_master_key, app.state.settings.is_production)


def _providers() -> dict:
    from mercato.modules.entities.encryption import EncryptionProvider
    from mercato.modules.entities.values import CustomFieldsProvider

    return {"custom_fields": CustomFieldsProvider(), "encryption": EncryptionProvider(), "configure": _configure}


module = Module(
    id="entities",
    title="Entities",
    description="Custom field definitions, user-defined entities and their records, field encryption maps.",
    features=[
        Feature("entities.definitions.view", "View custom field definitions"),
        Feature("entities.definitions.manage", "Manage custom field definitions"),
        Feature("entities.records.view", "View custom entity records"),
        Feature("entities.records.manage", "Manage custom entity records"),
    ],
    events=[],  # the module declares no events (contract C.4)
    default_grants={"admin": ["entities.*"], "superadmin": ["entities.*"]},
    routers=_routers,
    models="mercato.modules.entities.models",
    setup=_setup,
    demo=_demo,
    providers=_providers(),
    order=20,
)
