"""Module `audit_logs`: action logs written by the command bus, access logs, undo/redo."""

from mercato.kernel.module import Feature, Module


def _routers():  # noqa: ANN202
    from mercato.modules.audit_logs.routes import router

    return [router]


def _providers() -> dict:
    from mercato.modules.audit_logs.store import AccessLogWriter, ActionLogWriter

    return {"action_log": ActionLogWriter(), "access_log": AccessLogWriter()}


module = Module(
    id="audit_logs",
    title="Audit & Action Logs",
    description="Action history with undo/redo and read-access logs.",
    features=[
        Feature("audit_logs.view_self", "View own audit logs"),
        Feature("audit_logs.view_tenant", "View tenant audit logs"),
        Feature("audit_logs.undo_self", "Undo own actions"),
        Feature("audit_logs.undo_tenant", "Undo tenant actions"),
        Feature("audit_logs.redo_self", "Redo own actions"),
        Feature("audit_logs.redo_tenant", "Redo tenant actions"),
    ],
    default_grants={
        "admin": ["audit_logs.*"],
        "employee": ["audit_logs.view_self", "audit_logs.undo_self"],
    },
    routers=_routers,
    models="mercato.modules.audit_logs.models",
    providers=_providers(),
    order=30,
)
