"""Module manifests and the registry that discovers enabled modules."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import APIRouter
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Feature:
    id: str
    title: str
    module: str = ""


@dataclass(frozen=True)
class EventDecl:
    id: str
    label: str = ""
    entity: str | None = None
    category: str | None = None  # crud | lifecycle | system | custom
    client_broadcast: bool = False  # pushed to browsers over /api/events/stream
    description: str | None = None
    exclude_from_triggers: bool = False
    portal_broadcast: bool = False


@dataclass
class SetupContext:
    """Handed to module setup hooks by `mercato init`."""

    session: AsyncSession
    tenant_id: Any
    organization_id: Any
    demo: bool
    log: Callable[[str], None] = print
    data: dict[str, Any] = field(default_factory=dict)


SetupHook = Callable[[SetupContext], Awaitable[None]]


@dataclass
class Module:
    """A module's table of contents: what it declares, what it serves, how it seeds."""

    id: str
    title: str
    description: str = ""
    features: list[Feature] = field(default_factory=list)
    events: list[EventDecl] = field(default_factory=list)
    # role name -> granted features (wildcards allowed), merged across modules by `mercato init`
    default_grants: dict[str, list[str]] = field(default_factory=dict)
    routers: Callable[[], list[APIRouter]] | None = None
    models: str | None = None  # dotted module path imported so its tables are registered
    setup: SetupHook | None = None  # tenant defaults
    demo: SetupHook | None = None  # demo data (after every module's setup ran)
    providers: dict[str, Any] = field(default_factory=dict)  # kernel extension points (identity, acl, ...)
    order: int = 100  # setup order

    def __post_init__(self) -> None:
        self.features = [f if f.module else Feature(f.id, f.title, self.id) for f in self.features]


class Registry:
    def __init__(self, modules: list[Module]) -> None:
        self.modules = modules
        self.by_id = {m.id: m for m in modules}

    @classmethod
    def load(cls, module_ids: list[str]) -> Registry:
        modules = []
        for mid in module_ids:
            try:
                pkg = importlib.import_module(f"mercato.modules.{mid}")
            except ModuleNotFoundError as exc:
                if exc.name and exc.name.startswith(f"mercato.modules.{mid}"):
                    continue  # not built yet / not installed
                raise
            module: Module = pkg.module
            if module.models:
                importlib.import_module(module.models)
            modules.append(module)
        return cls(modules)

    @property
    def enabled_ids(self) -> set[str]:
        return set(self.by_id)

    def features(self) -> list[Feature]:
        return [f for m in self.modules for f in m.features]

    def feature_owner(self) -> dict[str, str]:
        return {f.id: f.module for f in self.features()}

    def default_grants(self) -> dict[str, list[str]]:
        merged: dict[str, list[str]] = {}
        for m in self.modules:
            for role, feats in m.default_grants.items():
                bucket = merged.setdefault(role, [])
                bucket.extend(f for f in feats if f not in bucket)
        return merged

    def provider(self, name: str) -> Any:
        for m in self.modules:
            if name in m.providers:
                return m.providers[name]
        return None

    def events(self) -> list[tuple[Module, EventDecl]]:
        return [(m, e) for m in self.modules for e in m.events]
