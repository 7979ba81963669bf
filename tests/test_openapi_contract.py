"""Property-based run over our own OpenAPI document: no endpoint may answer 5xx, whatever it is sent.

The schema is the document the application serves, so every module's endpoints are covered as soon as they are
registered. Each operation is one test (`test_no_server_errors[GET /directory/tenants]`), called as the demo admin
against a real server on its own demo database, with a few deterministic examples (valid and invalid input).
Skip with `-m "not fuzz"`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from mercato.kernel.app import create_app
from mercato.kernel.module import Registry
from mercato.kernel.openapi import build_openapi
from mercato.kernel.settings import Settings
from tests.modules.api_docs.live import LiveServer, live_server

pytestmark = pytest.mark.fuzz

MAX_EXAMPLES = 5
REQUEST_TIMEOUT = 5
STREAM_TIMEOUT = 1  # an event stream never ends: read it this long, then judge its status


def is_event_stream(method: str, path: str) -> bool:
    responses = DOCUMENT["paths"][path][method.lower()].get("responses") or {}
    return any("text/event-stream" in (r.get("content") or {}) for code, r in responses.items() if code.startswith("2"))


def served_document() -> dict:
    """The document exactly as the application builds it (routes only; no database is touched)."""
    app_settings = Settings(DATABASE_URL="sqlite+aiosqlite:///:memory:", APP_URL="http://127.0.0.1", JWT_SECRET="fuzz")
    return build_openapi(create_app(app_settings, Registry.load(app_settings.module_ids)))


DOCUMENT = served_document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=SchemathesisConfig.from_dict({
    "phases": {"examples": {"enabled": True}, "fuzzing": {"enabled": True},
               "coverage": {"enabled": False}, "stateful": {"enabled": False}},
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "mode": "all",
                   "with-security-parameters": False, "database": "none"},
    "request-timeout": REQUEST_TIMEOUT,
}))


class AdminSession:
    """The demo admin's token; fetched again if a fuzzed call (logout, session revocation) invalidated it."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.lock = threading.Lock()
        self.http = requests.Session()  # keep-alive across the run
        self.token = self._login()

    def _login(self) -> str:
        for email in ("admin@acme.com", "superadmin@acme.com"):
            token = self.server.login(email)
            if token:
                return token
        raise AssertionError(f"cannot log in as the demo admin any more:\n{self.server.log_tail()}")

    def still_valid(self) -> bool:
        res = httpx.get(f"{self.server.url}/api/auth/profile", headers={"authorization": f"Bearer {self.token}"},
                        timeout=10)
        return res.status_code != 401

    def renew(self) -> None:
        with self.lock:
            self.token = self._login()


@pytest.fixture(scope="module")
async def fuzz_server():  # noqa: ANN201
    async with live_server(RATE_LIMIT_ENABLED="false") as server:
        yield server


@pytest.fixture(scope="module")
def admin_session(fuzz_server: LiveServer) -> Iterator[AdminSession]:
    session = AdminSession(fuzz_server)
    yield session
    session.http.close()


def test_every_documented_operation_is_fuzzed() -> None:
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {(m.upper(), p) for p, item in DOCUMENT["paths"].items() for m in item}
    assert {(op.method.upper(), op.path) for op in operations} == documented
    assert ("GET", "/version") in documented


@schema.parametrize()
@settings(deadline=None, derandomize=True, database=None, max_examples=MAX_EXAMPLES,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, fuzz_server: LiveServer, admin_session: AdminSession) -> None:  # noqa: ANN001
    base_url = f"{fuzz_server.url}/api"
    timeout = STREAM_TIMEOUT if is_event_stream(case.method, case.operation.path) else REQUEST_TIMEOUT

    def call():  # noqa: ANN202
        return case.call(base_url=base_url, session=admin_session.http,
                         headers={"Authorization": f"Bearer {admin_session.token}"}, timeout=timeout)

    response = call()
    if response.status_code == 401 and not admin_session.still_valid():
        admin_session.renew()
        response = call()
    if response.status_code >= 500:
        body = response.text[:1000] if hasattr(response, "text") else response.content[:1000]
        pytest.fail(
            f"{case.method} {case.path} answered {response.status_code}\n"
            f"request: {case.as_curl_command(headers={'Authorization': 'Bearer <admin token>'})}\n"
            f"response: {body}\nserver log:\n{fuzz_server.log_tail()}"
        )
