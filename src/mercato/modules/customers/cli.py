"""`mercato import customers FILE.csv --kind person|company`: CSV import through the same commands as the API.

Common CRM export headers (HubSpot, Salesforce, Pipedrive, generic) are mapped to the API fields; every row is
validated first, rejected rows are reported with their reasons, the rest are created one command (and one
transaction) per row, so a failing row never undoes the others.
"""

from __future__ import annotations

import asyncio
import csv
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

app = typer.Typer(help="Import data into the customers module.", no_args_is_help=True)
console = Console()


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


COMMON = {
    "email": "primaryEmail", "emailaddress": "primaryEmail", "primaryemail": "primaryEmail", "workemail": "primaryEmail",
    "phone": "primaryPhone", "phonenumber": "primaryPhone", "primaryphone": "primaryPhone", "mobile": "primaryPhone",
    "mobilephone": "primaryPhone", "workphone": "primaryPhone",
    "status": "status", "leadstatus": "status", "lifecyclestage": "lifecycleStage", "lifecycle": "lifecycleStage",
    "source": "source", "leadsource": "source", "originalsource": "source",
    "description": "description", "notes": "description", "note": "description",
}
PERSON = {
    **COMMON, "firstname": "firstName", "givenname": "firstName", "first": "firstName",
    "lastname": "lastName", "surname": "lastName", "familyname": "lastName", "last": "lastName",
    "name": "displayName", "fullname": "displayName", "displayname": "displayName", "contactname": "displayName",
    "jobtitle": "jobTitle", "title": "jobTitle", "position": "jobTitle", "department": "department",
    "seniority": "seniority", "timezone": "timezone", "linkedin": "linkedInUrl", "linkedinurl": "linkedInUrl",
    "twitter": "twitterUrl", "twitterurl": "twitterUrl", "company": "_company", "companyname": "_company",
    "account": "_company", "accountname": "_company", "organization": "_company",
}
COMPANY = {
    **COMMON, "name": "displayName", "companyname": "displayName", "company": "displayName", "accountname": "displayName",
    "organization": "displayName", "organizationname": "displayName", "displayname": "displayName",
    "legalname": "legalName", "brandname": "brandName", "domain": "domain", "companydomainname": "domain",
    "website": "websiteUrl", "websiteurl": "websiteUrl", "url": "websiteUrl", "industry": "industry",
    "size": "sizeBucket", "employees": "sizeBucket", "numberofemployees": "sizeBucket", "companysize": "sizeBucket",
    "annualrevenue": "annualRevenue", "revenue": "annualRevenue",
}


@dataclass
class Row:
    line: int
    body: dict[str, Any]
    company_name: str | None = None
    errors: list[str] = field(default_factory=list)


def map_row(raw: dict[str, str], kind: str) -> tuple[dict[str, Any], str | None]:
    mapping = PERSON if kind == "person" else COMPANY
    body: dict[str, Any] = {}
    company = None
    for header, value in raw.items():
        if header is None:
            continue
        value = (value or "").strip()
        target = mapping.get(_norm(header))
        if not value or target is None:
            continue
        if target == "_company":
            company = value
        elif target not in body:
            body[target] = value
    if kind == "person" and body.get("displayName") and not (body.get("firstName") and body.get("lastName")):
        first, _, last = body["displayName"].partition(" ")
        body.setdefault("firstName", first)
        body.setdefault("lastName", last or first)
    if kind == "company" and isinstance(body.get("annualRevenue"), str):
        body["annualRevenue"] = re.sub(r"[^\d.]", "", body["annualRevenue"]) or None
    return body, company


def validate(rows: list[Row], kind: str) -> None:
    from mercato.modules.customers.schemas import CompanyWrite, PersonWrite

    schema = PersonWrite if kind == "person" else CompanyWrite
    required = ("firstName", "lastName") if kind == "person" else ("displayName",)
    for row in rows:
        missing = [f for f in required if not row.body.get(f)]
        if missing:
            row.errors.append("missing " + ", ".join(missing))
            continue
        try:
            schema.model_validate(row.body)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "row"
                row.errors.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")


