"""Module `dictionaries`: shared, organization-scoped lookup lists and their entries (contract B)."""

from mercato.kernel.module import EventDecl, Feature, Module


def _routers():  # noqa: ANN202
    from mercato.modules.dictionaries.routes import router

    return [router]


def _setup(ctx):  # noqa: ANN001, ANN202
    from mercato.modules.dictionaries.setup import seed_defaults

    return seed_defaults(ctx)


module = Module(
    id="dictionaries",
    # the title differs from the operations' tag "Dictionaries", so the explorer files that section among the
    # non-module tags, where the seed shows it
    title="Shared Dictionaries",
    description="Shared, organization-scoped dictionaries (lookup lists) and their entries.",
    features=[
        Feature("dictionaries.view", "View shared dictionaries and entries"),
        Feature("dictionaries.manage", "Create/update/delete dictionaries and entries"),
    ],
    events=[
        EventDecl("dictionaries.entry.created", "Dictionary entry created", entity="entry", category="crud"),
        EventDecl("dictionaries.entry.updated", "Dictionary entry updated", entity="entry", category="crud"),
        EventDecl("dictionaries.entry.deleted", "Dictionary entry deleted", entity="entry", category="crud"),
    ],
    default_grants={"admin": ["dictionaries.view", "dictionaries.manage"], "employee": ["dictionaries.view"]},
    routers=_routers,
    models="mercato.modules.dictionaries.models",
    setup=_setup,
    order=70,
)
