"""HTTP endpoints of the directory module."""

from __future__ import annotations

from mercato.kernel.routing import ModuleRouter

router = ModuleRouter("Directory (Tenants & Organizations)")
