"""Manifest contributions of the timeline part, folded into the customers module by the lead.

    FEATURES, EVENTS, DEFAULT_GRANTS, routers(), setup(ctx), demo(ctx)
"""

from __future__ import annotations

from typing import Any

from mercato.kernel.module import EventDecl, Feature, SetupContext

# every feature this part checks is declared by the core manifest; `customers.view` (legacy todos list) is
# deliberately undeclared, as in the reference: only `*`, `customers.*` and superadmins hold it
FEATURES: list[Feature] = []


def _crud(entity: str, actions: tuple[str, ...] = ("created", "updated", "deleted")) -> list[EventDecl]:
    return [EventDecl(f"customers.{entity}.{a}", f"{entity.replace('_', ' ').title()} {a}", entity=entity,
                      category="crud") for a in actions]


EVENTS: list[EventDecl] = [
    *_crud("interaction"),
    EventDecl("customers.interaction.completed", "Interaction completed", entity="interaction", category="lifecycle"),
    EventDecl("customers.interaction.canceled", "Interaction canceled", entity="interaction", category="lifecycle"),
    EventDecl("customers.interaction.reverted", "Interaction reverted", entity="interaction", category="lifecycle"),
    EventDecl("customers.next_interaction.updated", "Next interaction updated", entity="customer", category="system"),
    *_crud("activity"), *_crud("todo"), *_crud("comment"), *_crud("address"), *_crud("tag"),
    EventDecl("customers.tag.assigned", "Tag assigned", entity="tag", category="crud"),
    EventDecl("customers.tag.removed", "Tag removed", entity="tag", category="crud"),
    *_crud("entity_role"), *_crud("label"), *_crud("label_assignment"),
    EventDecl("customers.email.linked", "E-mail linked to a person", entity="interaction", category="custom",
              client_broadcast=True),
    EventDecl("customers.email.visibility_changed", "E-mail visibility changed", entity="interaction",
              category="custom", client_broadcast=True),
]

# customers.* (admin) and the employee list of the core manifest already cover every feature used here
DEFAULT_GRANTS: dict[str, list[str]] = {"admin": ["customers.*"], "employee": []}


def routers() -> list[Any]:
    from mercato.modules.customers.timeline.routes import bridges, interactions, records, settings, staff

    # static paths (complete, cancel, conflicts, counts, tasks, kind-settings, currency) before parameterised ones
    return [interactions.router, bridges.router, records.router, settings.router, staff.router]


async def setup(ctx: SetupContext) -> None:
    from mercato.modules.customers.timeline.demo import define_custom_fields, seed_tags
    from mercato.modules.customers.timeline.dictionaries import seed_dictionaries

    await seed_dictionaries(ctx.session, ctx.tenant_id, ctx.organization_id)
    await seed_tags(ctx.session, ctx.tenant_id, ctx.organization_id)
    await define_custom_fields(ctx)


async def demo(ctx: SetupContext) -> None:
    from mercato.modules.customers.timeline.demo import seed_demo

    await seed_demo(ctx)


def configure(app: Any) -> None:
    """Install the hooks part 1 reads from `app.state` (open-activity counts, cleanups, deal locations)."""
    from mercato.modules.customers.timeline.hooks import configure as install

    install(app)
