"""Request context: who is calling, in which tenant/organization, with which features.

The kernel knows no module: identity, ACL loading and organization scope are providers that modules
register in their manifests (`providers={"identity": ..., "acl": ..., "org_scope": ...}`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import cache
from mercato.kernel.errors import ApiError
from mercato.kernel.rbac import Acl, acl_allows, granted_features

if TYPE_CHECKING:
    from mercato.kernel.module import Registry
    from mercato.kernel.settings import Settings

SELECTED_TENANT_COOKIE = "om_selected_tenant"
SELECTED_ORG_COOKIE = "om_selected_org"


@dataclass
class AuthInfo:
    sub: str
    tenant_id: uuid.UUID | None
    org_id: uuid.UUID | None
    email: str | None = None
    roles: list[str] = field(default_factory=list)
    is_super_admin: bool = False
    sid: str | None = None
    actor_tenant_id: uuid.UUID | None = None
    actor_org_id: uuid.UUID | None = None
    is_api_key: bool = False
    user_id: uuid.UUID | None = None  # the human user behind the principal (owner of an API key)

    @property
    def user_uuid(self) -> uuid.UUID | None:
        if self.user_id:
            return self.user_id
        try:
            return uuid.UUID(self.sub)
        except ValueError:
            return None


@dataclass
class IdentityResult:
    auth: AuthInfo | None
    status: str = "none"  # none | ok | invalid


@dataclass
class OrganizationScope:
    selected_id: uuid.UUID | None = None
    filter_ids: list[uuid.UUID] | None = None
    allowed_ids: list[uuid.UUID] | None = None
    tenant_id: uuid.UUID | None = None
    selection_rejected: bool = False

    @property
    def organization_ids(self) -> list[uuid.UUID] | None:
        """Org predicate for list queries: None = no predicate, [] = nothing visible."""
        if self.filter_ids:
            return self.filter_ids
        if self.filter_ids is None and self.allowed_ids is None:
            return None
        return self.allowed_ids if self.allowed_ids is not None else []


IdentityProvider = Callable[[Request, AsyncSession], Awaitable[IdentityResult]]
AclProvider = Callable[[AsyncSession, AuthInfo, uuid.UUID | None, uuid.UUID | None], Awaitable[Acl]]
ScopeProvider = Callable[["RequestContext", uuid.UUID | str | None], Awaitable[OrganizationScope]]


def parse_uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except (ValueError, AttributeError):
        return None


class RequestContext:
    """Everything a handler needs about the caller, memoized per request."""

    def __init__(self, request: Request, session: AsyncSession, auth: AuthInfo | None) -> None:
        self.request = request
        self.session = session
        self.auth = auth
        self._acl: dict[tuple, Acl] = {}
        self._scope: dict[Any, OrganizationScope] = {}

    # -- app services -------------------------------------------------------------------------------
    @property
    def app(self) -> Any:
        return self.request.app

    @property
    def registry(self) -> Registry:
        return self.request.app.state.registry

    @property
    def settings(self) -> Settings:
        return self.request.app.state.settings

    @property
    def services(self) -> Any:
        return self.request.app.state

    # -- identity -----------------------------------------------------------------------------------
    @property
    def tenant_id(self) -> uuid.UUID | None:
        return self.auth.tenant_id if self.auth else None

    @property
    def org_id(self) -> uuid.UUID | None:
        return self.auth.org_id if self.auth else None

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.auth.user_uuid if self.auth else None

    @property
    def is_super_admin(self) -> bool:
        return bool(self.auth and self.auth.is_super_admin)

    def require_auth(self) -> AuthInfo:
        if not self.auth:
            raise ApiError(401, "Unauthorized")
        return self.auth

    def require_tenant(self) -> uuid.UUID:
        tenant = self.tenant_id
        if tenant is None:
            raise ApiError(400, "Tenant context is required")
        return tenant

    # -- authorization ------------------------------------------------------------------------------
    async def acl(self, tenant_id: uuid.UUID | None = None, org_id: uuid.UUID | None = None) -> Acl:
        if not self.auth:
            return Acl()
        tenant = tenant_id or self.tenant_id
        key = (tenant, org_id)
        if key not in self._acl:
            provider: AclProvider | None = self.registry.provider("acl")
            if provider is None:
                self._acl[key] = Acl(is_super_admin=self.auth.is_super_admin, features=["*"] if self.auth.is_super_admin else [])
            else:
                self._acl[key] = await provider(self.session, self.auth, tenant, org_id)
        return self._acl[key]

    def requested_org(self) -> str | None:
        raw = self.request.cookies.get(SELECTED_ORG_COOKIE)
        return raw.strip() if raw else None

    async def scope(self, requested: uuid.UUID | str | None = None) -> OrganizationScope:
        req = requested if requested is not None else self.requested_org()
        if req not in self._scope:
            provider: ScopeProvider | None = self.registry.provider("org_scope")
            if provider is None or not self.auth:
                self._scope[req] = OrganizationScope(tenant_id=self.tenant_id)
            else:
                self._scope[req] = await provider(self, req)
        return self._scope[req]

    async def feature_org(self) -> uuid.UUID | None:
        scope = await self.scope()
        if scope.selected_id:
            return scope.selected_id
        if self.org_id and (scope.allowed_ids is None or self.org_id in scope.allowed_ids):
            return self.org_id
        if scope.allowed_ids:
            return scope.allowed_ids[0]
        return None

    async def has_features(self, required: list[str] | tuple[str, ...], org_id: uuid.UUID | None = None) -> bool:
        if not required:
            return True
        if not self.auth:
            return False
        org = org_id if org_id is not None else await self.feature_org()
        acl = await self.acl(self.tenant_id, org)
        reg = self.registry
        return acl_allows(acl, required, str(org) if org else None, reg.feature_owner(), reg.enabled_ids)

    async def granted_features(self) -> list[str]:
        if not self.auth:
            return []
        org = await self.feature_org()
        acl = await self.acl(self.tenant_id, org)
        if not acl.is_super_admin and not acl.org_allowed(str(org) if org else None):
            return []
        return granted_features(acl, self.registry.feature_owner(), self.registry.enabled_ids)

    async def flag(self, identifier: str, default: bool = False) -> bool:
        """A boolean feature toggle for the caller's tenant (provider `feature_flags`); `default` when unknown."""
        provider = self.registry.provider("feature_flags")
        if provider is None or self.tenant_id is None:
            return default
        value = await provider(self.session, identifier, self.tenant_id)
        return default if value is None else bool(value)

    async def require_features(self, *required: str) -> None:
        if not await self.has_features(list(required)):
            raise ApiError(403, "Forbidden", requiredFeatures=list(required))


# -- FastAPI dependencies ---------------------------------------------------------------------------


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the handler returns, rolled back when it raises."""
    async with request.app.state.db.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


Session = Annotated[AsyncSession, Depends(db_session, scope="function")]


async def resolve_identity(request: Request, session: AsyncSession) -> IdentityResult:
    cached = getattr(request.state, "identity", None)
    if cached is not None:
        return cached
    provider: IdentityProvider | None = request.app.state.registry.provider("identity")
    result = await provider(request, session) if provider else IdentityResult(None)
    request.state.identity = result
    return result


async def get_context(request: Request, session: Session) -> RequestContext:
    ctx = getattr(request.state, "ctx", None)
    if ctx is None:
        await cache.start_request(session)
        identity = await resolve_identity(request, session)
        ctx = RequestContext(request, session, identity.auth)
        request.state.ctx = ctx
    return ctx


Ctx = Annotated[RequestContext, Depends(get_context)]