async def _resolve_scope(app_: Any, tenant_name: str, org_id: str | None) -> tuple[uuid.UUID, uuid.UUID]:
    from sqlalchemy import Uuid, bindparam, text

    async with app_.state.db.sessionmaker() as session:
        tenant = (await session.execute(text("SELECT id FROM tenants WHERE name = :n AND deleted_at IS NULL"),
                                        {"n": tenant_name})).scalar()
        if tenant is None:
            raise typer.BadParameter(f"tenant {tenant_name!r} not found")
        tenant = tenant if isinstance(tenant, uuid.UUID) else uuid.UUID(str(tenant))
        stmt = text("SELECT id FROM organizations WHERE tenant_id = :t AND deleted_at IS NULL "
                    + ("AND id = :o" if org_id else "AND parent_id IS NULL") + " ORDER BY created_at LIMIT 1")
        params: dict[str, Any] = {"t": tenant}
        binds = [bindparam("t", type_=Uuid())]
        if org_id:
            params["o"] = uuid.UUID(org_id)
            binds.append(bindparam("o", type_=Uuid()))
        org = (await session.execute(stmt.bindparams(*binds), params)).scalar()
        if org is None:
            raise typer.BadParameter("organization not found")
        return tenant, org if isinstance(org, uuid.UUID) else uuid.UUID(str(org))


async def import_rows(rows: list[Row], kind: str, tenant_name: str, org_id: str | None,
                      settings: Any = None) -> tuple[int, list[Row]]:
    from sqlalchemy import func, select

    from mercato.kernel.app import create_app
    from mercato.kernel.commands import CommandRuntime, execute_command
    from mercato.kernel.errors import ApiError
    from mercato.modules.customers.commands import COMPANY_COMMANDS, PEOPLE_COMMANDS
    from mercato.modules.customers.models import CustomerEntity
    from mercato.modules.customers.service.bulk import JobContext

    application = create_app(settings)
    imported, failed = 0, []
    try:
        tenant, org = await _resolve_scope(application, tenant_name, org_id)
        command = (PEOPLE_COMMANDS if kind == "person" else COMPANY_COMMANDS)["create"]
        columns = [TextColumn("[bold]importing {task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"{kind} rows", total=len(rows))
            for row in rows:
                try:
                    async with application.state.db.sessionmaker() as session, session.begin():
                        body = dict(row.body, organizationId=str(org))
                        if row.company_name:
                            company = (await session.execute(select(CustomerEntity.id).where(
                                CustomerEntity.tenant_id == tenant, CustomerEntity.organization_id == org,
                                CustomerEntity.kind == "company", CustomerEntity.deleted_at.is_(None),
                                func.lower(CustomerEntity.display_name) == row.company_name.lower()).limit(1))).scalar()
                            if company:
                                body["companyEntityId"] = str(company)
                        ctx = JobContext(application, session, tenant, org)
                        rt = CommandRuntime(session=session, tenant_id=tenant, organization_id=org, actor_user_id=None,
                                            organization_ids=[org], app=application, request=ctx)  # type: ignore[arg-type]
                        await execute_command(rt, command, body)
                    imported += 1
                except ApiError as exc:
                    row.errors.append(str(exc.body.get("error")) + (f" {exc.body.get('fields')}" if exc.body.get("fields") else ""))
                    failed.append(row)
                progress.advance(task)
    finally:
        await application.state.db.dispose()
    return imported, failed


def report(rejected: list[Row]) -> None:
    if not rejected:
        return
    table = Table(title=f"Rejected rows ({len(rejected)})")
    table.add_column("line", justify="right")
    table.add_column("reason")
    for row in rejected:
        table.add_row(str(row.line), "; ".join(row.errors))
    console.print(table)


@app.callback()
def _group() -> None:
    """Import data into the customers module (`import customers FILE --kind person|company`)."""


def read_rows(file: Path, kind: str) -> list[Row]:
    with file.open(newline="", encoding="utf-8-sig") as fh:
        rows = [Row(line, *map_row(raw, kind)) for line, raw in enumerate(csv.DictReader(fh), start=2)]
    validate(rows, kind)
    return rows


@app.command("customers")
def import_customers(
    file: Path = typer.Argument(..., exists=True, readable=True, help="CSV file (header row required)."),  # noqa: B008
    kind: str = typer.Option(..., "--kind", help="person | company"),
    tenant: str = typer.Option("Acme Corp", "--tenant", help="Tenant name."),
    organization: str = typer.Option(None, "--organization-id", help="Target organization (default: root)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate only."),
) -> None:
    """Import people or companies from a CRM export."""
    if kind not in ("person", "company"):
        raise typer.BadParameter("--kind must be person or company")
    rows = read_rows(file, kind)
    valid = [r for r in rows if not r.errors]
    rejected = [r for r in rows if r.errors]
    console.print(f"{len(rows)} rows read: {len(valid)} valid, {len(rejected)} rejected")
    imported, failed = (0, []) if dry_run or not valid else asyncio.run(import_rows(valid, kind, tenant, organization))
    report(sorted(rejected + failed, key=lambda r: r.line))
    console.print(f"[green]{imported} imported[/green], [red]{len(rejected) + len(failed)} rejected[/red]")
    if rejected or failed:
        raise typer.Exit(code=1 if not imported and not dry_run else 0)
