"""Every timeline endpoint rejects anonymous callers; manage endpoints reject employees without the feature."""

from __future__ import annotations

import pytest

PID = "6f1c1a8e-0000-4000-8000-000000000000"
ENDPOINTS = [
    ("get", "/api/customers/activities"), ("post", "/api/customers/activities"), ("put", "/api/customers/activities"),
    ("delete", "/api/customers/activities"), ("get", "/api/customers/interactions"),
    ("post", "/api/customers/interactions"), ("put", "/api/customers/interactions"),
    ("delete", "/api/customers/interactions"), ("post", "/api/customers/interactions/complete"),
    ("post", "/api/customers/interactions/cancel"), ("get", "/api/customers/interactions/conflicts"),
    ("get", "/api/customers/interactions/counts"), ("get", "/api/customers/interactions/tasks"),
    ("patch", f"/api/customers/interactions/{PID}/visibility"), ("get", "/api/customers/comments"),
    ("post", "/api/customers/comments"), ("put", "/api/customers/comments"), ("delete", "/api/customers/comments"),
    ("get", "/api/customers/addresses"), ("post", "/api/customers/addresses"), ("put", "/api/customers/addresses"),
    ("delete", "/api/customers/addresses"), ("get", "/api/customers/tags"), ("post", "/api/customers/tags"),
    ("put", "/api/customers/tags"), ("delete", "/api/customers/tags"), ("post", "/api/customers/tags/assign"),
    ("post", "/api/customers/tags/unassign"), ("get", "/api/customers/labels"), ("post", "/api/customers/labels"),
    ("post", "/api/customers/labels/assign"), ("post", "/api/customers/labels/unassign"),
    ("get", "/api/customers/todos"), ("post", "/api/customers/todos"), ("put", "/api/customers/todos"),
    ("delete", "/api/customers/todos"), ("get", f"/api/customers/companies/{PID}/roles"),
    ("post", f"/api/customers/companies/{PID}/roles"), ("put", f"/api/customers/companies/{PID}/roles"),
    ("delete", f"/api/customers/companies/{PID}/roles"), ("get", f"/api/customers/people/{PID}/roles"),
    ("post", f"/api/customers/people/{PID}/roles"), ("get", "/api/customers/dictionaries/statuses"),
    ("post", "/api/customers/dictionaries/statuses"), ("patch", f"/api/customers/dictionaries/statuses/{PID}"),
    ("delete", f"/api/customers/dictionaries/statuses/{PID}"), ("get", "/api/customers/dictionaries/currency"),
    ("get", "/api/customers/dictionaries/kind-settings"), ("patch", "/api/customers/dictionaries/kind-settings"),
    ("get", "/api/customers/settings/address-format"), ("put", "/api/customers/settings/address-format"),
    ("get", "/api/customers/settings/dictionary-sort-modes"),
    ("patch", "/api/customers/settings/dictionary-sort-modes"), ("get", "/api/customers/settings/stuck-threshold"),
    ("put", "/api/customers/settings/stuck-threshold"), ("get", "/api/customers/dashboard/widgets/customer-todos"),
    ("get", "/api/customers/dashboard/widgets/new-customers"), ("get", "/api/customers/dashboard/widgets/new-deals"),
    ("get", "/api/customers/dashboard/widgets/next-interactions"), ("post", f"/api/customers/people/{PID}/emails"),
    ("get", f"/api/customers/people/{PID}/email-threads"), ("get", "/api/customers/assignable-staff"),
    ("get", "/api/staff/team-members/assignable"),
]
EMPLOYEE_FORBIDDEN = {
    ("post", "/api/customers/interactions"): ["customers.interactions.manage"],
    ("post", "/api/customers/todos"): ["customers.interactions.manage"],
    ("post", "/api/customers/dictionaries/statuses"): ["customers.settings.manage"],
    ("patch", "/api/customers/dictionaries/kind-settings"): ["customers.settings.manage"],
    ("put", "/api/customers/settings/address-format"): ["customers.settings.manage"],
    ("get", "/api/customers/todos"): ["customers.view"],
}


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_anonymous_is_unauthorized(anon, method: str, path: str) -> None:  # noqa: ANN001
    res = await getattr(anon, method)(path)
    assert res.status_code == 401 and res.json() == {"error": "Unauthorized"}


@pytest.mark.parametrize(("method", "path"), list(EMPLOYEE_FORBIDDEN))
async def test_employee_lacks_manage_features(employee, method: str, path: str) -> None:  # noqa: ANN001
    res = await getattr(employee, method)(path, json={})
    assert res.status_code == 403
    assert res.json() == {"error": "Forbidden", "requiredFeatures": EMPLOYEE_FORBIDDEN[(method, path)]}
