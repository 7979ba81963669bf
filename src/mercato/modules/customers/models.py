"""Tables of the customers CRM core (names and columns per customers-core contract §2)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.db import Base, utcnow

ACTIVE = text("deleted_at IS NULL")


def _fk(target: str, on_delete: str | None = None) -> ForeignKey:
    return ForeignKey(target, onupdate="CASCADE", ondelete=on_delete)


class _Scoped:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID]
    tenant_id: Mapped[uuid.UUID]


class _Stamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerEntity(_Scoped, _Stamped, Base):
    """People and companies (`kind`), each with exactly one profile row."""

    __tablename__ = "customer_entities"
    __table_args__ = (
        Index("customer_entities_org_tenant_kind_idx", "organization_id", "tenant_id", "kind"),
        Index("customer_entities_tenant_org_id_idx", "tenant_id", "organization_id", "id", postgresql_where=ACTIVE,
              sqlite_where=ACTIVE),
    )

    kind: Mapped[str]
    display_name: Mapped[str]
    description: Mapped[str | None] = mapped_column(default=None)
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    primary_email: Mapped[str | None] = mapped_column(default=None)
    primary_phone: Mapped[str | None] = mapped_column(default=None)
    status: Mapped[str | None] = mapped_column(default=None)
    lifecycle_stage: Mapped[str | None] = mapped_column(default=None)
    source: Mapped[str | None] = mapped_column(default=None)
    temperature: Mapped[str | None] = mapped_column(default=None)
    renewal_quarter: Mapped[str | None] = mapped_column(default=None)
    next_interaction_at: Mapped[datetime | None] = mapped_column(default=None)
    next_interaction_name: Mapped[str | None] = mapped_column(default=None)
    next_interaction_ref_id: Mapped[str | None] = mapped_column(default=None)
    next_interaction_icon: Mapped[str | None] = mapped_column(default=None)
    next_interaction_color: Mapped[str | None] = mapped_column(default=None)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class CustomerPerson(_Scoped, _Stamped, Base):
    __tablename__ = "customer_people"
    __table_args__ = (Index("customer_people_org_tenant_idx", "organization_id", "tenant_id"),)

    entity_id: Mapped[uuid.UUID] = mapped_column(_fk("customer_entities.id"), unique=True, index=True)
    first_name: Mapped[str | None] = mapped_column(default=None)
    last_name: Mapped[str | None] = mapped_column(default=None)
    preferred_name: Mapped[str | None] = mapped_column(default=None)
    job_title: Mapped[str | None] = mapped_column(default=None)
    department: Mapped[str | None] = mapped_column(default=None)
    seniority: Mapped[str | None] = mapped_column(default=None)
    timezone: Mapped[str | None] = mapped_column(default=None)
    linked_in_url: Mapped[str | None] = mapped_column(default=None)
    twitter_url: Mapped[str | None] = mapped_column(default=None)
    company_entity_id: Mapped[uuid.UUID | None] = mapped_column(_fk("customer_entities.id", "SET NULL"), default=None)


class CustomerCompany(_Scoped, _Stamped, Base):
    __tablename__ = "customer_companies"
    __table_args__ = (Index("customer_companies_org_tenant_idx", "organization_id", "tenant_id"),)

    entity_id: Mapped[uuid.UUID] = mapped_column(_fk("customer_entities.id"), unique=True)
    legal_name: Mapped[str | None] = mapped_column(default=None)
    brand_name: Mapped[str | None] = mapped_column(default=None)
    domain: Mapped[str | None] = mapped_column(default=None)
    website_url: Mapped[str | None] = mapped_column(default=None)
    industry: Mapped[str | None] = mapped_column(default=None)
    size_bucket: Mapped[str | None] = mapped_column(default=None)
    annual_revenue: Mapped[Decimal | None] = mapped_column(Numeric(16, 2), default=None)


class CustomerPersonCompanyLink(_Scoped, _Stamped, Base):
    __tablename__ = "customer_person_company_links"
    __table_args__ = (
        Index("customer_person_company_links_active_unique", "person_entity_id", "company_entity_id", unique=True,
              postgresql_where=ACTIVE, sqlite_where=ACTIVE),
        Index("customer_person_company_links_org_tenant_idx", "organization_id", "tenant_id"),
    )

    person_entity_id: Mapped[uuid.UUID] = mapped_column(_fk("customer_entities.id"), index=True)
    company_entity_id: Mapped[uuid.UUID] = mapped_column(_fk("customer_entities.id"), index=True)
    is_primary: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class CustomerPersonCompanyRole(_Scoped, Base):
    __tablename__ = "customer_person_company_roles"
    __table_args__ = (UniqueConstraint("person_entity_id", "company_entity_id", "role_value"),)

    person_entity_id: Mapped[uuid.UUID] = mapped_column(_fk("customer_entities.id"))
    company_entity_id: Mapped[uuid.UUID] = mapped_column(_fk("customer_entities.id"))
    role_value: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerCompanyBilling(_Scoped, _Stamped, Base):
    __tablename__ = "customer_company_billing"

    entity_id: Mapped[uuid.UUID] = mapped_column(_fk("customer_entities.id"), unique=True)
    bank_name: Mapped[str | None] = mapped_column(default=None)
    bank_account_masked: Mapped[str | None] = mapped_column(default=None)
    payment_terms: Mapped[str | None] = mapped_column(default=None)
    preferred_currency: Mapped[str | None] = mapped_column(default=None)


class CustomerDeal(_Scoped, _Stamped, Base):
    __tablename__ = "customer_deals"
    __table_args__ = (
        Index("customer_deals_org_tenant_idx", "organization_id", "tenant_id"),
        Index("customer_deals_closure_stats_idx", "organization_id", "tenant_id", "closure_outcome", "updated_at"),
    )

    title: Mapped[str]
    description: Mapped[str | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(default="open", server_default=text("'open'"))
    pipeline_stage: Mapped[str | None] = mapped_column(default=None)
    pipeline_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    pipeline_stage_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    value_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), default=None)
    value_currency: Mapped[str | None] = mapped_column(default=None)
    probability: Mapped[int | None] = mapped_column(default=None)
    expected_close_at: Mapped[datetime | None] = mapped_column(default=None)
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    source: Mapped[str | None] = mapped_column(default=None)
    closure_outcome: Mapped[str | None] = mapped_column(default=None)
    loss_reason_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    loss_notes: Mapped[str | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class CustomerDealPerson(Base):
    """No tenant columns: scoped through the owning deal."""

    __tablename__ = "customer_deal_people"
    __table_args__ = (UniqueConstraint("deal_id", "person_entity_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    deal_id: Mapped[uuid.UUID] = mapped_column(_fk("customer_deals.id"), index=True)
    person_entity_id: Mapped[uuid.UUID] = mapped_column(_fk("customer_entities.id"), index=True)
    role: Mapped[str | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerDealCompany(Base):
    __tablename__ = "customer_deal_companies"
    __table_args__ = (UniqueConstraint("deal_id", "company_entity_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    deal_id: Mapped[uuid.UUID] = mapped_column(_fk("customer_deals.id"), index=True)
    company_entity_id: Mapped[uuid.UUID] = mapped_column(_fk("customer_entities.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerDealStageTransition(_Scoped, _Stamped, Base):
    __tablename__ = "customer_deal_stage_transitions"
    __table_args__ = (UniqueConstraint("deal_id", "stage_id"),)

    deal_id: Mapped[uuid.UUID] = mapped_column(_fk("customer_deals.id"), index=True)
    pipeline_id: Mapped[uuid.UUID]
    stage_id: Mapped[uuid.UUID]
    stage_label: Mapped[str]
    stage_order: Mapped[int]
    transitioned_at: Mapped[datetime] = mapped_column(default=utcnow)
    transitioned_by_user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class CustomerPipeline(_Scoped, _Stamped, Base):
    __tablename__ = "customer_pipelines"
    __table_args__ = (Index("customer_pipelines_org_tenant_idx", "organization_id", "tenant_id"),)

    name: Mapped[str]
    is_default: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class CustomerPipelineStage(_Scoped, _Stamped, Base):
    __tablename__ = "customer_pipeline_stages"
    __table_args__ = (
        Index("customer_pipeline_stages_pipeline_position_idx", "pipeline_id", "position"),
        Index("customer_pipeline_stages_org_tenant_idx", "organization_id", "tenant_id"),
    )

    pipeline_id: Mapped[uuid.UUID]
    name: Mapped[str]
    position: Mapped[int] = mapped_column(default=0, server_default=text("0"))


class CustomerTag(_Scoped, _Stamped, Base):
    __tablename__ = "customer_tags"
    __table_args__ = (UniqueConstraint("organization_id", "tenant_id", "slug"),)

    slug: Mapped[str]
    label: Mapped[str]
    color: Mapped[str | None] = mapped_column(default=None)
    description: Mapped[str | None] = mapped_column(default=None)


class CustomerTagAssignment(_Scoped, Base):
    __tablename__ = "customer_tag_assignments"
    __table_args__ = (UniqueConstraint("tag_id", "entity_id"),)

    tag_id: Mapped[uuid.UUID] = mapped_column(_fk("customer_tags.id"), index=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(_fk("customer_entities.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerDictionaryEntry(_Scoped, _Stamped, Base):
    __tablename__ = "customer_dictionary_entries"
    __table_args__ = (UniqueConstraint("organization_id", "tenant_id", "kind", "normalized_value"),)

    kind: Mapped[str]
    value: Mapped[str]
    normalized_value: Mapped[str]
    label: Mapped[str]
    color: Mapped[str | None] = mapped_column(default=None)
    icon: Mapped[str | None] = mapped_column(default=None)


class CustomerSettings(_Scoped, _Stamped, Base):
    __tablename__ = "customer_settings"
    __table_args__ = (UniqueConstraint("organization_id", "tenant_id"),)

    stuck_threshold_days: Mapped[int] = mapped_column(default=14, server_default=text("14"))
