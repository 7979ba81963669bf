"""Module `configs`: tenant cache inspection and purge, system status, upgrade actions, module telemetry,
and the `module_configs` settings store used by other modules (platform contract §2)."""

from mercato.kernel.module import Feature, Module


def _routers():  # noqa: ANN202
    from mercato.modules.configs.routes import router

    return [router]


def _configure(app) -> None:  # noqa: ANN001
    """Install the tenant-partitioned cache (unless another module did) and the telemetry middleware."""
    from mercato.modules.configs.cache import build_cache
    from mercato.modules.configs.middleware import TelemetryMiddleware
    from mercato.modules.configs.telemetry import ModuleTelemetry

    if getattr(app.state, "cache", None) is None:
        app.state.cache = build_cache(app.state.settings.redis_url)
    app.state.module_telemetry = ModuleTelemetry()
    app.add_middleware(TelemetryMiddleware, telemetry=app.state.module_telemetry,
                       module_ids=set(app.state.registry.enabled_ids))


async def _shutdown(app) -> None:  # noqa: ANN001
    cache = getattr(app.state, "cache", None)
    if cache is not None:
        await cache.close()


module = Module(
    id="configs",
    title="Configuration",
    description="Operational configuration: cache, system status, upgrade actions and module telemetry.",
    features=[
        Feature("configs.system_status.view", "View system status"),
        Feature("configs.cache.view", "View cache statistics"),
        Feature("configs.cache.manage", "Purge cache"),
        Feature("configs.manage", "Manage configuration"),
    ],
    default_grants={"admin": ["configs.system_status.view", "configs.cache.view", "configs.cache.manage",
                              "configs.manage"]},
    routers=_routers,
    models="mercato.modules.configs.models",
    providers={"configure": _configure, "shutdown": _shutdown},
    order=90,
)
