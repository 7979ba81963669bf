"""Feature matching (wildcards), enabled-module filtering and the ACL value object."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

ALL_ORGS = "__all__"


def feature_matches(granted: str, required: str) -> bool:
    if granted == "*" or granted == required:
        return True
    if granted.endswith(".*"):
        prefix = granted[:-2]
        return required == prefix or required.startswith(prefix + ".")
    return False


def has_all(required: Iterable[str], granted: Iterable[str]) -> bool:
    req = list(required)
    if not req:
        return True
    grants = list(granted)
    if not grants:
        return False
    return all(any(feature_matches(g, r) for g in grants) for r in req)


def owning_module(feature: str, owners: dict[str, str]) -> str:
    if feature in owners:
        return owners[feature]
    base = feature[:-2] if feature.endswith(".*") else feature
    if base in owners:
        return owners[base]
    prefix = base.split(".", 1)[0]
    for fid, mod in owners.items():
        if fid.split(".", 1)[0] == prefix:
            return mod
    return prefix


def filter_enabled(grants: Iterable[str], owners: dict[str, str], enabled: set[str]) -> list[str]:
    """Drop grants of disabled modules; expand `*` into one `<prefix>.*` per enabled feature prefix."""
    out: list[str] = []
    for g in grants:
        if g == "*":
            prefixes: list[str] = []
            for fid, mod in owners.items():
                p = fid.split(".", 1)[0]
                if mod in enabled and p not in prefixes:
                    prefixes.append(p)
            for m in sorted(enabled):
                if m not in prefixes:
                    prefixes.append(m)
            out.extend(f"{p}.*" for p in prefixes if f"{p}.*" not in out)
        elif owning_module(g, owners) in enabled and g not in out:
            out.append(g)
    return out


@dataclass
class Acl:
    is_super_admin: bool = False
    features: list[str] = field(default_factory=list)
    organizations: list[str] | None = None  # None = unrestricted

    def org_allowed(self, organization_id: str | None) -> bool:
        if self.organizations is None or organization_id is None:
            return True
        return organization_id in self.organizations or ALL_ORGS in self.organizations


def acl_allows(
    acl: Acl, required: Iterable[str], organization_id: str | None, owners: dict[str, str], enabled: set[str]
) -> bool:
    req = list(required)
    if not req:
        return True
    if acl.is_super_admin:
        return all(owning_module(r, owners) in enabled for r in req)
    if not acl.org_allowed(organization_id):
        return False
    return has_all(req, filter_enabled(acl.features, owners, enabled))


def granted_features(acl: Acl, owners: dict[str, str], enabled: set[str]) -> list[str]:
    if acl.is_super_admin:
        return filter_enabled(["*"], owners, enabled)
    return filter_enabled(acl.features, owners, enabled)
