"""Delivery subscriber: email rendering and module-registered strategies (contract §2.6.5)."""

from __future__ import annotations

import uuid

from mercato.kernel.jobs import drain
from mercato.kernel.module import Module
from mercato.modules.notifications import delivery
from tests.modules.feature_toggles.helpers import stamp
from tests.modules.notifications.test_inbox import BASE, send, user_id


class ProbeStrategy:
    def __init__(self, strategy_id: str, default_enabled: bool) -> None:
        self.id = strategy_id
        self.priority = 10
        self.default_enabled = default_enabled
        self.calls: list[tuple[dict, object]] = []

    async def deliver(self, app, payload: dict, config: object) -> None:  # noqa: ANN001
        self.calls.append((payload, config))


async def test_email_and_strategies(app, superadmin, db, monkeypatch) -> None:
    sent = []
    monkeypatch.setattr(delivery, "send_email", lambda settings, message: sent.append(message))
    monkeypatch.setattr(app.state.settings, "smtp_host", "smtp.example.test")
    enabled = ProbeStrategy(f"on{stamp()}", default_enabled=False)
    disabled = ProbeStrategy(f"off{stamp()}", default_enabled=True)
    probe = Module(id="qa_delivery_probe", title="probe", providers={"notification_strategies": [enabled, disabled]})
    app.state.registry.modules.append(probe)
    settings_before = (await superadmin.get(f"{BASE}/settings")).json()["settings"]
    try:
        config = {"appUrl": "https://crm.example.test/", "panelPath": "/backend/notifications",
                  "strategies": {"email": {"enabled": True, "from": "crm@example.test", "subjectPrefix": "[CRM]"},
                                 "custom": {enabled.id: {"enabled": True, "config": {"k": "v"}},
                                            disabled.id: {"enabled": False}}}}
        assert (await superadmin.post(f"{BASE}/settings", json=config)).status_code == 200
        me = await user_id(db, "superadmin@acme.com")
        entity = str(uuid.uuid4())
        nid = await send(superadmin, me, title="Deal {name} won", titleVariables={"name": "ACME"}, body="Body",
                         sourceEntityId=entity, actions=[{"id": "open", "label": "Open", "href": "/backend/deals/{sourceEntityId}"},
                                                         {"id": "ack", "label": "Ack"}])
        await drain()
        mails = [m for m in sent if f"notificationId={nid}" in m.get_body(("plain",)).get_content()]
        assert len(mails) == 1
        mail = mails[0]
        assert mail["Subject"] == "[CRM] Deal ACME won" and mail["To"] == "superadmin@acme.com"
        assert mail["From"] == "crm@example.test"
        text = mail.get_body(("plain",)).get_content()
        assert f"Open: https://crm.example.test/backend/deals/{entity}" in text
        assert f"https://crm.example.test/backend/notifications?notificationId={nid}" in text
        calls = [c for c in enabled.calls if c[0]["notificationId"] == nid]
        assert len(calls) == 1 and calls[0][1] == {"k": "v"}
        payload = calls[0][0]
        assert payload["actions"][1]["href"] == f"https://crm.example.test/backend/notifications?notificationId={nid}"
        assert not [c for c in disabled.calls if c[0]["notificationId"] == nid]
        # email disabled: nothing is sent
        sent.clear()
        config["strategies"]["email"]["enabled"] = False
        await superadmin.post(f"{BASE}/settings", json=config)
        await send(superadmin, me)
        await drain()
        assert sent == []
    finally:
        app.state.registry.modules.remove(probe)
        await superadmin.post(f"{BASE}/settings", json=settings_before)
