"""Helpers of the dictionaries suite."""

from __future__ import annotations

from mercato.kernel.commands import decode_operation
from tests.modules.feature_toggles.helpers import stamp

BASE = "/api/dictionaries"
UNDO = "/api/audit_logs/audit-logs/actions/undo"
REDO = "/api/audit_logs/audit-logs/actions/redo"


async def new_dictionary(api, **fields) -> dict:  # noqa: ANN001, ANN003
    body = {"key": f"qa_dict_{stamp()}", "name": f"QA Dictionary {stamp()}", **fields}
    res = await api.post(BASE, json=body)
    assert res.status_code == 201, res.text
    return res.json()


async def new_entry(api, dictionary_id: str, **fields) -> dict:  # noqa: ANN001, ANN003
    res = await api.post(f"{BASE}/{dictionary_id}/entries", json={"value": f"v_{stamp()}", **fields})
    assert res.status_code == 201, res.text
    return res.json()


async def entries(api, dictionary_id: str) -> list[dict]:  # noqa: ANN001
    res = await api.get(f"{BASE}/{dictionary_id}/entries")
    assert res.status_code == 200, res.text
    return res.json()["items"]


def operation(res) -> dict:  # noqa: ANN001
    assert "x-om-operation" in res.headers, res.headers
    return decode_operation(res.headers["x-om-operation"])
