"""The declared-event catalogue: every enabled module's `events`, in registration order, unique by id."""

from __future__ import annotations

from typing import Any

CRUD_ACTIONS = ("created", "updated", "deleted")


def catalog_entries(registry: Any) -> list[dict[str, Any]]:
    seen: set[str] = set()
    entries: list[dict[str, Any]] = []
    for module, decl in registry.events():
        if decl.id in seen:
            continue
        seen.add(decl.id)
        entry: dict[str, Any] = {"id": decl.id, "label": decl.label or _label_of(decl.id)}
        if decl.description:
            entry["description"] = decl.description
        # conventional CRUD events are `crud` even when the declaration leaves the category out
        category = decl.category or ("crud" if decl.entity and decl.id.rsplit(".", 1)[-1] in CRUD_ACTIONS else None)
        if category:
            entry["category"] = category
        entry["module"] = module.id
        if decl.entity:
            entry["entity"] = decl.entity
        if decl.exclude_from_triggers:
            entry["excludeFromTriggers"] = True
        if decl.client_broadcast:
            entry["clientBroadcast"] = True
        if decl.portal_broadcast:
            entry["portalBroadcast"] = True
        entries.append(entry)
    return entries


def _label_of(event_id: str) -> str:
    parts = event_id.split(".")[1:] or [event_id]
    return " ".join(p.replace("_", " ").capitalize() for p in parts)


def filter_catalog(
    entries: list[dict[str, Any]], category: str | None, module: str | None, exclude_trigger_excluded: bool,
) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        if exclude_trigger_excluded and e.get("excludeFromTriggers"):
            continue
        if category is not None and e.get("category") != category:
            continue
        if module is not None and e.get("module") != module:
            continue
        out.append(e)
    return out


def install_catalog(app: Any) -> None:
    """Built once at start-up; tells the bus which events are pushed to browsers."""
    entries = catalog_entries(app.state.registry)
    app.state.event_catalog = entries
    app.state.events.declare_broadcast(e["id"] for e in entries if e.get("clientBroadcast"))
