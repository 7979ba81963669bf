"""Module `events`: the declared-event catalogue and the server-sent-event stream (with the Redis bridge)."""

from mercato.kernel.module import Feature, Module


def _routers():  # noqa: ANN202
    from mercato.modules.events.routes import router

    return [router]


def _configure(app) -> None:  # noqa: ANN001
    from mercato.modules.events.catalog import install_catalog

    install_catalog(app)


async def _startup(app) -> None:  # noqa: ANN001
    from mercato.modules.events.bridge import start_bridge

    await start_bridge(app)


async def _shutdown(app) -> None:  # noqa: ANN001
    from mercato.modules.events.bridge import stop_bridge

    await stop_bridge(app)


module = Module(
    id="events",
    title="Events",
    description="Event bus and subscriber dispatch",
    # The reference gates the catalogue with the `workflows` module's feature; no workflows module exists here,
    # so the feature is declared (and granted like the reference grants `workflows.*`) by this module.
    features=[Feature("workflows.view", "View workflows and the event catalogue")],
    default_grants={"admin": ["workflows.*"]},
    routers=_routers,
    providers={"configure": _configure, "startup": _startup, "shutdown": _shutdown},
    order=90,
)
