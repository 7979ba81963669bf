"""Module `notifications`: per-user in-app notifications, bulk targeting and delivery settings."""

from mercato.kernel.module import EventDecl, Feature, Module


def _routers():  # noqa: ANN202
    from mercato.modules.notifications.routes import router

    return [router]


def _configure(app):  # noqa: ANN001, ANN202
    from mercato.modules.notifications.delivery import configure

    return configure(app)


module = Module(
    id="notifications",
    title="Notifications",
    description="In-app notifications addressed to users, with delivery strategies.",
    features=[
        Feature("notifications.view", "View notifications"),
        Feature("notifications.create", "Create notifications for other users"),
        Feature("notifications.manage", "Manage notification delivery settings"),
    ],
    events=[
        EventDecl("notifications.notification.created", "Notification created", entity="notification",
                  category="system", client_broadcast=True),
        EventDecl("notifications.notification.batch_created", "Notifications created in bulk", entity="notification",
                  category="system", client_broadcast=True),
    ],
    default_grants={
        "superadmin": ["notifications.*"],
        "admin": ["notifications.*"],
        "employee": ["notifications.view"],
    },
    routers=_routers,
    models="mercato.modules.notifications.models",
    providers={"configure": _configure},
    order=70,
)
