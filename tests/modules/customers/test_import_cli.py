"""`mercato import customers FILE.csv --kind person|company`."""

from __future__ import annotations

from pathlib import Path

from mercato.modules.customers.cli import import_rows, read_rows
from tests.modules.customers.helpers import uniq


async def test_import_people_and_companies(admin, settings, tmp_path: Path) -> None:  # noqa: ANN001
    company = uniq("Imported Co")
    companies = tmp_path / "companies.csv"
    companies.write_text(f"Company Name,Website,Industry,Annual Revenue\n{company},https://imp.example,Retail,\"$1,200\"\n"
                         ",https://nameless.example,Retail,\n")
    rows = read_rows(companies, "company")
    assert [r.errors for r in rows] == [[], ["missing displayName"]]
    imported, failed = await import_rows([r for r in rows if not r.errors], "company", "Acme Corp", None, settings)
    assert (imported, failed) == (1, [])
    last = uniq("Imported").split()[1]
    people = tmp_path / "people.csv"
    people.write_text("First Name,Last Name,Email Address,Phone Number,Company Name\n"
                      f"Grace,H{last},grace.{last}@example.com,+1 202 555 0199,{company}\n"
                      "Alan,Turing,not-an-email,,\n")
    rows = read_rows(people, "person")
    assert rows[0].errors == [] and rows[1].errors == ["primaryEmail: Invalid email address"]
    imported, failed = await import_rows([rows[0]], "person", "Acme Corp", None, settings)
    assert imported == 1
    found = (await admin.get("/api/customers/people", params={"email": f"grace.{last}@example.com"})).json()["items"]
    assert len(found) == 1 and found[0]["company_entity_id"] is not None
    listed = (await admin.get("/api/customers/companies", params={"search": company})).json()["items"]
    assert listed[0]["annual_revenue"] == "1200.00" and listed[0]["industry"] == "Retail"
