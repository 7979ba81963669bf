"""Module `warehouse` ("Magazyn"): products and stock, buyer profiles, orders, packing, analytics, forecast, BDO."""

from mercato.kernel.module import EventDecl, Feature, Module


def _routers():  # noqa: ANN202
    from mercato.modules.warehouse import bdo, orders, products, profiles, transitions  # noqa: F401 - commands
    from mercato.modules.warehouse.routes import router

    return [router]


def _setup(ctx):  # noqa: ANN001, ANN202
    from mercato.modules.warehouse.setup import seed_defaults

    return seed_defaults(ctx)


def _demo(ctx):  # noqa: ANN001, ANN202
    from mercato.modules.warehouse import orders, products, profiles, transitions  # noqa: F401 - commands
    from mercato.modules.warehouse.setup import seed_demo

    return seed_demo(ctx)


def _event(event_id: str, label: str, category: str) -> EventDecl:
    return EventDecl(event_id, label, entity=event_id.rsplit(".", 1)[0], category=category)


module = Module(
    id="warehouse",
    title="Magazyn",
    description="Order-to-shipment warehouse: products and stock, buyer profiles, orders, packing, reports.",
    features=[
        Feature("magazyn.products", "Manage warehouse products and stock"),
        Feature("magazyn.customer_profiles", "Manage warehouse buyer profiles"),
        Feature("magazyn.orders", "List and create warehouse orders"),
        Feature("magazyn.orders.detail", "View order details and change order status"),
        Feature("magazyn.packing", "View the packing queue"),
        Feature("magazyn.analytics", "View warehouse sales and stock analytics"),
        Feature("magazyn.forecast", "View demand forecast and reorder suggestions"),
        Feature("magazyn.bdo_report", "Generate the BDO packaging report"),
    ],
    events=[
        _event("magazyn.product.created", "Product created", "crud"),
        _event("magazyn.product.updated", "Product updated", "crud"),
        _event("magazyn.product.deleted", "Product deleted", "crud"),
        _event("magazyn.product.stock_adjusted", "Product stock adjusted", "custom"),
        _event("magazyn.product.low_stock", "Product low on stock", "lifecycle"),
        _event("magazyn.stock_movement.created", "Stock movement created", "crud"),
        _event("magazyn.customer_profile.created", "Customer profile created", "crud"),
        _event("magazyn.customer_profile.updated", "Customer profile updated", "crud"),
        _event("magazyn.customer_profile.deleted", "Customer profile deleted", "crud"),
        _event("magazyn.order.created", "Order created", "crud"),
        _event("magazyn.order.deleted", "Order deleted", "crud"),
        _event("magazyn.order.status_changed", "Order status changed", "lifecycle"),
        _event("magazyn.order.confirmed", "Order confirmed", "lifecycle"),
        _event("magazyn.order.shipped", "Order shipped", "lifecycle"),
        _event("magazyn.order.cancelled", "Order cancelled", "lifecycle"),
        _event("magazyn.order.returned", "Order returned", "lifecycle"),
        _event("magazyn.packing_task.created", "Packing task created", "crud"),
        _event("magazyn.packing_task.completed", "Packing task completed", "lifecycle"),
    ],
    default_grants={
        "superadmin": ["magazyn.*"],
        "admin": ["magazyn.*"],
        "employee": ["magazyn.products", "magazyn.customer_profiles", "magazyn.orders", "magazyn.orders.detail",
                     "magazyn.packing"],
    },
    routers=_routers,
    models="mercato.modules.warehouse.models",
    setup=_setup,
    demo=_demo,
    order=120,
)
