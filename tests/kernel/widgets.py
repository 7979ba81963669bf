"""A tiny test-only module: table `test_widgets`, its entity commands and a declared CRUD resource."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.crud import CrudResource, Filter
from mercato.kernel.db import Base, IdMixin, OrgMixin, SoftDeleteMixin, TenantMixin, TimestampMixin
from mercato.kernel.entity_commands import EntityCommands
from mercato.kernel.errors import ApiError
from mercato.kernel.module import Feature, Module
from mercato.kernel.routing import ModuleRouter
from tests.kernel.fake_providers import FakeCustomFields, FakeQueryIndex


class Widget(IdMixin, TenantMixin, OrgMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "test_widgets"

    name: Mapped[str] = mapped_column(Text)
    color: Mapped[str | None] = mapped_column(Text, default=None)
    size: Mapped[int | None] = mapped_column(default=None)
    is_active: Mapped[bool] = mapped_column(default=True)
    released_at: Mapped[datetime | None] = mapped_column(default=None)


class WidgetCreate(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    name: str = Field(min_length=1, max_length=200)
    color: str | None = None
    size: int | None = Field(None, ge=0)
    is_active: bool = Field(True, alias="isActive")


class WidgetUpdate(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    name: str | None = Field(None, min_length=1, max_length=200)
    color: str | None = None
    size: int | None = Field(None, ge=0)
    is_active: bool | None = Field(None, alias="isActive")


async def check_reserved_name(rt, row, body, verb) -> None:  # noqa: ANN001
    if row.name == "reserved":
        raise ApiError(409, "Widget name is reserved")


widget_commands = EntityCommands(
    model=Widget, prefix="test_widgets.widgets", resource_kind="test_widgets.widget", label="widget",
    create_schema=WidgetCreate, update_schema=WidgetUpdate, events="test_widgets.widget",
    entity_id="test_widgets:widget", on_write=check_reserved_name,
)

widgets = CrudResource(
    path="/test_widgets/widgets", model=Widget, resource_kind="test_widgets.widget", commands=widget_commands,
    create_schema=WidgetCreate, update_schema=WidgetUpdate,
    list_fields=["id", "name", "color", "size", "is_active", "organization_id", "tenant_id", "created_at", "updated_at",
                 "deleted_at"],
    filters=[Filter("color"), Filter("minSize", "size", "gte"), Filter("isActive", "is_active", "bool")],
    sort={"name": "name", "size": "size", "createdAt": "created_at"}, search=["name", "color"],
    view=["test_widgets.view"], manage=["test_widgets.manage"], entity_id="test_widgets:widget",
)

# a read-only resource: unconfigured methods answer 501
widget_views = CrudResource(
    path="/test_widgets/widget-views", model=Widget, resource_kind="test_widgets.widget_view",
    list_fields=["id", "name"], view=["test_widgets.view"], access_log=False,
)

router = ModuleRouter("Test Widgets")
widgets.mount(router)
widget_views.mount(router)
custom_fields = FakeCustomFields()
query_index = FakeQueryIndex()

module = Module(
    id="test_widgets", title="Test widgets",
    features=[Feature("test_widgets.view", "View widgets"), Feature("test_widgets.manage", "Manage widgets")],
    default_grants={"admin": ["test_widgets.*"], "employee": ["test_widgets.view"]},
    routers=lambda: [router],
    providers={"custom_fields": custom_fields, "query_index": query_index},
)
